"""The demo's customer messages: what the outbox holds for each demo order,
and each email as the customer would receive it.

The demo has no mail server, so its messages wait in the outbox (without
AFTERCARE_SMTP_URL the outbox claims nothing). ``email_parts`` renders a row
with the outbox's own ``render_email``, so the demo shows the real message,
signed tracking link included; nothing is sent and nothing is written.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Notification, Shop
from ..notifications import render
from ..notifications.kinds import Kind

# The rendered email is the message's own HTML, not one of our pages: it may
# show its styles and images, never run a script, post a form or be framed.
EMAIL_CSP = "; ".join((
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "img-src https: data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "sandbox allow-popups allow-popups-to-escape-sandbox",
))

_CUSTOMER_KINDS = frozenset(k.value for k in Kind)


def by_order(session: Session, shop_id: int, order_ids: list[int]) -> dict[int, list[dict]]:
    """The shop's messages for these orders, oldest first, by order id."""
    found: dict[int, list[dict]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return found
    rows = session.scalars(select(Notification).where(
        Notification.shop_id == shop_id, Notification.order_id.in_(order_ids)).order_by(Notification.id))
    for row in rows:
        found[row.order_id].append({
            "id": row.id, "kind": row.kind, "channel": row.channel, "status": row.status,
            "recipient": row.recipient, "attempts": row.attempts, "error": row.error,
            "created_at": row.created_at.isoformat(), "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        })
    return found


def email_parts(session: Session, shop: Shop, notification_id: int) -> dict | None:
    """{subject, text, html} of one of the shop's customer emails, rendered
    now as the outbox would send it; None when there is no such email (another
    shop's, an SMS, a message to the store, or its order was erased)."""
    row = session.scalar(select(Notification).where(
        Notification.shop_id == shop.id, Notification.id == notification_id))
    if row is None or row.channel != "email" or row.kind not in _CUSTOMER_KINDS:
        return None
    try:
        email = render.render_email(session, shop, row)
    except LookupError:
        return None
    finally:
        session.expire(row)  # a failing merchant template is noted on the row: not by a page view
    return {
        "subject": email["Subject"],
        "text": email.get_body(("plain",)).get_content(),
        "html": email.get_body(("html",)).get_content(),
    }
