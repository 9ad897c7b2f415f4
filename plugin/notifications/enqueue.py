"""Putting a due message into the outbox, once.

A message is a Notification row before it is mail: ``enqueue`` inserts one
per channel the shop has switched on for the kind, to a recipient who has not
unsubscribed, with a dedupe key unique per shop (``<kind>:<channel>:<subject>``,
the subject being the parcel's or order's Shopify id, or ``return-<id>`` for a
return request, ``delivery-<order id>`` or ``return-<id>`` for a survey).
Return kinds are transactional: no unsubscribe stops them (return_mail.py);
survey invitations are stopped by the surveys unsubscribe, the rest by the
shipping one. The insert is
``ON CONFLICT DO NOTHING`` on that key, so a duplicate, replayed or concurrent
webhook can decide the same message any number of times and it exists once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Notification, NotificationStatus, Order, Shop
from . import quiet, transports
from .kinds import CHANNELS, Kind
from .steps import RANK
from .suppressions import category_of, is_suppressed

LIVE = (NotificationStatus.PENDING.value, NotificationStatus.SENT.value)
# Sent even in quiet hours: the shopper just asked for it and is waiting.
UNQUIET = frozenset({Kind.RETURN_REQUESTED})


def recipient(order: Order, channel: str) -> str | None:
    """Where the order's messages on ``channel`` go; None when nowhere."""
    if channel == "email":
        return order.email if order.email and "@" in order.email else None
    if channel == "sms" and current_app.config.get("SMS_URL"):
        return transports.e164(order.phone)
    return None


def later_step_known(session: Session, shop_id: int, order_id: int, fulfillment_id: int | None,
                     channel: str, kind: Kind, statuses: tuple[str, ...] = LIVE) -> Notification | None:
    """The message for the latest step of the same parcel on the same channel,
    already sent or about to be; None if there is none."""
    if fulfillment_id is None:
        return None
    rows = session.scalars(select(Notification).where(
        Notification.shop_id == shop_id, Notification.order_id == order_id,
        Notification.channel == channel, Notification.status.in_(statuses),
    ))
    return later_step(rows, fulfillment_id, channel, kind, statuses)


def later_step(rows: Iterable[Notification], fulfillment_id: int | None, channel: str, kind: Kind,
               statuses: tuple[str, ...] = LIVE) -> Notification | None:
    """``later_step_known`` among the order's notifications ``rows`` as loaded
    (the outbox loads them once for a whole batch)."""
    if fulfillment_id is None:
        return None
    later = [row for row in rows if row.channel == channel and row.status in statuses
             and (row.context or {}).get("fulfillment_id") == fulfillment_id
             and row.kind in Kind._value2member_map_ and RANK[Kind(row.kind)] > RANK[kind]]
    return max(later, key=lambda row: (RANK[Kind(row.kind)], row.id), default=None)


def enqueue(session: Session, shop: Shop, order: Order, kind: Kind, subject: str, context: dict,
            config: dict, now: datetime) -> int:
    """Insert the message ``kind`` about ``subject`` on each channel that is on;
    the number of rows new in the outbox. ``config`` is settings.load(...)."""
    added = 0
    due = now if kind in UNQUIET else quiet.due_at(config["notifications.quiet_hours"], shop.iana_timezone, now)
    for channel in CHANNELS:
        if not config[f"notifications.{kind.value}.{channel}"]:
            continue
        to = recipient(order, channel)
        category = category_of(kind)
        if to is None or (category is not None and is_suppressed(session, shop.id, to, category)):
            continue
        if order.id is None:
            session.flush()  # the message names its order by id
        if later_step_known(session, shop.id, order.id, context.get("fulfillment_id"), channel, kind):
            continue
        added += _insert(session, {
            "shop_id": shop.id, "order_id": order.id, "kind": kind.value, "channel": channel,
            "recipient": to, "dedupe_key": f"{kind.value}:{channel}:{subject}", "context": context,
            "status": NotificationStatus.PENDING.value, "attempts": 0, "next_attempt_at": due,
            "created_at": now,
        })
    return added


def _insert(session: Session, values: dict) -> int:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Notification.__table__).values(**values).on_conflict_do_nothing(
        index_elements=["shop_id", "dedupe_key"])
    return session.execute(statement).rowcount
