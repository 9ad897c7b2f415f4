"""Messages about a shopper's return request: when one is due, and what it says.

A return request moves requested → approved (with the merchant's
instructions) or declined (with a reason) → received → refunded → closed,
whether the admin acts here (returns.act) or in Shopify's own admin (the
returns/* and refunds/create webhooks). Each of these calls ``queue`` after
changing the request, in the same transaction; ``queue`` inserts the message
for the status the request is in now, if that status has one:

- requested → `return_requested`, approved → `return_approved`,
  declined → `return_declined`, refunded → `return_refunded`;
- the dedupe key is ``<kind>:<channel>:return-<request id>``: one message per
  request and status, so a second click, a replayed webhook, or Shopify
  echoing back what the admin did here sends nothing twice.

Return messages are transactional: the shopper asked for the return, so an
unsubscribe from shipping updates does not stop them (the shop's switch for
the kind does). They have no unsubscribe link. `return_requested` also skips
quiet hours: the shopper is waiting for it at that moment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import settings
from ..models import Notification, Order, Shop, utcnow
from ..returns.models import ReturnRequest, ReturnStatus
from .enqueue import enqueue
from .i18n import Format, gettext
from .kinds import Kind
from .steps import sendable

STATUS_KINDS: dict[ReturnStatus, Kind] = {
    ReturnStatus.REQUESTED: Kind.RETURN_REQUESTED,
    ReturnStatus.APPROVED: Kind.RETURN_APPROVED,
    ReturnStatus.DECLINED: Kind.RETURN_DECLINED,
    ReturnStatus.REFUNDED: Kind.RETURN_REFUNDED,
}


def _(message: str) -> str:
    """Marks a string for extraction; translated where it is shown."""
    return message


# Shopify's ReturnReason, as the shopper would say it.
REASONS = {
    "COLOR": _("Colour"),
    "DEFECTIVE": _("Damaged or defective"),
    "NOT_AS_DESCRIBED": _("Not as described"),
    "OTHER": _("Other"),
    "SIZE_TOO_LARGE": _("Too large"),
    "SIZE_TOO_SMALL": _("Too small"),
    "STYLE": _("Style"),
    "UNWANTED": _("No longer wanted"),
    "WRONG_ITEM": _("Wrong item received"),
}

# Shopify's ReturnDeclineReason, in plain words.
DECLINE_REASONS = {
    "RETURN_PERIOD_ENDED": _("The return period for this order has ended."),
    "FINAL_SALE": _("These items were sold as final sale and cannot be returned."),
    "OTHER": _("The store could not accept this return."),
}


def dedupe_subject(request_id: int) -> str:
    return f"return-{request_id}"


def queue(session: Session, shop_id: int, request: ReturnRequest, now: datetime | None = None,
          status: ReturnStatus | None = None) -> int:
    """Insert the message for the request's current status (or ``status``), on
    each channel the shop has switched on; the number of new outbox rows (0
    when the status has no message, it was already queued, or the order
    cannot be told)."""
    kind = STATUS_KINDS.get(status or request.state)
    shop = session.get(Shop, shop_id)
    if kind is None or shop is None or not shop.installed:
        return 0
    order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.id == request.order_id))
    if order is None or not sendable(order):
        return 0
    session.flush()  # a new request needs its id for the dedupe key
    return enqueue(session, shop, order, kind, dedupe_subject(request.id), {"return_id": request.id},
                   settings.load(session, shop_id), now or utcnow())


def row(session: Session, shop_id: int, request_id: int, kind: Kind, channel: str = "email") -> Notification | None:
    """The outbox row of ``kind`` for a request, if there is one."""
    return session.scalar(select(Notification).where(
        Notification.shop_id == shop_id,
        Notification.dedupe_key == f"{kind.value}:{channel}:{dedupe_subject(request_id)}"))


def load(session: Session, shop: Shop, notification: Notification) -> ReturnRequest | None:
    """The return request an outbox row is about (None for other kinds);
    LookupError when it was erased after the message was queued."""
    if not Kind(notification.kind).is_return:
        return None
    request_id = (notification.context or {}).get("return_id")
    request = session.scalar(select(ReturnRequest).where(
        ReturnRequest.shop_id == shop.id, ReturnRequest.id == request_id,
        ReturnRequest.order_id == notification.order_id))
    if request is None:
        raise LookupError("the return request was erased before the message could be sent")
    return request


def view(request: ReturnRequest, order: Order, fmt: Format) -> dict:
    """What the templates show of a return, in the customer's language.
    Notes and instructions are the text as typed: the HTML templates escape
    them (autoescape) and keep their line breaks (``lines``)."""
    locale = fmt.locale
    titles = {li.shopify_id: li for li in order.line_items}
    items = []
    for item in request.items:
        li = titles.get(item.line_item_shopify_id)
        items.append({
            "title": (li.title if li else None) or gettext(locale, "Item"),
            "variant": li.variant_title if li else None,
            "quantity": item.quantity,
            "reason": gettext(locale, REASONS.get(item.reason, REASONS["OTHER"])),
            "note": _text(item.note),
        })
    decline = gettext(locale, DECLINE_REASONS.get(request.decline_reason or "OTHER", DECLINE_REASONS["OTHER"]))
    return {
        "id": request.id,
        "items": items,
        "note": _text(request.note),
        "instructions": _text(request.instructions),
        "decline_reason": decline,  # shown by the declined message only
        "decline_note": _text(request.decline_note),
    }


def _text(value: str | None) -> dict | None:
    """A note as text and as lines (for <br> between them in HTML)."""
    if not value or not value.strip():
        return None
    lines = [line.rstrip() for line in value.strip().splitlines()]
    return {"text": "\n".join(lines), "lines": lines}
