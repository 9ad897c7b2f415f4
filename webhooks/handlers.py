"""One handler per topic, found in one explicit map.

A handler runs inside the worker's transaction for one delivery: it gets the
session, the shop, the parsed JSON body and the delivery (for its headers),
changes state, and returns. If it raises, everything it did is rolled back and
the delivery is marked failed. Each first binds the body to the headers
(bindings.py): headers are not signed, bodies are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from plugin import orders, privacy, shops
from plugin.models import Shop, WebhookDelivery

from . import bindings, payloads

log = logging.getLogger(__name__)

Handler = Callable[[Session, Shop, dict, WebhookDelivery], None]

# Privacy topics Shopify requires of every app; accepted even after uninstall.
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})


def order_changed(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> None:
    data = payloads.order(body)
    bindings.order_id(session, shop, data.shopify_id)
    delivery.order_shopify_id = data.shopify_id
    orders.apply_order(session, shop.id, data)


def fulfillment_changed(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> None:
    data = payloads.fulfillment(body)
    bindings.order_id(session, shop, data.order_shopify_id)
    delivery.order_shopify_id = data.order_shopify_id
    orders.apply_fulfillment(session, shop.id, data)


def fulfillment_event_created(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> None:
    data = payloads.tracking_event(body)
    bindings.shop_named(session, shop, body)
    bindings.order_id(session, shop, data.order_shopify_id)
    delivery.order_shopify_id = data.order_shopify_id
    orders.apply_tracking_event(session, shop.id, data)


def app_uninstalled(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> None:
    bindings.uninstall(session, shop, body)
    if bindings.stale(payloads.timestamp(delivery.triggered_at), shop):
        # A late delivery of an earlier uninstall must not undo the reinstall since.
        log.info("webhook delivery %s: app/uninstalled triggered before the latest install; ignored", delivery.id)
        return
    shops.uninstall(shop)


def _customer(body: dict) -> privacy.Customer:
    f = payloads.Fields(body)
    customer = f.obj("customer")
    return privacy.Customer(
        id=customer.id("id", required=False) if customer else None,
        email=customer.str("email") if customer else None,
        phone=customer.str("phone") if customer else None,
        order_ids=tuple(payloads.ids(body, "orders_requested") or payloads.ids(body, "orders_to_redact")),
    )


def customer_data_requested(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> None:
    bindings.compliance(session, shop, body)
    data_request = payloads.Fields(body).obj("data_request")
    request_id = data_request.data.get("id") if data_request else None
    privacy.export_customer(session, shop, _customer(body), None if request_id is None else str(request_id))


def customer_redacted(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> None:
    bindings.compliance(session, shop, body)
    privacy.redact_customer(session, shop, _customer(body))


def shop_redacted(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> None:
    bindings.compliance(session, shop, body)
    bindings.redactable(shop)
    shops.erase(session, shop.id)


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
    "customers/data_request": customer_data_requested,
    "customers/redact": customer_redacted,
    "shop/redact": shop_redacted,
}
