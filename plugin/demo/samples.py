"""The demo's sample orders as Shopify's webhooks carry them: customers,
items and carriers, and the REST bodies of an order, a fulfillment and a
tracking event built from them. Pure data, as ``scenario.py`` uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

ORDER_ID_BASE = 5_800_000_000_000        # order #1001 is 5_800_000_001_001
LINE_ITEM_ID_BASE = 13_900_000_000_000
FULFILLMENT_ID_BASE = 4_700_000_000_000
EVENT_ID_BASE = 31_000_000_000_000
CUSTOMER_ID_BASE = 7_200_000_000_000
PRODUCT_ID_BASE = 8_100_000_000_000
VARIANT_ID_BASE = 44_000_000_000_000
DEMO_SHOP_SHOPIFY_ID = 690_933_842
LOCATION_ID = 905_684_977


def _ts(value: datetime) -> str:
    """Shopify's REST timestamp format: seconds, with offset."""
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class Customer:
    first_name: str
    last_name: str
    email: str
    phone: str | None
    locale: str
    currency: str
    address1: str
    city: str
    zip: str
    province: str | None
    province_code: str | None
    country: str
    country_code: str


@dataclass(frozen=True)
class Item:
    title: str
    variant_title: str | None
    sku: str
    price: Decimal
    quantity: int = 1


@dataclass(frozen=True)
class SampleOrder:
    number: int
    customer: Customer
    items: tuple[Item, ...]
    shipping: Decimal
    tax_rate: Decimal
    tags: str = ""

    @property
    def id(self) -> int:
        return ORDER_ID_BASE + self.number

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def fulfillment_id(self) -> int:
        return FULFILLMENT_ID_BASE + self.number

    def line_item_id(self, index: int) -> int:
        return LINE_ITEM_ID_BASE + self.number * 10 + index


def _address(c: Customer) -> dict:
    return {
        "first_name": c.first_name, "last_name": c.last_name, "name": f"{c.first_name} {c.last_name}",
        "address1": c.address1, "address2": None, "company": None, "city": c.city, "zip": c.zip,
        "province": c.province, "province_code": c.province_code, "country": c.country,
        "country_code": c.country_code, "phone": c.phone, "latitude": None, "longitude": None,
    }


def _line_item(order: SampleOrder, index: int, item: Item, fulfilled: bool) -> dict:
    line_item_id = order.line_item_id(index)
    return {
        "id": line_item_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line_item_id}",
        "title": item.title,
        "name": f"{item.title} - {item.variant_title}" if item.variant_title else item.title,
        "variant_title": item.variant_title,
        "sku": item.sku,
        "quantity": item.quantity,
        "current_quantity": item.quantity,
        "fulfillable_quantity": 0 if fulfilled else item.quantity,
        "fulfillment_status": "fulfilled" if fulfilled else None,
        "fulfillment_service": "manual",
        "price": _money(item.price),
        "total_discount": "0.00",
        "product_id": PRODUCT_ID_BASE + order.number * 10 + index,
        "variant_id": VARIANT_ID_BASE + order.number * 10 + index,
        "product_exists": True,
        "requires_shipping": True,
        "gift_card": False,
        "taxable": True,
        "grams": 450,
        "vendor": "Aftercare Demo Goods",
        "properties": [],
        "tax_lines": [],
        "duties": [],
        "discount_allocations": [],
    }


