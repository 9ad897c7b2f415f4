"""Making survey invitations: what the survey asks, and the order's delivery
facts it is later broken down by (carrier, products, days late).

sending.py decides when an invitation is due and queues it as an outbox row;
this module only records it and its snapshot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from ..models import Order, Shop, utcnow
from .kinds import SurveyKind, Touchpoint
from .models import InvitationStatus, SurveyInvitation

# How long after sending an invitation its answers may still be given or changed.
ANSWER_WINDOW = timedelta(days=30)


def days_late(delivered_at: datetime | None, estimated_at: datetime | None, tz: str | None = None) -> int | None:
    """Calendar days between the estimated and the actual delivery, in the
    shop's time zone (a parcel delivered at 18:00 on the estimated day is on
    time): negative when early, None when either date is unknown."""
    if delivered_at is None or estimated_at is None:
        return None
    try:
        zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return (delivered_at.astimezone(zone).date() - estimated_at.astimezone(zone).date()).days


def delivery_context(shop: Shop, order: Order) -> dict:
    """Carrier, products and days late of an order's (latest delivered) parcel."""
    fulfillments = sorted(order.fulfillments, key=lambda f: (f.delivered_at is not None, f.delivered_at or f.created_at
                                                             or utcnow(), f.id or 0))
    parcel = fulfillments[-1] if fulfillments else None
    titles = [li.title for li in order.line_items if li.title]
    return {
        "carrier": parcel.tracking_company if parcel else None,
        "products": list(dict.fromkeys(titles)),
        "days_late": days_late(parcel.delivered_at, parcel.estimated_delivery_at, shop.iana_timezone) if parcel else None,
    }


def invite(session: Session, shop: Shop, order: Order, *, touchpoint: Touchpoint | str, kinds: list[str],
           due_at: datetime, locale: str | None = None, recipient_hash: str | None = None,
           return_request_id: int | None = None, dedupe_key: str | None = None) -> SurveyInvitation:
    """Record a due invitation for ``order`` with its delivery snapshot."""
    if order.shop_id != shop.id:
        raise ValueError("the order belongs to another shop")
    invitation = SurveyInvitation(
        shop_id=shop.id, order_id=order.id, touchpoint=Touchpoint(touchpoint).value,
        kinds=[SurveyKind(k).value for k in kinds], locale=locale, recipient_hash=recipient_hash,
        return_request_id=return_request_id, due_at=due_at, status=InvitationStatus.PENDING.value,
        dedupe_key=dedupe_key,
        **delivery_context(shop, order),
    )
    session.add(invitation)
    session.flush()
    return invitation


def mark_sent(invitation: SurveyInvitation, *, at: datetime | None = None, notification_id: int | None = None) -> None:
    """The invitation went out: answers are accepted from now until it expires."""
    invitation.sent_at = at or utcnow()
    invitation.expires_at = invitation.sent_at + ANSWER_WINDOW
    invitation.notification_id = notification_id
    if invitation.status == InvitationStatus.PENDING.value:
        invitation.status = InvitationStatus.SENT.value
