"""`aftercare backfill`: import recent orders and their fulfillments through
the GraphQL Admin API.

Pages are fetched with cursor pagination; each page is applied in one
transaction together with the cursor that follows it, so an interrupted run
resumes where it stopped. Orders go through the same plugin.orders functions
as webhooks (newest updated_at wins), so a backfill and the webhooks can run
in any order without duplicating or undoing each other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import shipments, shops
from .models import Backfill, Shop, utcnow
from .orders import FulfillmentData, LineItemData, OrderData, apply_order

PAGE_SIZE = 100

ORDERS_QUERY = """
query BackfillOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name email phone createdAt updatedAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus currencyCode customerLocale tags
      totalPriceSet { shopMoney { amount } }
      subtotalPriceSet { shopMoney { amount } }
      customer { id firstName }
      shippingAddress { firstName city country }
      lineItems(first: 250) {
        nodes {
          id title variantTitle sku quantity requiresShipping isGiftCard
          product { id } variant { id }
          originalUnitPriceSet { shopMoney { amount } }
        }
      }
      fulfillments(first: 50) {
        id name status displayStatus createdAt updatedAt estimatedDeliveryAt deliveredAt
        trackingInfo(first: 10) { company number url }
        fulfillmentLineItems(first: 250) { nodes { quantity lineItem { id } } }
      }
    }
  }
}
"""

COUNT_QUERY = "query BackfillCount($query: String) { ordersCount(query: $query, limit: null) { count } }"

_FULFILLMENT_STATUS = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}


def run(session: Session, shop: Shop, days: int, progress: Callable[[int, int | None], None]) -> int:
    """Import the orders created in the last ``days`` days; returns how many
    orders this run imported. ``progress(done, total)`` is called per page."""
    backfill = _resume_or_start(session, shop, days)
    search = f"created_at:>='{backfill.since.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    total = shops.call_admin_api(session, shop, lambda c: c.graphql(COUNT_QUERY, {"query": search}))
    total_count = ((total or {}).get("ordersCount") or {}).get("count")
    progress(backfill.imported, total_count)
    imported_now = 0
    while backfill.finished_at is None:
        variables = {"first": PAGE_SIZE, "after": backfill.cursor, "query": search}
        page = shops.call_admin_api(session, shop, lambda c, v=variables: c.graphql(ORDERS_QUERY, v))["orders"]
        for node in page["nodes"]:
            apply_order(session, shop.id, order_from_graphql(node))
        backfill.imported += len(page["nodes"])
        imported_now += len(page["nodes"])
        info = page["pageInfo"]
        if info["hasNextPage"]:
            backfill.cursor = info["endCursor"]
        else:
            backfill.finished_at = utcnow()
        session.commit()  # the page and the cursor after it, together
        progress(backfill.imported, total_count)
    return imported_now


def _resume_or_start(session: Session, shop: Shop, days: int) -> Backfill:
    since = (utcnow() - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    unfinished = session.scalar(
        select(Backfill)
        .where(Backfill.shop_id == shop.id, Backfill.finished_at.is_(None), Backfill.since == since)
        .order_by(Backfill.id.desc())
    )
    if unfinished is not None:
        return unfinished
    backfill = Backfill(shop_id=shop.id, since=since, imported=0)
    session.add(backfill)
    session.commit()
    return backfill


def gid_number(gid: str | None) -> int | None:
    """123 from "gid://shopify/Order/123"."""
    if not gid:
        return None
    return int(str(gid).rsplit("/", 1)[-1])


def _money(value: dict | None) -> Decimal | None:
    amount = ((value or {}).get("shopMoney") or {}).get("amount")
    try:
        return Decimal(amount) if amount is not None else None
    except InvalidOperation:
        return None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def order_from_graphql(node: dict) -> OrderData:
    order_id = gid_number(node["id"])
    customer = node.get("customer") or {}
    address = node.get("shippingAddress") or {}
    name = node.get("name")
    number = re.fullmatch(r"#?(\d+)", name or "")
    return OrderData(
        shopify_id=order_id,
        updated_at=_time(node["updatedAt"]),
        created_at=_time(node.get("createdAt")),
        name=name,
        number=int(number.group(1)) if number else None,
        email=node.get("email"),
        phone=node.get("phone"),
        customer_id=gid_number(customer.get("id")),
        customer_first_name=customer.get("firstName") or address.get("firstName"),
        locale=node.get("customerLocale"),
        financial_status=(node.get("displayFinancialStatus") or "").lower() or None,
        fulfillment_status=_FULFILLMENT_STATUS.get(node.get("displayFulfillmentStatus") or ""),
        cancelled_at=_time(node.get("cancelledAt")),
        currency=node.get("currencyCode"),
        total_price=_money(node.get("totalPriceSet")),
        subtotal_price=_money(node.get("subtotalPriceSet")),
        shipping_city=address.get("city"),
        shipping_country=address.get("country"),
        tags=", ".join(node.get("tags") or []) or None,
        line_items=tuple(
            LineItemData(
                shopify_id=gid_number(li["id"]),
                quantity=li.get("quantity") or 0,
                title=li.get("title"),
                variant_title=li.get("variantTitle"),
                sku=li.get("sku"),
                product_id=gid_number((li.get("product") or {}).get("id")),
                variant_id=gid_number((li.get("variant") or {}).get("id")),
                price=_money(li.get("originalUnitPriceSet")),
                requires_shipping=li.get("requiresShipping", True),
                gift_card=bool(li.get("isGiftCard")),
            )
            for li in (node.get("lineItems") or {}).get("nodes", [])
        ),
        fulfillments=tuple(_fulfillment(f, order_id) for f in node.get("fulfillments") or []),
    )


def _fulfillment(node: dict, order_id: int) -> FulfillmentData:
    tracking = node.get("trackingInfo") or []
    display = (node.get("displayStatus") or "").lower()
    return FulfillmentData(
        shopify_id=gid_number(node["id"]),
        order_shopify_id=order_id,
        updated_at=_time(node["updatedAt"]),
        created_at=_time(node.get("createdAt")),
        name=node.get("name"),
        status=(node.get("status") or "").lower() or None,
        # displayStatus mixes shipment statuses with others (FULFILLED, CANCELED…): keep only the former.
        shipment_status=display if shipments.stage(display) is not None else None,
        tracking_company=next((t.get("company") for t in tracking if t.get("company")), None),
        tracking_numbers=tuple(t["number"] for t in tracking if t.get("number")),
        tracking_urls=tuple(t["url"] for t in tracking if t.get("url")),
        estimated_delivery_at=_time(node.get("estimatedDeliveryAt")),
        line_items=tuple(
            (gid_number(item["lineItem"]["id"]), item.get("quantity") or 0)
            for item in (node.get("fulfillmentLineItems") or {}).get("nodes", [])
        ),
    )
