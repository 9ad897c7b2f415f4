"""The low-score alert: a customer's low answer (CSAT ≤ 2, CES ≤ 3, NPS ≤ 6)
emails ``alerts.low_score_email`` within a minute, so someone can follow up.

The answer page queues it (``queue``) in the answer's own transaction: one
outbox row of kind ``low_score_alert`` per invitation and question, due
GRACE after the answer, so a comment typed right after the one-click score
usually travels with it. A comment sent after the alert went queues one more
(once). The outbox sends it like the store's other mail (an owner kind: no
customer switches, unsubscribes or quiet hours), rendered at send time by
``render`` from the rows as they are then: the order, its parcels and how
late each was, every answer and the comment, and a link to the order's
timeline in the Shopify admin. An answer changed to a good one before the
alert goes skips it (``settle_reason``). Plain text in English: it goes to
the store's staff, whose language the app does not know. Nothing of the
customer is kept in the row itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import settings
from ..models import Notification, NotificationStatus, Order, Shop
from ..tracking import order_view
from .invitations import days_late
from .kinds import SurveyKind
from .models import SurveyInvitation, SurveyResponse

KIND = "low_score_alert"
GRACE = timedelta(seconds=30)


def _insert(session: Session, values: dict) -> int:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return session.execute(dialect.insert(Notification.__table__).values(**values).on_conflict_do_nothing(
        index_elements=["shop_id", "dedupe_key"])).rowcount


def queue(session: Session, shop: Shop, invitation: SurveyInvitation, low: list[str], *, commented: bool,
          now: datetime) -> int:
    """Queue the alert for each question answered low (and, with a new
    comment, one more if an alert of this survey already went); the number of
    rows added. Nothing without ``alerts.low_score_email``."""
    address = settings.get(session, shop.id, "alerts.low_score_email")
    if not address:
        return 0
    keys = [f"{KIND}:{invitation.id}:{kind}" for kind in low]
    if commented:
        sent = session.scalar(select(Notification.id).where(
            Notification.shop_id == shop.id, Notification.kind == KIND,
            Notification.dedupe_key.like(f"{KIND}:{invitation.id}:%"),
            Notification.status == NotificationStatus.SENT.value).limit(1))
        if sent is not None:
            keys.append(f"{KIND}:{invitation.id}:comment")
    return sum(_insert(session, {
        "shop_id": shop.id, "order_id": invitation.order_id, "kind": KIND, "channel": "email",
        "recipient": address, "dedupe_key": key, "context": {"invitation_id": invitation.id},
        "status": NotificationStatus.PENDING.value, "attempts": 0, "next_attempt_at": now + GRACE,
        "created_at": now,
    }) for key in keys)


def _load(session: Session, shop: Shop, notification: Notification):
    invitation = session.scalar(select(SurveyInvitation).where(
        SurveyInvitation.shop_id == shop.id,
        SurveyInvitation.id == (notification.context or {}).get("invitation_id")))
    order = None
    if invitation is not None:
        order = session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == invitation.order_id))
    if invitation is None or order is None:
        raise LookupError("the survey was erased before the alert could be sent")
    answers = list(session.scalars(select(SurveyResponse).where(
        SurveyResponse.shop_id == shop.id, SurveyResponse.invitation_id == invitation.id)
        .order_by(SurveyResponse.id)))
    return invitation, order, answers


def settle_reason(session: Session, shop: Shop, notification: Notification) -> str | None:
    """Why a queued alert need not go any more: every answer is good now."""
    try:
        _invitation, _order, answers = _load(session, shop, notification)
    except LookupError:
        return "survey erased"
    if not any(SurveyKind(a.kind).scale.is_low(a.score) for a in answers):
        return "the answer was changed to a good one"
    return None


def timeline_url(shop: Shop, order: Order) -> str:
    """The order's timeline in the admin, opened inside Shopify's admin (the
    staff member signs in there; the link itself grants nothing)."""
    query = urlencode({"q": order.name or ""})
    return f"https://{shop.domain}/admin/apps/{current_app.config['SHOPIFY_API_KEY']}/app/orders?{query}"


def _line(value: object) -> str:
    return " ".join(str(value or "").split())


def _lateness(shop: Shop, fulfillment) -> str:
    late = days_late(fulfillment.delivered_at, fulfillment.estimated_delivery_at, shop.iana_timezone)
    if late is None:
        return "lateness unknown (no estimate)" if fulfillment.delivered_at else "not delivered yet"
    if late <= 0:
        return "on time" if late == 0 else f"{-late} day{'s' if late < -1 else ''} early"
    return f"{late} day{'s' if late > 1 else ''} late"


def render(session: Session, shop: Shop, notification: Notification, config: dict) -> EmailMessage:
    """The outbox's renderer for ``low_score_alert``."""
    invitation, order, answers = _load(session, shop, notification)
    low = [a for a in answers if SurveyKind(a.kind).scale.is_low(a.score)] or answers
    first = low[0] if low else None
    about = "their return" if invitation.touchpoint == "return" else "their delivery"
    view = order_view(session, shop, order, locale="en")
    lines = [f"A customer gave a low score about {about} of order {_line(order.name)}.", ""]
    for a in answers:
        scale = SurveyKind(a.kind).scale
        flag = "  <- low" if scale.is_low(a.score) else ""
        lines.append(f"{a.kind.upper():<5} {a.score} on {scale.min}-{scale.max}: {SurveyKind(a.kind).question}{flag}")
    comment = next((a.comment for a in answers if a.comment), None)
    lines += ["", "Their comment:" if comment else "No comment (yet)."]
    if comment:
        lines += [f"> {line}" for line in comment.split("\n")]
    lines += [
        "",
        f"Order:    {_line(order.name)}" + (f" (ordered {view['ordered_at']})" if view["ordered_at"] else ""),
        f"Customer: {_line(order.customer_first_name) or '-'}"
        + (f", shipping to {_line(order.shipping_city)}" if order.shipping_city else ""),
        f"Reply to: {_line(order.email) or _line(order.phone) or '-'}",
        "", "Parcels:",
    ]
    fulfillments = [f for f in order.fulfillments if f.status not in ("cancelled", "error", "failure")]
    if not view["parcels"]:
        lines.append("  None shipped.")
    for parcel, fulfillment in zip(view["parcels"], fulfillments):  # order_view numbers them in this order
        lines.append(f"  Parcel {parcel['number']} of {parcel['count']}: {parcel['headline']}"
                     + (f", {_line(parcel['carrier'])}" if parcel["carrier"] else "")
                     + f": {_lateness(shop, fulfillment)}")
        for t in parcel["tracking"]:
            lines.append("    Tracking: " + " ".join(_line(x) for x in (t["number"], t["url"]) if x))
        if parcel["estimated_delivery"]:
            lines.append(f"    Estimated delivery: {parcel['estimated_delivery']}")
        if parcel["delivered_at"]:
            lines.append(f"    Delivered {parcel['delivered_at']}")
    lines += ["", f"Follow up from the order's timeline: {timeline_url(shop, order)}"]
    message = EmailMessage()
    score = f" ({first.kind.upper()} {first.score})" if first else ""
    message["Subject"] = f"Low survey score{score} for order {_line(order.name)}"[:200]
    _, reply_to = parseaddr(order.email or "")
    if "@" in reply_to and _line(reply_to) == reply_to:
        message["Reply-To"] = reply_to
    message.set_content("\n".join(lines) + "\n")
    return message