def order_body(order: SampleOrder, *, created_at: datetime, updated_at: datetime,
               financial_status: str = "paid", fulfillment_status: str | None = None,
               cancelled_at: datetime | None = None, cancel_reason: str | None = None,
               fulfillments: tuple[dict, ...] = ()) -> dict:
    """An orders/* webhook body (REST shape)."""
    c = order.customer
    subtotal = sum((i.price * i.quantity for i in order.items), Decimal(0))
    tax = (subtotal * order.tax_rate).quantize(Decimal("0.01"))
    total = subtotal + order.shipping + tax
    fulfilled = fulfillment_status == "fulfilled"
    return {
        "id": order.id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order.id}",
        "name": order.name,
        "number": order.number - 1000,
        "order_number": order.number,
        "confirmation_number": f"DEMO{order.number}",
        "email": c.email,
        "contact_email": c.email,
        "phone": c.phone,
        "created_at": _ts(created_at),
        "processed_at": _ts(created_at),
        "updated_at": _ts(updated_at),
        "cancelled_at": _ts(cancelled_at) if cancelled_at else None,
        "cancel_reason": cancel_reason,
        "closed_at": None,
        "confirmed": True,
        "test": False,
        "currency": c.currency,
        "presentment_currency": c.currency,
        "customer_locale": c.locale,
        "financial_status": financial_status,
        "fulfillment_status": fulfillment_status,
        "subtotal_price": _money(subtotal),
        "total_line_items_price": _money(subtotal),
        "total_discounts": "0.00",
        "total_tax": _money(tax),
        "total_price": _money(total),
        "current_total_price": _money(total),
        "tags": order.tags,
        "source_name": "web",
        "customer": {
            "id": CUSTOMER_ID_BASE + order.number,
            "admin_graphql_api_id": f"gid://shopify/Customer/{CUSTOMER_ID_BASE + order.number}",
            "email": c.email,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "phone": c.phone,
            "state": "enabled",
            "verified_email": True,
            "currency": c.currency,
            "tags": "",
        },
        "billing_address": _address(c),
        "shipping_address": _address(c),
        "line_items": [_line_item(order, i, item, fulfilled) for i, item in enumerate(order.items)],
        "shipping_lines": [{
            "id": order.id + 1, "title": "Standard", "code": "Standard", "source": "shopify",
            "price": _money(order.shipping), "discounted_price": _money(order.shipping),
            "carrier_identifier": None, "tax_lines": [],
        }],
        "fulfillments": list(fulfillments),
        "refunds": [],
    }


@dataclass(frozen=True)
class Carrier:
    company: str
    number: str
    url: str


def fulfillment_body(order: SampleOrder, carrier: Carrier, *, created_at: datetime, updated_at: datetime,
                     shipment_status: str | None = None) -> dict:
    """A fulfillments/* webhook body (REST shape): every line item, one tracking number."""
    return {
        "id": order.fulfillment_id,
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{order.fulfillment_id}",
        "order_id": order.id,
        "name": f"{order.name}.1",
        "status": "success",
        "service": "manual",
        "created_at": _ts(created_at),
        "updated_at": _ts(updated_at),
        "shipment_status": shipment_status,
        "location_id": LOCATION_ID,
        "origin_address": None,
        "email": order.customer.email,
        "destination": _address(order.customer),
        "line_items": [_line_item(order, i, item, True) for i, item in enumerate(order.items)],
        "tracking_company": carrier.company,
        "tracking_number": carrier.number,
        "tracking_numbers": [carrier.number],
        "tracking_url": carrier.url,
        "tracking_urls": [carrier.url],
        "receipt": {},
    }


def event_body(order: SampleOrder, event_id: int, status: str, *, happened_at: datetime,
               message: str | None = None, city: str | None = None, province: str | None = None,
               country: str | None = None, zip: str | None = None,
               estimated_delivery_at: datetime | None = None) -> dict:
    """A fulfillment_events/create webhook body (REST shape)."""
    return {
        "id": event_id,
        "admin_graphql_api_id": f"gid://shopify/FulfillmentEvent/{event_id}",
        "fulfillment_id": order.fulfillment_id,
        "order_id": order.id,
        "shop_id": DEMO_SHOP_SHOPIFY_ID,
        "status": status,
        "message": message,
        "happened_at": _ts(happened_at),
        "city": city,
        "province": province,
        "country": country,
        "zip": zip,
        "address1": None,
        "latitude": None,
        "longitude": None,
        "created_at": _ts(happened_at + timedelta(minutes=1)),
        "updated_at": _ts(happened_at + timedelta(minutes=1)),
        "estimated_delivery_at": _ts(estimated_delivery_at) if estimated_delivery_at else None,
    }
