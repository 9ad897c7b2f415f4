"""The demo's sample store: five orders, three carriers, and the scenario
that moves them through their lifecycle as the webhooks Shopify would send
(REST payload shapes from ``samples.py``, signed like Shopify's). Pure data:
nothing here touches the database or the network; ``player.py`` posts it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from ..signatures import webhook_hmac
from .samples import EVENT_ID_BASE, Carrier, Customer, Item, SampleOrder, event_body, fulfillment_body, order_body

DEMO_SHOP = "aftercare-demo.myshopify.com"


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
