"""One handler per topic, found in one explicit map.

A handler runs inside the worker's transaction for one delivery: it gets the
session, the shop and the parsed JSON body, changes state, and returns. If it
raises, everything it did is rolled back and the delivery is marked failed.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from plugin import orders, privacy, returns, shops
from plugin.models import Shop

from . import payloads, return_payloads

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


def _customer(body: dict) -> privacy.Customer:
    f = payloads.Fields(body)
    customer = f.obj("customer")
    return privacy.Customer(
        id=customer.id("id", required=False) if customer else None,
        email=customer.str("email") if customer else None,
        phone=customer.str("phone") if customer else None,
        order_ids=tuple(payloads.ids(body, "orders_requested") or payloads.ids(body, "orders_to_redact")),
    )


def customer_data_requested(session: Session, shop: Shop, body: dict) -> None:
    data_request = payloads.Fields(body).obj("data_request")
    request_id = data_request.data.get("id") if data_request else None
    privacy.export_customer(session, shop, _customer(body), None if request_id is None else str(request_id))


def customer_redacted(session: Session, shop: Shop, body: dict) -> None:
    privacy.redact_customer(session, shop, _customer(body))


def shop_redacted(session: Session, shop: Shop, body: dict) -> None:
    shops.erase(session, shop.id)


def return_changed(status: str) -> Handler:
    """A returns/* topic: the return now has Shopify's ``status``."""
    def handler(session: Session, shop: Shop, body: dict) -> None:
        returns.shopify_return_changed(session, shop.id, return_payloads.shopify_return(body, status))
    return handler


def refund_created(session: Session, shop: Shop, body: dict) -> None:
    returns.refund_created(session, shop.id, return_payloads.refund(body))


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
