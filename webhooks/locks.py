"""Which deliveries of a claimed batch may run now, with several workers.

Two deliveries about the same order, run by two workers at once, would both
read the order before either writes it: both insert a new order (one fails on
the unique key), or the older payload overwrites the newer ("newer
updated_at wins" is a read, then a write). So before running a batch, a
worker on PostgreSQL takes a transaction-scoped advisory lock per order, with
pg_try_advisory_xact_lock: deliveries whose order is locked by another worker
are left due, untouched, for a later round (never waited for: two workers
waiting on each other's batches would deadlock). Topics that touch more than
one order (uninstall, privacy requests) lock the whole shop; order topics
hold the shop's lock shared.

On SQLite the worker's BEGIN IMMEDIATE already runs one transaction at a
time: every delivery may run.
"""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer, String

from plugin.models import WebhookDelivery

from .handlers import HANDLERS
from .payloads import MAX_ID

# Payload field naming the order, by topic.
ORDER_FIELD = {
    "orders/create": "id",
    "orders/updated": "id",
    "orders/paid": "id",
    "orders/cancelled": "id",
    "orders/fulfilled": "id",
    "orders/partially_fulfilled": "id",
    "fulfillments/create": "order_id",
    "fulfillments/update": "order_id",
    "fulfillment_events/create": "order_id",
}

_NONE, _SHARED, _EXCLUSIVE = "none", "shared", "exclusive"

# One statement for the whole batch: for each delivery, the shop's lock
# (shared for order topics, exclusive for shop-wide ones) and the order's.
# Keys are (shop, 0) for a shop and (shop, 1 .. 2**31 - 1) for its orders.
_TRY_LOCKS = text("""
SELECT n,
       CASE mode WHEN 'none' THEN true
                 WHEN 'shared' THEN pg_try_advisory_xact_lock_shared(shop, 0)
                 ELSE pg_try_advisory_xact_lock(shop, 0) END
       AND (item = 0 OR pg_try_advisory_xact_lock(shop, item))
FROM unnest(:n, :shop, :item, :mode) AS t(n, shop, item, mode)
ORDER BY n
""").bindparams(
    bindparam("n", type_=ARRAY(Integer)), bindparam("shop", type_=ARRAY(Integer)),
    bindparam("item", type_=ARRAY(Integer)), bindparam("mode", type_=ARRAY(String)),
)


def runnable(session: Session, deliveries: list[WebhookDelivery], bodies: list[object]) -> list[bool]:
    """For each delivery (with its parsed body, or None if it did not parse),
    whether this worker may run it now."""
    if session.get_bind().dialect.name != "postgresql":
        return [True] * len(deliveries)
    keys = [_key(d.topic, body) for d, body in zip(deliveries, bodies)]
    rows = session.execute(_TRY_LOCKS, {
        "n": list(range(len(keys))),
        "shop": [d.shop_id % (2**31 - 1) for d in deliveries],
        "item": [item for _, item in keys],
        "mode": [mode for mode, _ in keys],
    }).all()
    return [bool(ok) for _, ok in rows]


def order_id(topic: str, body: object) -> int | None:
    """The Shopify id of the one order a delivery of an order topic is about;
    None for other topics, and for a body without a valid one (its handler fails)."""
    field = ORDER_FIELD.get(topic)
    try:
        order = int(body.get(field)) if field is not None else None  # an int, or an id written as a string
    except (AttributeError, TypeError, ValueError):
        return None
    return order if order is not None and 0 < order <= MAX_ID else None


def _key(topic: str, body: object) -> tuple[str, int]:
    """(how to lock the shop, order key or 0 for no order)."""
    if topic not in HANDLERS:
        return _NONE, 0  # stored and ignored: touches nothing
    if topic not in ORDER_FIELD:
        return _EXCLUSIVE, 0
    order = order_id(topic, body)
    if order is None:
        return _NONE, 0  # fails in its handler, touching nothing
    return _SHARED, 1 + order % (2**31 - 2)
