"""STAND-IN for rendering, so the pipeline can be built and tested alone.

The real module (templates, translations, branding, signed links, the
List-Unsubscribe headers) replaces this file when branches merge; it keeps
these two signatures, which are all the outbox relies on. Subjects here are
plain "<kind> <order name>"; tests assert on behaviour, never on this wording.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Notification, Order, Shop


def _order(session: Session, shop: Shop, notification: Notification) -> Order | None:
    return session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == notification.order_id))


def render_email(session: Session, shop: Shop, notification: Notification) -> EmailMessage:
    order = _order(session, shop, notification)
    message = EmailMessage()
    message["Subject"] = f"{notification.kind} {order.name if order else ''}".strip()
    message["From"] = current_app.config["MAIL_FROM"]
    message["Message-ID"] = make_msgid(domain="aftercare.invalid")
    context = notification.context or {}
    parcel = f" (parcel {context['parcel']} of {context['parcels']})" if context.get("parcels", 1) > 1 else ""
    message.set_content(f"{notification.kind}{parcel}\n")
    return message


def render_sms(session: Session, shop: Shop, notification: Notification) -> str:
    order = _order(session, shop, notification)
    return f"{notification.kind} {order.name if order else ''}".strip()
