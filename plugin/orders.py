"""Orders and shipments: turning what Shopify tells us into current state.

The webhook handlers and the Admin API backfill both parse Shopify's data into
the small dataclasses below and call the ``apply_*`` functions, so there is one
way state changes. Rules:

- the newer Shopify ``updated_at`` wins; an older or equal payload changes no
  field (it may still add a tracking event, which is a historical fact);
- a fulfillment or tracking event may arrive before its order: the order (and
  fulfillment) then exist as shells, filled in when their own payload arrives;
- a fulfillment's shipment status is derived from its tracking events
  (see shipments.py), so it only moves forward and arrival order does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session, selectinload

from . import outbox, shipments
from .db import batch_memo
from .models import Fulfillment, FulfillmentLineItem, LineItem, Order, TrackingEvent, children_of_shop


@dataclass(frozen=True)
class LineItemData:
    shopify_id: int
    quantity: int
    title: str | None = None
    variant_title: str | None = None
    sku: str | None = None
    product_id: int | None = None
    variant_id: int | None = None
    price: Decimal | None = None
    requires_shipping: bool = True
    gift_card: bool = False


@dataclass(frozen=True)
class FulfillmentData:
    shopify_id: int
    order_shopify_id: int
    updated_at: datetime
    created_at: datetime | None = None
    name: str | None = None
    status: str | None = None
    shipment_status: str | None = None
    tracking_company: str | None = None
    tracking_numbers: tuple[str, ...] = ()
    tracking_urls: tuple[str, ...] = ()
    estimated_delivery_at: datetime | None = None
    # (line item shopify id, quantity in this fulfillment)
    line_items: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class OrderData:
    shopify_id: int
    updated_at: datetime
    name: str | None = None
    number: int | None = None
    email: str | None = None
    customer_email: str | None = None
    phone: str | None = None
    shipping_phone: str | None = None
    customer_id: int | None = None
    customer_first_name: str | None = None
    locale: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    cancelled_at: datetime | None = None
    currency: str | None = None
    total_price: Decimal | None = None
    subtotal_price: Decimal | None = None
    shipping_city: str | None = None
    shipping_country: str | None = None
    tags: str | None = None
    test: bool = False
    created_at: datetime | None = None
    line_items: tuple[LineItemData, ...] = ()
    fulfillments: tuple[FulfillmentData, ...] = field(default=())


@dataclass(frozen=True)
class TrackingEventData:
    shopify_id: int
    fulfillment_shopify_id: int
    order_shopify_id: int
    status: str
    happened_at: datetime
    message: str | None = None
    city: str | None = None
    province: str | None = None
    country: str | None = None
    estimated_delivery_at: datetime | None = None


_ORDER_FIELDS = (
    "name", "number", "email", "customer_email", "phone", "shipping_phone", "customer_id",
    "customer_first_name", "locale",
    "financial_status", "fulfillment_status", "cancelled_at", "currency", "total_price",
    "subtotal_price", "shipping_city", "shipping_country", "tags", "test",
)
_LINE_ITEM_FIELDS = (
    "quantity", "title", "variant_title", "sku", "product_id", "variant_id", "price", "requires_shipping",
    "gift_card",
)


def apply_order(session: Session, shop_id: int, data: OrderData) -> Order:
    order = _order_shell(session, shop_id, data.shopify_id)
    if _is_newer(data.updated_at, order.shopify_updated_at):
        for name in _ORDER_FIELDS:
            setattr(order, name, getattr(data, name))
        order.shopify_created_at = data.created_at
        order.shopify_updated_at = data.updated_at
        _sync_line_items(session, shop_id, order, data.line_items)
    for fulfillment in data.fulfillments:
        apply_fulfillment(session, shop_id, fulfillment, order=order)
    return order


def apply_fulfillment(
    session: Session, shop_id: int, data: FulfillmentData, order: Order | None = None
) -> Fulfillment:
    order = order or _order_shell(session, shop_id, data.order_shopify_id)
    fulfillment = _fulfillment_shell(session, shop_id, data.shopify_id, order)
    if _is_newer(data.updated_at, fulfillment.shopify_updated_at):
        fulfillment.name = data.name
        fulfillment.status = data.status
        fulfillment.tracking_company = data.tracking_company
        fulfillment.tracking_numbers = list(data.tracking_numbers)
        fulfillment.tracking_urls = list(data.tracking_urls)
        fulfillment.estimated_delivery_at = data.estimated_delivery_at
        fulfillment.shopify_created_at = data.created_at
        fulfillment.shopify_updated_at = data.updated_at
        _sync_fulfillment_line_items(shop_id, fulfillment, data.line_items)
    if data.shipment_status:
        _add_status_seen(shop_id, fulfillment, data.shipment_status, data.updated_at)
    _refresh_shipment_state(fulfillment)
    return fulfillment


def apply_tracking_event(session: Session, shop_id: int, data: TrackingEventData) -> TrackingEvent | None:
    """Record a Shopify fulfillment event; None if it was already recorded."""
    order = _order_shell(session, shop_id, data.order_shopify_id)
    fulfillment = _fulfillment_shell(session, shop_id, data.fulfillment_shopify_id, order)
    if any(e.shopify_id == data.shopify_id for e in fulfillment.events):
        return None
    replaced = False
    for seen in list(fulfillment.events):
        same_status = seen.status == data.status
        if same_status and seen.shopify_id is None and seen.happened_at >= data.happened_at:
            # The carrier's own event replaces the status we saw on a later payload.
            fulfillment.events.remove(seen)
            replaced = True
        elif same_status and seen.happened_at == data.happened_at:
            return None
    if replaced:
        session.flush()  # delete before the insert that takes its unique key
    event = TrackingEvent(
        shop_id=shop_id,
        shopify_id=data.shopify_id,
        status=data.status,
        message=data.message,
        happened_at=data.happened_at,
        city=data.city,
        province=data.province,
        country=data.country,
        estimated_delivery_at=data.estimated_delivery_at,
    )
    fulfillment.events.append(event)
    _refresh_shipment_state(fulfillment)
    return event


def _add_status_seen(shop_id: int, fulfillment: Fulfillment, status: str, at: datetime) -> None:
    """Record a shipment status seen on a fulfillment payload, unless a carrier
    event already told us the same earlier (or at the same time)."""
    for seen in fulfillment.events:
        if seen.status == status and (seen.happened_at == at or (seen.shopify_id and seen.happened_at <= at)):
            return
    fulfillment.events.append(TrackingEvent(shop_id=shop_id, status=status, happened_at=at))


def _refresh_shipment_state(fulfillment: Fulfillment) -> None:
    known = [e for e in fulfillment.events if shipments.stage(e.status) is not None]
    if not known:
        return
    latest = max(known, key=lambda e: (shipments.stage(e.status), e.happened_at, e.status))
    fulfillment.shipment_status = latest.status
    delivered = [e.happened_at for e in known if e.status in shipments.DELIVERED_STATUSES]
    fulfillment.delivered_at = min(delivered) if latest.status in shipments.DELIVERED_STATUSES else None
    estimates = [e for e in fulfillment.events if e.estimated_delivery_at is not None]
    if estimates:
        fulfillment.estimated_delivery_at = max(estimates, key=lambda e: e.happened_at).estimated_delivery_at


def _is_newer(incoming: datetime, stored: datetime | None) -> bool:
    return stored is None or incoming > stored


def _order_shell(session: Session, shop_id: int, shopify_id: int) -> Order:
    preloaded, holders = _batch_orders(session)
    if (shop_id, shopify_id) in preloaded:
        order = preloaded[shop_id, shopify_id]
    else:
        order = session.scalar(select(Order).where(Order.shop_id == shop_id, Order.shopify_id == shopify_id))
    if order is None:
        # Empty collections, not unloaded ones: reading them costs no query.
        order = Order(shop_id=shop_id, shopify_id=shopify_id, line_items=[], fulfillments=[])
        session.add(order)
        if (shop_id, shopify_id) in preloaded:
            preloaded[shop_id, shopify_id] = order
        if shopify_id in holders:
            holders[shopify_id].add(shop_id)
    return order


def _fulfillment_shell(session: Session, shop_id: int, shopify_id: int, order: Order) -> Fulfillment:
    fulfillment = session.scalar(
        select(Fulfillment).where(Fulfillment.shop_id == shop_id, Fulfillment.shopify_id == shopify_id)
    )
    if fulfillment is None:
        fulfillment = Fulfillment(shop_id=shop_id, shopify_id=shopify_id, tracking_numbers=[], tracking_urls=[],
                                  line_items=[], events=[])
        order.fulfillments.append(fulfillment)
    return fulfillment


def _sync_line_items(session: Session, shop_id: int, order: Order, items: tuple[LineItemData, ...]) -> None:
    existing = {li.shopify_id: li for li in order.line_items}
    wanted = {item.shopify_id for item in items}
    for li in list(order.line_items):
        if li.shopify_id not in wanted:
            order.line_items.remove(li)
    for item in items:
        li = existing.get(item.shopify_id)
        if li is None:
            li = LineItem(shop_id=shop_id, shopify_id=item.shopify_id)
            order.line_items.append(li)
        for name in _LINE_ITEM_FIELDS:
            setattr(li, name, getattr(item, name))


def _sync_fulfillment_line_items(shop_id: int, fulfillment: Fulfillment, items: tuple[tuple[int, int], ...]) -> None:
    quantities: dict[int, int] = {}
    for line_item_id, quantity in items:
        quantities[line_item_id] = quantities.get(line_item_id, 0) + quantity
    for row in list(fulfillment.line_items):
        if row.line_item_shopify_id in quantities:
            row.quantity = quantities.pop(row.line_item_shopify_id)
        else:
            fulfillment.line_items.remove(row)
    for line_item_id, quantity in quantities.items():
        fulfillment.line_items.append(
            FulfillmentLineItem(shop_id=shop_id, line_item_shopify_id=line_item_id, quantity=quantity)
        )


def held_by_another_shop(session: Session, shop_id: int, shopify_order_id: int) -> bool:
    """Whether another shop already holds this Shopify order id. Shopify ids are
    global, so such a payload was re-sent under the wrong shop's headers. The
    one query that looks across shops, on purpose (answered from memory for
    the ids preload() looked up)."""
    holders = _batch_orders(session)[1].get(shopify_order_id)
    if holders is not None:
        return bool(holders - {shop_id})
    return session.scalar(
        select(Order.id).where(Order.shopify_id == shopify_order_id, Order.shop_id != shop_id).limit(1)
    ) is not None


# Keys of the worker batch's memo (plugin.db.batch): the preloaded orders, by
# (shop id, Shopify id), None for one not stored yet; and the shops holding each
# preloaded Shopify id.
_ORDERS, _HOLDERS = "orders", "order holders"


def preload(session: Session, wanted: dict[int, set[int]]) -> None:
    """For a worker batch about these orders (Shopify ids, by shop): find
    which shops hold each id (one query across shops, as held_by_another_shop),
    and load the orders each shop holds with their line items and parcels
    (a few queries per shop). Until the batch's memo is cleared, looking
    these orders up (apply_order, held_by_another_shop) runs no query; orders
    created meanwhile are added to it. The caller holds the orders' locks
    (webhooks/locks.py) so that nobody else changes them before the batch ends."""
    memo = batch_memo(session)
    ids = sorted({shopify_id for shopify_ids in wanted.values() for shopify_id in shopify_ids})
    if memo is None or not ids:
        return
    holders: dict[int, set[int]] = {shopify_id: set() for shopify_id in ids}
    for shopify_id, shop_id in session.execute(
        select(Order.shopify_id, Order.shop_id).where(Order.shopify_id.in_(ids))
    ):
        holders[shopify_id].add(shop_id)
    preloaded: dict[tuple[int, int], Order | None] = {}
    for shop_id, shopify_ids in wanted.items():
        preloaded.update(((shop_id, shopify_id), None) for shopify_id in shopify_ids)
        held = [shopify_id for shopify_id in shopify_ids if shop_id in holders[shopify_id]]
        if held:
            for order in session.scalars(
                select(Order).where(Order.shop_id == shop_id, Order.shopify_id.in_(held))
                .options(selectinload(Order.line_items),
                         selectinload(Order.fulfillments).selectinload(Fulfillment.events),
                         selectinload(Order.fulfillments).selectinload(Fulfillment.line_items),
                         *children_of_shop(shop_id))
            ):
                preloaded[shop_id, order.shopify_id] = order
    memo[_HOLDERS] = holders
    memo[_ORDERS] = preloaded


def _batch_orders(session: Session) -> tuple[dict[tuple[int, int], Order | None], dict[int, set[int]]]:
    """The orders preload() found, and the shops holding each of their ids; empty without one."""
    memo = batch_memo(session) or {}
    return memo.get(_ORDERS, {}), memo.get(_HOLDERS, {})


def sms_phone(order: Order) -> str | None:
    """The number SMS notifications go to: the customer's own phone (given at
    checkout or on their customer record), else the shipping address's phone,
    which may be someone else's (a gift's recipient) but is still the number
    the carrier will call about this parcel."""
    return order.phone or order.shipping_phone


def find_order(session: Session, shop_id: int, name: str) -> Order | None:
    """An order by its name as a customer writes it: "#1001", "1001", "# 1001" or "SH1001"."""
    name = name.strip()
    if "\x00" in name:  # no order's name holds one, and PostgreSQL refuses it in a parameter
        return None
    bare = name.lstrip("#").strip()
    candidates = [Order.name == name, Order.name == f"#{bare}"]
    # ASCII digits only: str.isdigit() accepts "²", which int() refuses.
    if bare.isascii() and bare.isdigit() and len(bare) < 19:
        candidates.append(Order.number == int(bare))
    return session.scalars(
        select(Order).where(Order.shop_id == shop_id, or_(*candidates)).order_by(Order.id).limit(1)
    ).first()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def order_state(order: Order) -> dict:
    """The order, its shipments and their tracking events, JSON-ready.
    Shopify IDs are strings: they exceed what JavaScript numbers hold exactly."""
    return {
        "id": str(order.shopify_id),
        "name": order.name,
        "number": order.number,
        "email": order.email,
        "customer_email": order.customer_email,
        "phone": order.phone,
        "customer_first_name": order.customer_first_name,
        "locale": order.locale,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "cancelled_at": _iso(order.cancelled_at),
        "currency": order.currency,
        "total_price": str(order.total_price) if order.total_price is not None else None,
        "shipping": {"city": order.shipping_city, "country": order.shipping_country, "phone": order.shipping_phone},
        "tags": order.tags,
        "created_at": _iso(order.shopify_created_at),
        "updated_at": _iso(order.shopify_updated_at),
        "line_items": [
            {
                "id": str(li.shopify_id),
                "title": li.title,
                "variant_title": li.variant_title,
                "sku": li.sku,
                "quantity": li.quantity,
                "price": str(li.price) if li.price is not None else None,
            }
            for li in order.line_items
        ],
        "fulfillments": [
            {
                "id": str(f.shopify_id),
                "name": f.name,
                "status": f.status,
                "shipment_status": f.shipment_status,
                "tracking_company": f.tracking_company,
                "tracking_numbers": f.tracking_numbers,
                "tracking_urls": f.tracking_urls,
                "estimated_delivery_at": _iso(f.estimated_delivery_at),
                "delivered_at": _iso(f.delivered_at),
                "line_items": [
                    {"line_item_id": str(row.line_item_shopify_id), "quantity": row.quantity}
                    for row in f.line_items
                ],
                "events": [
                    {
                        "status": e.status,
                        "message": e.message,
                        "happened_at": _iso(e.happened_at),
                        "city": e.city,
                        "province": e.province,
                        "country": e.country,
                        "estimated_delivery_at": _iso(e.estimated_delivery_at),
                        "source": "carrier" if e.shopify_id else "fulfillment",
                    }
                    for e in sorted(f.events, key=lambda e: (e.happened_at, e.id or 0))
                ],
            }
            for f in order.fulfillments
        ],
        "delayed_at": _iso(order.delayed_at),
        "notifications": outbox.history(object_session(order), order.shop_id, order.id),
    }
