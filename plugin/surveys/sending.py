"""When a survey invitation is due, and putting it into the outbox.

A worker job (``job``, registered by create_app) scans at most every
SCAN_EVERY for

- delivery: orders whose last parcel was delivered (or, for a parcel whose
  carrier never reports delivery, shipped FALLBACK ago) at least
  ``survey.delay_hours`` ago, asking the shop's ``survey.kinds``;
- return: return requests closed at least ``survey.delay_hours`` ago, when
  ``survey.after_return`` is on, asking CES about the return;

and makes one invitation for each (``delivery-<order id>``,
``return-<request id>``: unique per shop, so two workers deciding the same
one make one row), then one `survey` outbox row through the notifications'
``enqueue`` (switch, unsubscribe from surveys, quiet hours, dedupe key).

Never for a cancelled, test or fully refunded order (a return's survey
excepted: a refund is how a return ends); never to an address unsubscribed
from surveys, nor to one that got an invitation in the last
``survey.cap_days``: those are recorded as ``skipped`` and never sent. While
a parcel has a delivery exception (failed, attempted, delayed, waiting on the
customer) or the order has an open return, the delivery survey waits, and
goes once that resolves. Deliveries older than RECENT are not surveyed (a
backfill of last year's orders must not mail last year's customers).

The outbox checks again at send time (``settle_reason``) and tells this
module what became of the message (``finished``): sent starts the answer
window; skipped skips the invitation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import settings
from ..db import worker_session
from ..models import Fulfillment, Notification, NotificationStatus, Order, Shop, utcnow
from ..notifications import steps
from ..notifications.enqueue import enqueue, recipient
from ..notifications.kinds import Kind
from ..notifications.suppressions import Category, address_hash, is_suppressed
from ..returns.models import ReturnRequest, ReturnStatus
from .invitations import invite, mark_sent
from .kinds import SurveyKind, Touchpoint
from .models import InvitationStatus, SurveyInvitation

SCAN_EVERY = timedelta(minutes=1)
MIN_DELAY = timedelta(hours=1)  # the least survey.delay_hours allows
FALLBACK = timedelta(days=10)
RECENT = timedelta(days=30)
# A parcel in one of these (not delivered) holds the order's survey.
EXCEPTIONS = frozenset({"failure", "attempted_delivery", "returning_to_sender", "buyer_action_required",
                        "delayed", "ready_for_pickup", "ready_for_recipient_pickup"})
REFUNDED = frozenset({"refunded", "voided"})
OPEN_RETURNS = tuple(s.value for s in ReturnStatus if not s.resolved)
_LAST_SCAN = "aftercare.surveys.last_scan"


def delivery_key(order_id: int) -> str:
    return f"delivery-{order_id}"


def return_key(request_id: int) -> str:
    return f"return-{request_id}"


# --- deciding ---------------------------------------------------------------------

def delivered_moment(order: Order) -> tuple[datetime | None, str | None]:
    """(when the order counts as delivered, why it must wait). The moment is
    its last parcel's delivery, a parcel never reported delivered counting
    FALLBACK after it shipped; it may lie in the future."""
    shipped = [f for f, _ in steps.parcels(order)]
    if not shipped or order.fulfillment_status == "partial":
        return None, "not all shipped"
    moments = []
    for parcel in shipped:
        if parcel.delivered_at is not None:
            moments.append(parcel.delivered_at)
        elif parcel.shipment_status in EXCEPTIONS or parcel.delayed_at is not None:
            return None, "delivery exception"
        else:
            moments.append((parcel.shopify_created_at or parcel.created_at) + FALLBACK)
    return max(moments), None


def open_return(session: Session, shop_id: int, order_id: int) -> bool:
    return session.scalar(select(ReturnRequest.id).where(
        ReturnRequest.shop_id == shop_id, ReturnRequest.order_id == order_id,
        ReturnRequest.status.in_(OPEN_RETURNS)).limit(1)) is not None


def _hashes(address: str) -> list[str]:
    config = current_app.config
    return [address_hash(address, key) for key in (config["SECRET_KEY"], config.get("SECRET_KEY_PREVIOUS")) if key]


def capped(session: Session, shop_id: int, address: str, cap_days: int, now: datetime) -> bool:
    """The address got (or is about to get) an invitation within ``cap_days``."""
    if not cap_days:
        return False
    return session.scalar(select(SurveyInvitation.id).where(
        SurveyInvitation.shop_id == shop_id,
        SurveyInvitation.recipient_hash.in_(_hashes(address)),
        SurveyInvitation.status != InvitationStatus.SKIPPED.value,
        SurveyInvitation.created_at > now - timedelta(days=cap_days)).limit(1)) is not None


def _make(session: Session, shop: Shop, order: Order, config: dict, now: datetime, *, touchpoint: Touchpoint,
          kinds: list[str], key: str, return_request_id: int | None = None) -> str:
    """Record the invitation and queue its email, or record it skipped;
    what happened ("queued", "skipped: why", "exists")."""
    to = recipient(order, "email")
    why = None
    if to is None:
        why = "no email address"
    elif is_suppressed(session, shop.id, to, Category.SURVEYS):
        why = "unsubscribed from surveys"
    elif capped(session, shop.id, to, config["survey.cap_days"], now):
        why = "capped: an invitation went to this address recently"
    try:
        with session.begin_nested():
            invitation = invite(session, shop, order, touchpoint=touchpoint, kinds=kinds, due_at=now,
                                locale=order.locale, recipient_hash=_hashes(to)[0] if to else None,
                                return_request_id=return_request_id, dedupe_key=key)
    except IntegrityError:
        return "exists"  # another worker decided it first
    if why is None and not enqueue(session, shop, order, Kind.SURVEY, key, {"invitation_id": invitation.id},
                                   config, now):
        why = "switched off"
    if why is not None:
        invitation.status = InvitationStatus.SKIPPED.value
        return f"skipped: {why}"
    return "queued"


def decide_delivery(session: Session, shop: Shop, order: Order, config: dict, now: datetime) -> str:
    """What the order's delivery survey does now: "queued", "skipped: …",
    "waiting: …" (decided again at the next scan) or "exists"."""
    if not steps.sendable(order):
        return "waiting: order not notifiable"  # cancelled and test orders are not scanned
    if (order.financial_status or "") in REFUNDED:
        return "waiting: refunded"
    if not config["survey.kinds"]:
        return "waiting: no survey kinds"
    moment, held = delivered_moment(order)
    if held:
        return f"waiting: {held}"
    if moment < now - RECENT:
        return "waiting: delivered too long ago"
    if moment + timedelta(hours=config["survey.delay_hours"]) > now:
        return "waiting: not due yet"
    if open_return(session, shop.id, order.id):
        return "waiting: open return"
    return _make(session, shop, order, config, now, touchpoint=Touchpoint.DELIVERY, kinds=config["survey.kinds"],
                 key=delivery_key(order.id))


def decide_return(session: Session, shop: Shop, request: ReturnRequest, config: dict, now: datetime) -> str:
    """What a closed return's survey does now (see decide_delivery)."""
    order = session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == request.order_id))
    if order is None or not steps.sendable(order):
        return "waiting: order not notifiable"
    if not config["survey.after_return"]:
        return "waiting: switched off"
    closed = request.closed_at or request.resolved_at or request.updated_at
    if request.status != ReturnStatus.CLOSED.value or closed < now - RECENT:
        return "waiting: not closed"
    if closed + timedelta(hours=config["survey.delay_hours"]) > now:
        return "waiting: not due yet"
    return _make(session, shop, order, config, now, touchpoint=Touchpoint.RETURN, kinds=[SurveyKind.CES.value],
                 key=return_key(request.id), return_request_id=request.id)


