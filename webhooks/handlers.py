"""One handler per topic, found in one explicit map.

A handler runs inside the worker's transaction for one delivery: it gets the
session, the shop and the parsed JSON body, changes state, and returns. If it
raises, everything it did is rolled back and the delivery is marked failed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from plugin import orders, shops
from plugin.models import Shop

from . import payloads

Handler = Callable[[Session, Shop, dict], None]

# Privacy topics Shopify requires of every app; accepted even after uninstall.
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})


def order_changed(session: Session, shop: Shop, body: dict) -> None:
    orders.apply_order(session, shop.id, payloads.order(body))


def fulfillment_changed(session: Session, shop: Shop, body: dict) -> None:
    orders.apply_fulfillment(session, shop.id, payloads.fulfillment(body))


def fulfillment_event_created(session: Session, shop: Shop, body: dict) -> None:
    orders.apply_tracking_event(session, shop.id, payloads.tracking_event(body))


def app_uninstalled(session: Session, shop: Shop, body: dict) -> None:
    shops.uninstall(shop)


HANDLERS: dict[str, Handler] = {
    "orders/create": order_changed,
    "orders/updated": order_changed,
    "orders/paid": order_changed,
    "orders/cancelled": order_changed,
    "orders/fulfilled": order_changed,
    "orders/partially_fulfilled": order_changed,
    "fulfillments/create": fulfillment_changed,
    "fulfillments/update": fulfillment_changed,
    "fulfillment_events/create": fulfillment_event_created,
    "app/uninstalled": app_uninstalled,
}
