"""Deciding which customer messages are due, from an order's current state.

The webhook handlers call ``schedule`` after applying an order, fulfillment
or tracking-event payload, in the delivery's own transaction. It looks only at
the state the order is in now (never at the payload that just arrived), so
the same answer comes out whatever order webhooks arrive in, and however often:

- each shipped parcel gets the message for its current step only: a parcel
  first seen delivered gets `delivered`, not the steps it skipped; a late
  `in_transit` after `delivered` changes no state and so sends nothing;
- nothing is inserted for a step behind one the customer already has;
- the outbox's dedupe key makes every message exist once (enqueue.py);
- cancelled and test orders, and uninstalled shops, get nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .. import settings
from ..models import Order, Shop
from . import delays
from .enqueue import enqueue
from .kinds import Kind
from .steps import parcel_kind, parcels, sendable


def schedule(session: Session, shop: Shop, order: Order, now: datetime) -> int:
    """Insert every message now due for the order; the number of new rows.
    The order may be unflushed: it is written when a message must name it
    (enqueue), else with the rest of the worker's batch."""
    if not shop.installed or not sendable(order):
        return 0
    if any(f.id is None for f in order.fulfillments):
        session.flush()  # a parcel's messages name it by its id
    config = settings.load(session, shop.id)
    added = 0
    if not order.fulfillments:
        added += enqueue(session, shop, order, Kind.ORDER_CONFIRMED, str(order.shopify_id), {}, config, now)
    for fulfillment, context in parcels(order):
        added += enqueue(session, shop, order, parcel_kind(fulfillment), str(fulfillment.shopify_id),
                         context, config, now)
        added += delays.check(session, shop, order, fulfillment, context, config, now)
    return added
