"""Customers' privacy requests (Shopify's mandatory compliance webhooks).

- customers/data_request: everything held about the customer, as one JSON
  export the store owner can download from the admin (and is emailed, through
  the outbox, when the shop's owner email is known);
- customers/redact: the customer's personal data (email, phone, names,
  addresses, locations, free text) erased from every table, including stored
  webhook bodies and earlier exports, while anonymous counts and scores stay;
- shop/redact: every row of the shop (shops.erase).

Which orders are the customer's is decided once, by one rule, for rows and
stored webhook bodies alike: the orders Shopify lists in the request, and
those whose customer id is the customer's, or whose email (the order's own,
its contact email, or its customer's) is the customer's address, compared
whole and case-insensitively: never a substring, so john@example.com never
takes bigjohn@example.com's orders. Everything of those orders is erased,
their stored bodies included, and nothing of any other order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from . import returns
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
from .visits import OrderVisit

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


def _same_email(a: object, b: str | None) -> bool:
    return bool(b) and isinstance(a, str) and a.strip().lower() == b.strip().lower()


def _names_customer(body: dict, customer: Customer) -> bool:
    """Whether a stored body names the customer: by their customer id, or by
    their whole email address in an order's email fields or its customer."""
    nested = body.get("customer")
    if isinstance(nested, dict):
        if customer.id and nested.get("id") == customer.id:
            return True
        if _same_email(nested.get("email"), customer.email):
            return True
    if customer.id and body.get("customer_id") == customer.id:
        return True
    return any(_same_email(body.get(key), customer.email) for key in ("email", "contact_email"))


def _order_of(topic: str, body: dict) -> object:
    """The Shopify order id a stored body is about, if any."""
    if topic.startswith("orders/"):
        return body.get("id")
    nested = body.get("order")
    return nested.get("id") if isinstance(nested, dict) else body.get("order_id")


@dataclass
class _Decision:
    """The customer's orders (Shopify ids and rows) and the stored deliveries about them."""
    shopify_order_ids: set[int]
    orders: list[Order]
    delivery_ids: list[int]


def _decide(session: Session, shop_id: int, customer: Customer) -> _Decision:
    ids = set(customer.order_ids)
    matches = []
    if customer.id:
        matches.append(Order.customer_id == customer.id)
    if customer.email:
        address = customer.email.strip().lower()
        matches += [func.lower(Order.email) == address, func.lower(Order.customer_email) == address]
    if matches:
        ids |= set(session.scalars(select(Order.shopify_id).where(Order.shop_id == shop_id, or_(*matches))))

    about: list[tuple[int, object]] = []  # (delivery id, order id it is about), for the second look
    forget: list[int] = []
    deliveries = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.topic, WebhookDelivery.payload)
        .where(WebhookDelivery.shop_id == shop_id, WebhookDelivery.topic != "customers/redact")
        .execution_options(yield_per=500)
    )
    for delivery_id, topic, payload in deliveries:
        body = _parse(payload)
        if body is None:
            continue
        order_id = _order_of(topic, body)
        if _names_customer(body, customer):
            forget.append(delivery_id)
            if isinstance(order_id, int) and not isinstance(order_id, bool):
                ids.add(order_id)
        else:
            about.append((delivery_id, order_id))
    forget += [delivery_id for delivery_id, order_id in about if order_id in ids]

    found = list(session.scalars(
        select(Order).where(Order.shop_id == shop_id, Order.shopify_id.in_(ids)).order_by(Order.id)
    )) if ids else []
    return _Decision(ids, found, forget)


def _parse(raw: bytes) -> dict | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _notifications(session: Session, shop_id: int, order_ids: list[int], customer: Customer) -> list[Notification]:
    matches = [Notification.order_id.in_(order_ids)] if order_ids else []
    for address in (customer.email, customer.phone):
        if address:
            matches.append(func.lower(Notification.recipient) == address.strip().lower())
    if not matches:
        return []
    return list(session.scalars(
        select(Notification).where(Notification.shop_id == shop_id, or_(*matches)).order_by(Notification.id)
    ))


def export_customer(session: Session, shop: Shop, customer: Customer, request_id: str | None) -> DataExport:
    """Gather what is held about the customer into a DataExport row."""
    found = _decide(session, shop.id, customer).orders
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
        # Survey answers join this export as that feature lands.
        "returns": returns.privacy.export(session, shop.id, [o.id for o in found]),
        "survey_responses": [],
    }
    content["survey_responses"] = export_for_orders(session, shop.id, [o.id for o in found])
    names = {o.id: o.name for o in found}
    content["order_visits"] = [
        {"order": names[v.order_id], "surface": v.surface, "viewed_at": v.viewed_at.isoformat()}
        for v in session.scalars(select(OrderVisit).where(
            OrderVisit.shop_id == shop.id, OrderVisit.order_id.in_(names)).order_by(OrderVisit.viewed_at))
    ] if names else []
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
    decision = _decide(session, shop.id, customer)
    found = decision.orders
    order_ids = [o.id for o in found]
    erase_for_orders(session, shop.id, order_ids)  # comments go; anonymous scores stay
    for order in found:
        order.email = order.customer_email = order.customer_first_name = None
        order.phone = order.shipping_phone = None
        order.customer_id = None
        order.shipping_city = order.shipping_country = None
    if order_ids:
        # When the shopper looked at their orders is about them too.
        session.execute(delete(OrderVisit).where(OrderVisit.shop_id == shop.id, OrderVisit.order_id.in_(order_ids)))
        session.execute(
            update(Fulfillment)
            .where(Fulfillment.shop_id == shop.id, Fulfillment.order_id.in_(order_ids))
            .values(tracking_company=None, tracking_numbers=[], tracking_urls=[])
        )
        fulfillment_ids = select(Fulfillment.id).where(Fulfillment.shop_id == shop.id, Fulfillment.order_id.in_(order_ids))
        session.execute(
            update(TrackingEvent)
            .where(TrackingEvent.shop_id == shop.id, TrackingEvent.fulfillment_id.in_(fulfillment_ids))
            .values(city=None, province=None, country=None, message=None)
        )
    returns.privacy.redact(session, shop.id, order_ids)
    for notification in _notifications(session, shop.id, order_ids, customer):
        notification.recipient = REDACTED
        notification.context = {}
        if notification.status == NotificationStatus.PENDING.value:
            notification.status = NotificationStatus.SKIPPED.value
            notification.next_attempt_at = None
    for export in session.scalars(select(DataExport).where(DataExport.shop_id == shop.id)):
        if _export_is_about(export, customer, decision.shopify_order_ids):
            session.delete(export)
    if decision.delivery_ids:
        # Stored webhook bodies of those orders hold the same data.
        session.execute(
            delete(WebhookDelivery)
            .where(WebhookDelivery.shop_id == shop.id, WebhookDelivery.id.in_(decision.delivery_ids))
        )
    return len(found)


def _export_is_about(export: DataExport, customer: Customer, shopify_order_ids: set[int]) -> bool:
    if customer.id and export.customer_id == customer.id:
        return True
    content = export.content if isinstance(export.content, dict) else {}
    held = content.get("customer") if isinstance(content.get("customer"), dict) else {}
    if _same_email(held.get("email"), customer.email):
        return True
    listed = {o.get("id") for o in content.get("orders") or [] if isinstance(o, dict)}
    return bool(listed & {str(i) for i in shopify_order_ids})
