"""Orders with parcels, stored through plugin.orders as webhooks would store them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from plugin import orders
from plugin.db import worker_session
from plugin.models import Fulfillment, Notification, Shop

START = datetime(2026, 11, 2, 14, 0, tzinfo=timezone.utc)
ORDER_ID = 820982911946154508


def add_order(app, shop_id: int, *, locale: str = "en", first_name: str | None = "Ana", parcels: int = 1,
              status: str | None = "in_transit", shopify_id: int = ORDER_ID, name: str = "#1001",
              timezone_name: str | None = "Europe/Paris", shop_name: str = "Maison Ana", start: datetime = START,
              tags: str | None = None) -> tuple[int, list[int]]:
    """An order of two items split over ``parcels`` parcels, each at
    ``status``, placed at ``start``; returns the order's id and its
    fulfillments' ids."""
    with worker_session(app) as session, session.begin():
        shop = session.get(Shop, shop_id)
        shop.iana_timezone, shop.name = timezone_name, shop_name
        items = (
            orders.LineItemData(shopify_id=shopify_id + 1, quantity=1, title="Linen shirt", variant_title="M",
                                price=Decimal("49.90")),
            orders.LineItemData(shopify_id=shopify_id + 2, quantity=2, title="Canvas tote",
                                price=Decimal("12.50")),
        )
        order = orders.apply_order(session, shop_id, orders.OrderData(
            shopify_id=shopify_id, updated_at=start, created_at=start, name=name, number=1001, tags=tags,
            email="ana@example.com", phone="+33612345678", customer_first_name=first_name, locale=locale,
            currency="EUR", total_price=Decimal("74.90"), shipping_city="Lyon", shipping_country="France",
            line_items=items,
        ))
        for n in range(parcels):
            fid = shopify_id + 100 + n
            line = items[n % 2] if parcels > 1 else None
            orders.apply_fulfillment(session, shop_id, orders.FulfillmentData(
                shopify_id=fid, order_shopify_id=shopify_id, updated_at=start + timedelta(hours=1),
                created_at=start + timedelta(hours=1), name=f"{name}.{n + 1}", status="success",
                tracking_company="UPS", tracking_numbers=(f"1Z999AA1012345678{n}",),
                tracking_urls=(f"https://www.ups.com/track?tracknum=1Z999AA1012345678{n}",),
                estimated_delivery_at=start + timedelta(days=4),
                line_items=((line.shopify_id, line.quantity),) if line else
                tuple((li.shopify_id, li.quantity) for li in items),
            ), order=order)
            orders.apply_tracking_event(session, shop_id, orders.TrackingEventData(
                shopify_id=fid * 10, fulfillment_shopify_id=fid, order_shopify_id=shopify_id,
                status="in_transit", happened_at=start + timedelta(days=1), message="Departed facility",
                city="Paris", country="France"))
            if status and status != "in_transit":
                orders.apply_tracking_event(session, shop_id, orders.TrackingEventData(
                    shopify_id=fid * 10 + 1, fulfillment_shopify_id=fid, order_shopify_id=shopify_id,
                    status=status, happened_at=start + timedelta(days=2, hours=3), city="Lyon", country="France"))
        session.flush()
        fulfillment_ids = [f.id for f in sorted(order.fulfillments, key=lambda f: f.shopify_id)]
        return order.id, fulfillment_ids


def add_notification(app, shop_id: int, order_id: int, kind: str, context: dict, *,
                     recipient: str = "ana@example.com", channel: str = "email") -> int:
    with worker_session(app) as session, session.begin():
        row = Notification(shop_id=shop_id, order_id=order_id, kind=kind, channel=channel, recipient=recipient,
                           dedupe_key=f"{kind}:{order_id}:{context.get('fulfillment_id')}:{channel}",
                           context=context)
        session.add(row)
        session.flush()
        return row.id


def fulfillment_count(session, shop_id: int) -> int:
    return len(session.query(Fulfillment).filter_by(shop_id=shop_id).all())
