"""One handler per topic, found in one explicit map.

A handler runs inside the worker's transaction for one delivery: it gets the
session, the shop, the parsed JSON body and the delivery (for its headers),
changes state, and returns the Shopify id of the order the delivery was about,
if any, which the inbox records on the delivery (for the order's timeline).
If it raises, everything it did is rolled back and the delivery is marked
failed. Each first binds the body to the headers (bindings.py): headers are
not signed, bodies are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from plugin import notifications, orders, privacy, returns, shops
from plugin.models import Order, Shop, WebhookDelivery, utcnow

from . import bindings, payloads, return_payloads

log = logging.getLogger(__name__)

Handler = Callable[[Session, Shop, dict, WebhookDelivery], int | None]

# Privacy topics Shopify requires of every app; accepted even after uninstall.
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})


def order_changed(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> int:
    data = payloads.order(body)
    bindings.order_id(session, shop, data.shopify_id)
    _notify(session, shop, orders.apply_order(session, shop.id, data))
    return data.shopify_id


def fulfillment_changed(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> int:
    data = payloads.fulfillment(body)
    bindings.order_id(session, shop, data.order_shopify_id)
    _notify(session, shop, orders.apply_fulfillment(session, shop.id, data).order)
    return data.order_shopify_id


def fulfillment_event_created(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> int:
    data = payloads.tracking_event(body)
    bindings.shop_named(session, shop, body)
    bindings.order_id(session, shop, data.order_shopify_id)
    event = orders.apply_tracking_event(session, shop.id, data)
    if event is not None:
        _notify(session, shop, event.fulfillment.order)
    return data.order_shopify_id


def _notify(session: Session, shop: Shop, order: Order) -> None:
    """Decide, from the order's state now, which customer messages are due."""
    notifications.schedule(session, shop, order, utcnow())


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


def return_changed(status: str) -> Handler:
    """A returns/* topic: the return now has Shopify's ``status``."""
    def handler(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> int | None:
        data = return_payloads.shopify_return(body, status)
        if data.order_shopify_id is not None:
            bindings.order_id(session, shop, data.order_shopify_id)
        returns.shopify_return_changed(session, shop.id, data)
        return data.order_shopify_id
    return handler


def refund_created(session: Session, shop: Shop, body: dict, delivery: WebhookDelivery) -> int:
    data = return_payloads.refund(body)
    bindings.order_id(session, shop, data.order_shopify_id)
    returns.refund_created(session, shop.id, data)
    return data.order_shopify_id


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
    "returns/request": return_changed("REQUESTED"),
    "returns/approve": return_changed("OPEN"),
    "returns/decline": return_changed("DECLINED"),
    "returns/cancel": return_changed("CANCELED"),
    "returns/close": return_changed("CLOSED"),
    "returns/reopen": return_changed("OPEN"),
    "refunds/create": refund_created,
}