# --- the scan ----------------------------------------------------------------------

def _delivery_candidates(session: Session, now: datetime) -> list[tuple[int, int]]:
    """(order id, shop id) of recent shipped orders without a delivery survey.
    Like the delay scan, this one query spans shops; the rest is per shop."""
    shipped = func.coalesce(Fulfillment.shopify_created_at, Fulfillment.created_at)
    # Only orders with a parcel delivered at least the shortest delay ago, or
    # shipped FALLBACK ago: parcels on their way are not read every minute.
    recent_parcel = exists().where(
        Fulfillment.shop_id == Order.shop_id, Fulfillment.order_id == Order.id,
        or_(Fulfillment.delivered_at.between(now - RECENT - FALLBACK, now - MIN_DELAY),
            and_(Fulfillment.delivered_at.is_(None), shipped.between(now - RECENT - FALLBACK, now - FALLBACK))))
    surveyed = exists().where(
        SurveyInvitation.shop_id == Order.shop_id, SurveyInvitation.order_id == Order.id,
        SurveyInvitation.touchpoint == Touchpoint.DELIVERY.value)
    return [tuple(row) for row in session.execute(
        select(Order.id, Order.shop_id).join(Shop, Shop.id == Order.shop_id)
        .where(Shop.uninstalled_at.is_(None), Order.cancelled_at.is_(None), Order.test.is_(False),
               recent_parcel, ~surveyed)
        .order_by(Order.shop_id, Order.id))]


