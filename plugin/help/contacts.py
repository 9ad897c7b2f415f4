"""A shopper's "still need help?" request: recorded, then one email to the
shop's support address through the outbox.

The request is a Contact row (for the dashboard's contacts per 100 orders)
and a Notification of kind ``support_contact`` addressed to
``help.support_email`` (or, when unset, the store owner's address). The
outbox renders it with ``render_support_contact``: the order, each parcel's
state and tracking, the help answers the shopper had already seen, and their
message, with Reply-To set to the order's address so support can answer
directly. The message travels in the notification's context, not in the
contact row.
"""

from __future__ import annotations

import unicodedata
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import settings
from ..models import Notification, NotificationStatus, Order, Shop, utcnow
from .answers import fitting
from .models import Contact

KIND = "support_contact"
MAX_MESSAGE = 5000


class Refused(ValueError):
    """A contact request that cannot be taken; ``reason`` is a short code
    (empty, too_long, no_support_address) the caller shows to the shopper."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def clean_message(message: object) -> str:
    """The message as it will be sent: text, trimmed, no control characters
    but line breaks and tabs, at most MAX_MESSAGE characters."""
    if not isinstance(message, str):
        raise Refused("empty")
    text = "".join(c for c in message.replace("\r\n", "\n")
                   if c in "\n\t" or unicodedata.category(c)[0] != "C").strip()
    if not text:
        raise Refused("empty")
    if len(text) > MAX_MESSAGE:
        raise Refused("too_long")
    return text


def support_address(session: Session, shop: Shop) -> str | None:
    return settings.get(session, shop.id, "help.support_email") or shop.email or None


def contact(session: Session, shop: Shop, order: Order, message: object) -> Contact:
    """Record the request and queue its email; raises Refused before any
    write. The caller commits."""
    text = clean_message(message)
    recipient = support_address(session, shop)
    if recipient is None:
        raise Refused("no_support_address")
    from ..tracking import order_view  # here, not at the top: plugin.models imports this package

    view = order_view(session, shop, order)
    shown = [a["question"] for a in fitting(settings.get(session, shop.id, "help.answers"), view)]
    row = Contact(shop_id=shop.id, order_id=order.id, message_length=len(text), answers_shown=shown,
                  created_at=utcnow())
    session.add(row)
    session.flush()
    session.add(Notification(
        shop_id=shop.id, order_id=order.id, kind=KIND, channel="email", recipient=recipient,
        dedupe_key=f"{KIND}:{row.id}", context={"contact_id": row.id, "message": text},
        status=NotificationStatus.PENDING.value, next_attempt_at=utcnow(),
    ))
    session.flush()
    return row


def _line(value: object) -> str:
    """One header-safe line of text from Shopify data."""
    return " ".join(str(value or "").split())


def render_support_contact(session: Session, shop: Shop, notification: Notification, config: dict) -> EmailMessage:
    """The outbox's renderer for ``support_contact`` (plain text, English:
    it goes to the store's staff, whose language the app does not know)."""
    order = None
    if notification.order_id is not None:
        order = session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == notification.order_id))
    if order is None:
        raise LookupError("the order was erased before the request could be sent")
    contact_row = session.scalar(select(Contact).where(
        Contact.shop_id == shop.id, Contact.id == (notification.context or {}).get("contact_id")))
    from ..tracking import order_view  # see above

    view = order_view(session, shop, order, locale="en")
    lines = [
        f"A customer asked for help with order {_line(order.name)} from the store's tracking page.",
        "",
        f"Order:    {_line(order.name)}" + (f" (ordered {view['ordered_at']})" if view["ordered_at"] else ""),
        f"Customer: {_line(order.customer_first_name) or '-'}"
        + (f", shipping to {_line(order.shipping_city)}" if order.shipping_city else ""),
        f"Reply to: {_line(order.email) or _line(order.phone) or '-'}",
    ]
    if view["cancelled"]:
        lines.append("The order was cancelled.")
    lines += ["", "Their message:", ""]
    lines += [f"> {line}" for line in notification.context.get("message", "").split("\n")]
    lines += ["", "Parcels:"]
    if not view["parcels"]:
        lines.append("  Not shipped yet.")
    for parcel in view["parcels"]:
        lines.append(f"  Parcel {parcel['number']} of {parcel['count']}: {parcel['headline']}"
                     + (f", {_line(parcel['carrier'])}" if parcel["carrier"] else ""))
        for t in parcel["tracking"]:
            lines.append("    Tracking: " + " ".join(_line(x) for x in (t["number"], t["url"]) if x))
        if parcel["delivered_at"]:
            lines.append(f"    Delivered {parcel['delivered_at']}")
        elif parcel["estimated_delivery"]:
            lines.append(f"    Estimated delivery: {parcel['estimated_delivery']}")
        for event in parcel["events"][:3]:
            where = f", {event['place']}" if event["place"] else ""
            said = f" ({_line(event['message'])})" if event["message"] else ""
            lines.append(f"    {event['time']}: {event['label']}{said}{where}")
        for item in parcel["items"]:
            lines.append(f"    {item['quantity']} x {_line(item['title'])}")
    if view["not_yet_shipped"]:
        lines.append("  Not shipped yet: " + ", ".join(
            f"{i['quantity']} x {_line(i['title'])}" for i in view["not_yet_shipped"]))
    shown = contact_row.answers_shown if contact_row else []
    lines += ["", "Help answers they were shown first:"] + ([f"  - {q}" for q in shown] or ["  (none)"])
    message = EmailMessage()
    message["Subject"] = f"Help needed with order {_line(order.name)}"[:200]
    _, reply_to = parseaddr(order.email or "")
    if "@" in reply_to and _line(reply_to) == reply_to:
        message["Reply-To"] = reply_to
    message.set_content("\n".join(lines) + "\n")
    return message
