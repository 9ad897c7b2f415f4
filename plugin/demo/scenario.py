"""The demo's sample store: five orders, three carriers, and the scenario
that moves them through their lifecycle as the webhooks Shopify would send
(REST payload shapes, signed like Shopify's). Pure data: nothing here touches
the database or the network; ``player.py`` posts it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ..signatures import webhook_hmac

DEMO_SHOP = "aftercare-demo.myshopify.com"


# =========================================================================== sample payloads

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


# =========================================================================== the scenario

MAYA = SampleOrder(
    1001,
    Customer("Maya", "Thompson", "maya.thompson@example.com", "+15035550142", "en-US", "USD",
             "1420 SE Ankeny St", "Portland", "97214", "Oregon", "OR", "United States", "US"),
    (Item("Merino Wool Beanie", "Charcoal", "BEANIE-CHR", Decimal("32.00")),
     Item("Trail Socks (3-pack)", "M", "SOCKS-3-M", Decimal("18.00"), 2)),
    shipping=Decimal("6.95"), tax_rate=Decimal("0"), tags="demo",
)
KENTA = SampleOrder(
    1002,
    Customer("健太", "佐藤", "kenta.sato@example.jp", "+81665550123", "ja", "JPY",
             "北区梅田 3-1-1", "大阪市", "530-0001", "大阪府", "JP-27", "Japan", "JP"),
    (Item("Tea & Biscuits Gift Set", "Large", "TEA-BISC-L", Decimal("4800.00")),),
    shipping=Decimal("1500.00"), tax_rate=Decimal("0.10"), tags="demo, gift",
)
ZOE = SampleOrder(
    1003,
    Customer("Zoë", "Müller", "zoe.mueller@example.de", None, "de-DE", "EUR",
             "Kastanienallee 12", "Berlin", "10435", None, None, "Germany", "DE"),
    (Item("Ceramic Pour-Over Set", None, "POUR-OVER", Decimal("54.90")),),
    shipping=Decimal("4.90"), tax_rate=Decimal("0.19"), tags="demo",
)
AMARA = SampleOrder(
    1004,
    Customer("Amara", "Okafor", "amara.okafor@example.co.uk", "+447700900123", "en-GB", "GBP",
             "22 Canal Street", "Manchester", "M1 3HE", "England", "ENG", "United Kingdom", "GB"),
    (Item("Linen Apron", "Sage", "APRON-SAGE", Decimal("28.00")),),
    shipping=Decimal("3.99"), tax_rate=Decimal("0"), tags="demo",
)
LUCAS = SampleOrder(
    1005,
    Customer("Lucas", "Martin", "lucas.martin@example.fr", None, "fr-FR", "EUR",
             "8 Rue de la Roquette", "Paris", "75011", None, None, "France", "FR"),
    (Item("Leather Card Holder", "Tan", "CARD-TAN", Decimal("39.00")),),
    shipping=Decimal("5.00"), tax_rate=Decimal("0.20"), tags="demo",
)

UPS = Carrier("UPS", "1Z999AA10123456784", "https://www.ups.com/track?loc=en_US&tracknum=1Z999AA10123456784")
DHL = Carrier("DHL Express", "4087326519",
              "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id=4087326519")
DPD = Carrier("DPD", "01905027463291", "https://tracking.dpd.de/status/de_DE/parcel/01905027463291")


@dataclass(frozen=True)
class Step:
    label: str                          # printed as "  #1001 out for delivery"
    deliveries: tuple[tuple[str, dict], ...]   # (topic, body) posted in this order


def scenario(now: datetime | None = None) -> list[Step]:
    """The demo's steps, with Shopify timestamps on a simulated clock that
    starts three days ago and only moves forward (the newer ``updated_at`` wins)."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    start = now - timedelta(days=3)

    def at(hours: float) -> datetime:
        return start + timedelta(hours=hours)

    created = {MAYA: at(0), KENTA: at(0.4), ZOE: at(2), AMARA: at(3.5), LUCAS: at(4)}
    shipped = {MAYA: at(20), KENTA: at(22), ZOE: at(24)}
    carrier = {MAYA: UPS, KENTA: DHL, ZOE: DPD}
    event_ids = iter(range(EVENT_ID_BASE + 1, EVENT_ID_BASE + 1000))

    def placed(order: SampleOrder, financial_status: str = "paid") -> Step:
        when = created[order]
        body = order_body(order, created_at=when, updated_at=when + timedelta(seconds=5),
                          financial_status=financial_status)
        return Step(f"placed by {order.customer.first_name} ({financial_status})", (("orders/create", body),))

    def ship(order: SampleOrder) -> Step:
        when = shipped[order]
        fulfillment = fulfillment_body(order, carrier[order], created_at=when, updated_at=when)
        fulfilled = order_body(order, created_at=created[order], updated_at=when + timedelta(seconds=2),
                               fulfillment_status="fulfilled", fulfillments=(fulfillment,))
        return Step(f"shipped with {carrier[order].company}, tracking {carrier[order].number}",
                    (("fulfillments/create", fulfillment), ("orders/fulfilled", fulfilled)))

    def track(order: SampleOrder, hours: float, status: str, label: str, **event) -> Step:
        """A carrier scan: Shopify sends the fulfillment event and the fulfillment
        with its new shipment status."""
        when = at(hours)
        body = event_body(order, next(event_ids), status, happened_at=when, **event)
        fulfillment = fulfillment_body(order, carrier[order], created_at=shipped[order],
                                       updated_at=when + timedelta(minutes=1), shipment_status=status)
        return Step(label, (("fulfillment_events/create", body), ("fulfillments/update", fulfillment)))

    paid = order_body(MAYA, created_at=created[MAYA], updated_at=at(1), financial_status="paid")
    cancelled = order_body(LUCAS, created_at=created[LUCAS], updated_at=at(6) + timedelta(seconds=3),
                           financial_status="refunded", cancelled_at=at(6), cancel_reason="customer")
    steps = [
        (MAYA, placed(MAYA, "pending")),
        (KENTA, placed(KENTA)),
        (MAYA, Step("paid", (("orders/paid", paid),))),
        (ZOE, placed(ZOE)),
        (AMARA, placed(AMARA)),
        (LUCAS, placed(LUCAS)),
        (LUCAS, Step("cancelled by the customer (refunded)", (("orders/cancelled", cancelled),))),
        (MAYA, ship(MAYA)),
        (KENTA, ship(KENTA)),
        (ZOE, ship(ZOE)),
        (MAYA, track(MAYA, 30, "in_transit", "in transit (Louisville, KY)", message="Departed UPS facility",
                     city="Louisville", province="Kentucky", country="United States", zip="40209",
                     estimated_delivery_at=at(56))),
        (KENTA, track(KENTA, 34, "in_transit", "in transit (Leipzig hub)", message="Processed at DHL hub",
                      city="Leipzig", country="Germany", estimated_delivery_at=at(70))),
        (MAYA, track(MAYA, 46, "out_for_delivery", "out for delivery", message="Out for delivery",
                     city="Portland", province="Oregon", country="United States", zip="97214")),
        (ZOE, track(ZOE, 50, "attempted_delivery", "delivery attempted, nobody home",
                    message="Recipient not at home; notification card left", city="Berlin", country="Germany",
                    zip="10435", estimated_delivery_at=at(74))),
        (MAYA, track(MAYA, 54, "delivered", "delivered", message="Delivered, front porch",
                     city="Portland", province="Oregon", country="United States", zip="97214")),
        (KENTA, track(KENTA, 58, "delayed", "delayed: held at customs",
                      message="Held at customs in Narita; clearance pending", city="Narita", country="Japan",
                      estimated_delivery_at=now + timedelta(days=2))),
        (ZOE, track(ZOE, 66, "failure", "delivery failed, returning to depot",
                    message="Delivery failed after 3 attempts; parcel returned to the depot",
                    city="Berlin", country="Germany", zip="10435")),
    ]
    return [Step(f"{order.name} {step.label}", step.deliveries) for order, step in steps]


def webhook_headers(topic: str, body: bytes, secret: str, api_version: str) -> dict[str, str]:
    """The headers Shopify sends with every webhook."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": webhook_hmac(secret, body),
        "X-Shopify-Shop-Domain": DEMO_SHOP,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "X-Shopify-API-Version": api_version,
    }