def _return_candidates(session: Session, now: datetime) -> list[tuple[int, int]]:
    surveyed = exists().where(
        SurveyInvitation.shop_id == ReturnRequest.shop_id, SurveyInvitation.return_request_id == ReturnRequest.id,
        SurveyInvitation.touchpoint == Touchpoint.RETURN.value)
    return [tuple(row) for row in session.execute(
        select(ReturnRequest.id, ReturnRequest.shop_id).join(Shop, Shop.id == ReturnRequest.shop_id)
        .where(Shop.uninstalled_at.is_(None), ReturnRequest.status == ReturnStatus.CLOSED.value,
               or_(ReturnRequest.closed_at >= now - RECENT,
                   and_(ReturnRequest.closed_at.is_(None), ReturnRequest.updated_at >= now - RECENT)),
               ~surveyed)
        .order_by(ReturnRequest.shop_id, ReturnRequest.id))]


def scan(app: Flask, now: datetime) -> int:
    """Decide every candidate's survey; the number of invitations queued."""
    queued = 0
    with worker_session(app) as session, session.begin():
        configs: dict[int, dict] = {}
        for order_id, shop_id in _delivery_candidates(session, now):
            shop = session.get(Shop, shop_id)
            config = configs.setdefault(shop_id, settings.load(session, shop_id))
            order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == order_id))
            queued += decide_delivery(session, shop, order, config, now) == "queued"
        for request_id, shop_id in _return_candidates(session, now):
            shop = session.get(Shop, shop_id)
            config = configs.setdefault(shop_id, settings.load(session, shop_id))
            request = session.scalar(select(ReturnRequest).where(
                ReturnRequest.shop_id == shop_id, ReturnRequest.id == request_id))
            queued += decide_return(session, shop, request, config, now) == "queued"
    return queued


def job(clock: Callable[[], datetime] = utcnow, every: timedelta = SCAN_EVERY) -> Callable[[Flask], int]:
    """The worker job: a scan, at most ``every`` per worker process."""
    def process_due(app: Flask) -> int:
        now = clock()
        last = app.extensions.get(_LAST_SCAN)
        if last is not None and now - last < every:
            return 0
        app.extensions[_LAST_SCAN] = now
        return scan(app, now)
    return process_due


# --- what the outbox asks ------------------------------------------------------------

def _invitation(session: Session, row: Notification) -> SurveyInvitation | None:
    return session.scalar(select(SurveyInvitation).where(
        SurveyInvitation.shop_id == row.shop_id, SurveyInvitation.id == (row.context or {}).get("invitation_id")))


def settle_reason(session: Session, order: Order, row: Notification) -> str | None:
    """Why a queued invitation must not go after all (checked when the outbox
    claims it); None when it may go."""
    invitation = _invitation(session, row)
    if invitation is None or invitation.status in (InvitationStatus.ERASED.value, InvitationStatus.SKIPPED.value):
        return "survey erased"
    if invitation.touchpoint == Touchpoint.DELIVERY.value and (order.financial_status or "") in REFUNDED:
        return "order refunded"
    return None


def finished(session: Session, row: Notification) -> None:
    """The outbox settled a survey row: sent opens the invitation to answers
    (for ANSWER_WINDOW); skipped skips it. A failed one stays pending: it can
    be retried (`aftercare notifications retry`)."""
    invitation = _invitation(session, row)
    if invitation is None or invitation.status != InvitationStatus.PENDING.value:
        return
    if row.status == NotificationStatus.SENT.value:
        mark_sent(invitation, at=row.sent_at, notification_id=row.id)
    elif row.status == NotificationStatus.SKIPPED.value:
        invitation.status = InvitationStatus.SKIPPED.value
