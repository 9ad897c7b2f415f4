"""Customers' privacy requests (Shopify's mandatory compliance webhooks).

- customers/data_request: everything held about the customer, as one JSON
  export the store owner can download from the admin (and is emailed, through
  the outbox, when the shop's owner email is known);
- customers/redact: the customer's personal data (email, phone, names,
  addresses, locations, free text) erased from every table, including stored
  webhook bodies and earlier exports, while anonymous counts and scores stay;
- shop/redact: every row of the shop (shops.erase).

A customer is matched by Shopify customer id, by email (case-insensitive), and
by the order ids Shopify lists in the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from .models import (
    DataExport,
    Fulfillment,
    Notification,
    NotificationStatus,
    Order,
    Shop,
    TrackingEvent,
    WebhookDelivery,
    utcnow,
)
from .orders import order_state
from .surveys import erase_for_orders, export_for_orders

REDACTED = "(redacted)"
# The redaction request itself names the customer; it is kept only as this.
REDACTED_PAYLOAD = b'{"redacted": true}'


@dataclass(frozen=True)
class Customer:
    id: int | None
    email: str | None
    phone: str | None
    order_ids: tuple[int, ...] = ()

    @property
    def identified(self) -> bool:
        return bool(self.id or self.email or self.order_ids)


def _orders(session: Session, shop_id: int, customer: Customer) -> list[Order]:
    matches = []
    if customer.id:
        matches.append(Order.customer_id == customer.id)
    if customer.email:
        matches.append(func.lower(Order.email) == customer.email.lower())
    if customer.order_ids:
        matches.append(Order.shopify_id.in_(customer.order_ids))
    if not matches:
        return []
    return list(session.scalars(select(Order).where(Order.shop_id == shop_id, or_(*matches)).order_by(Order.id)))


def _notifications(session: Session, shop_id: int, order_ids: list[int], customer: Customer) -> list[Notification]:
    matches = [Notification.order_id.in_(order_ids)] if order_ids else []
    if customer.email:
        matches.append(func.lower(Notification.recipient) == customer.email.lower())
    if not matches:
        return []
    return list(session.scalars(
        select(Notification).where(Notification.shop_id == shop_id, or_(*matches)).order_by(Notification.id)
    ))


def export_customer(session: Session, shop: Shop, customer: Customer, request_id: str | None) -> DataExport:
    """Gather what is held about the customer into a DataExport row."""
    found = _orders(session, shop.id, customer)
    notifications = _notifications(session, shop.id, [o.id for o in found], customer)
    content = {
        "shop": shop.domain,
        "data_request_id": request_id,
        "generated_at": utcnow().isoformat(),
        "customer": {"id": str(customer.id) if customer.id else None, "email": customer.email, "phone": customer.phone},
        "orders": [order_state(o) for o in found],
        "notifications": [
            {"kind": n.kind, "channel": n.channel, "recipient": n.recipient, "status": n.status,
             "created_at": n.created_at.isoformat(), "sent_at": n.sent_at.isoformat() if n.sent_at else None}
            for n in notifications
        ],
        # Returns and survey answers join this export as those features land.
        "returns": [],
        "survey_responses": [],
    }
    content["survey_responses"] = export_for_orders(session, shop.id, [o.id for o in found])
    export = DataExport(shop_id=shop.id, request_id=request_id, customer_id=customer.id, content=content)
    session.add(export)
    session.flush()
    if shop.email:
        session.add(Notification(
            shop_id=shop.id, kind="data_export", channel="email", recipient=shop.email,
            dedupe_key=f"data_export:{request_id or export.id}", context={"export_id": export.id},
            status=NotificationStatus.PENDING.value, next_attempt_at=utcnow(),
        ))
    return export


def redact_customer(session: Session, shop: Shop, customer: Customer) -> int:
    """Erase the customer's personal data; returns how many orders it touched."""
    found = _orders(session, shop.id, customer)
    order_ids = [o.id for o in found]
    erase_for_orders(session, shop.id, order_ids)  # comments go; anonymous scores stay
    for order in found:
        order.email = order.phone = order.customer_first_name = None
        order.customer_id = None
        order.shipping_city = order.shipping_country = None
    if order_ids:
        fulfillment_ids = select(Fulfillment.id).where(Fulfillment.shop_id == shop.id, Fulfillment.order_id.in_(order_ids))
        session.execute(
            update(TrackingEvent)
            .where(TrackingEvent.shop_id == shop.id, TrackingEvent.fulfillment_id.in_(fulfillment_ids))
            .values(city=None, province=None, country=None, message=None)
        )
    for notification in _notifications(session, shop.id, order_ids, customer):
        notification.recipient = REDACTED
        notification.context = {}
        if notification.status == NotificationStatus.PENDING.value:
            notification.status = NotificationStatus.SKIPPED.value
            notification.next_attempt_at = None
    for export in session.scalars(select(DataExport).where(DataExport.shop_id == shop.id)):
        if _mentions(json.dumps(export.content).encode(), customer, {o.shopify_id for o in found}):
            session.delete(export)
    _forget_deliveries(session, shop.id, customer, {o.shopify_id for o in found})
    return len(found)


def _forget_deliveries(session: Session, shop_id: int, customer: Customer, shopify_order_ids: set[int]) -> None:
    """Stored webhook bodies about the customer go too: they hold the same data."""
    deliveries = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.shop_id == shop_id, WebhookDelivery.topic != "customers/redact")
        .execution_options(yield_per=500)
    )
    for delivery in deliveries:
        if _mentions(delivery.payload, customer, shopify_order_ids):
            session.delete(delivery)


def _mentions(raw: bytes, customer: Customer, shopify_order_ids: set[int]) -> bool:
    lowered = raw.lower()
    for needle in (customer.email, customer.phone):
        if needle and needle.lower().encode() in lowered:
            return True
    try:
        body = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    ids = set(shopify_order_ids) | set(customer.order_ids)
    if body.get("id") in ids or body.get("order_id") in ids:
        return True
    for key in ("customer", "order"):
        nested = body.get(key)
        if isinstance(nested, dict) and (
            (customer.id and nested.get("id") == customer.id) or nested.get("id") in ids
        ):
            return True
    return bool(customer.id and body.get("customer_id") == customer.id)
