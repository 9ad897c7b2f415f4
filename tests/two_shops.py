"""Two installed shops whose data overlap where real shops' do: both have an
order #1001 placed by shared@example.com. Everything else of each shop is
marked with words only that shop has (its shopper's first name, city,
tracking number, product, support address…), so a test can ask "did any of
the other shop's data leak into this answer?" by searching for them.

Rows are written directly (this is the data the routes read, not a test of
how it arrives) and ids are kept so that tests can ask one shop's routes for
the other shop's objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from plugin import links, settings, shops
from plugin.db import worker_session
from plugin.models import (DataExport, Fulfillment, FulfillmentLineItem, LineItem, Notification, Order, TrackingEvent,
                           WebhookDelivery)
from plugin.returns import ReturnItem, ReturnRequest
from plugin.surveys import SurveyInvitation, SurveyResponse
from plugin.visits import OrderVisit

from .conftest import SHOP

OTHER_SHOP = "other-shop.myshopify.com"
SHARED_EMAIL = "shared@example.com"
SHARED_NAME = "#1001"


@dataclass
class Side:
    """One shop of the pair, with the ids of its objects and its own words."""

    domain: str
    letter: str
    id: int = 0
    order_id: int = 0  # row id of its #1001
    only_order_id: int = 0  # row id of the order whose number only this shop has
    only_order_name: str = ""
    only_email: str = ""
    order_shopify_id: int = 0
    notification_id: int = 0
    delivery_id: int = 0
    return_id: int = 0
    export_id: int = 0
    invitation_id: int = 0
    answer_id: int = 0  # its low survey answer (CES 2), not followed up
    line_item_id: int = 0  # Shopify id of #1001's line item: 2 bought and shipped, 1 in a return, 1 returnable
    markers: tuple[str, ...] = field(default_factory=tuple)

    def order_token(self, order_id: int | None = None, shop_id: int | None = None) -> str:
        """A signed order token (lookups answer these) naming this shop, or ``shop_id``."""
        return links.dumps("order", shop_id=self.id if shop_id is None else shop_id,
                           order_id=self.order_id if order_id is None else order_id)


def _side(letter: str, domain: str, n: int) -> Side:
    word = {"A": ("Alma", "Aarhus", "Alpha mug"), "B": ("Bettina", "Bergamo", "Bravo kettle")}[letter]
    side = Side(domain=domain, letter=letter)
    side.only_order_name = f"#{7000 + n}"  # only this shop has an order of this number
    side.only_email = f"{word[0].lower()}.only@example.com"
    # What no request of the tests names (so an answer echoing the request
    # cannot be mistaken for a leak): its shopper's first name, city,
    # product, tracking number and URL, private address, support address,
    # survey comment, and an order (name and email) nobody asks for.
    side.markers = (word[0], word[1], word[2], f"{letter}TRACK{n:010d}",
                    f"https://track.example/{letter}TRACK{n:010d}", f"{word[0].lower()}.private@example.com",
                    f"help@{word[1].lower()}.example", f"{word[0]} loved it", f"#{8800 + n}",
                    f"{word[0].lower()}.hidden@example.com")
    return side


def build(app, a_domain: str = SHOP) -> tuple[Side, Side]:
    """Shop A (``a_domain``, the tests' SHOP) and shop B (OTHER_SHOP), each with: order #1001
    by shared@example.com (shipped, a tracking event), an order only it has,
    a failed message, a failed webhook delivery, a return request for one of
    the two items bought (the other may still go back), a data export, a
    survey answered with a high CSAT and a low CES (not followed up yet) and
    its own support address."""
    a, b = _side("A", a_domain, 1), _side("B", OTHER_SHOP, 2)
    now = datetime.now(timezone.utc)
    for n, side in enumerate((a, b), start=1):
        first, city, product, tracking, url, private_email, support, comment, hidden_name, hidden_email = side.markers
        only_email = side.only_email
        with worker_session(app) as session, session.begin():
            shop = shops.install(session, side.domain, shops.static_grant(f"shpat_{side.letter}", "read_orders"))
            shop.shopify_id = 9_100 + n
            shop.name = f"{city} Store"
            shop.email = f"owner@{city.lower()}.example"
            session.flush()
            side.id = shop.id
            settings.update(session, shop.id, {"help.support_email": support})
            side.order_shopify_id = 5_550_000_000_000_000 + n
            order = Order(shop_id=shop.id, shopify_id=side.order_shopify_id, name=SHARED_NAME, number=1001,
                          email=SHARED_EMAIL, customer_email=private_email, customer_first_name=first,
                          shipping_city=city, customer_id=600 + n,
                          locale="en", financial_status="paid", fulfillment_status="fulfilled", currency="EUR",
                          shopify_created_at=now - timedelta(days=5), shopify_updated_at=now - timedelta(days=4))
            only = Order(shop_id=shop.id, shopify_id=5_560_000_000_000_000 + n, name=side.only_order_name,
                         number=7000 + n, email=only_email, customer_first_name=first, shipping_city=city,
                         locale="en", shopify_created_at=now - timedelta(days=3),
                         shopify_updated_at=now - timedelta(days=3))
            hidden = Order(shop_id=shop.id, shopify_id=5_590_000_000_000_000 + n, name=hidden_name, number=8800 + n,
                           email=hidden_email, locale="en", shopify_created_at=now - timedelta(days=2),
                           shopify_updated_at=now - timedelta(days=2))
            session.add_all([order, only, hidden])
            session.flush()
            side.order_id, side.only_order_id = order.id, only.id
            line = LineItem(shop_id=shop.id, order_id=order.id, shopify_id=5_570_000 + n, title=product,
                            quantity=2, price=10)
            parcel = Fulfillment(shop_id=shop.id, order_id=order.id, shopify_id=5_580_000 + n, name="#1001.1",
                                 status="success", shipment_status="delivered", tracking_company=f"{city} Post",
                                 tracking_numbers=[tracking], tracking_urls=[url],
                                 shopify_created_at=now - timedelta(days=4), delivered_at=now - timedelta(days=2))
            session.add_all([line, parcel])
            session.flush()
            session.add_all([
                FulfillmentLineItem(shop_id=shop.id, fulfillment_id=parcel.id, line_item_shopify_id=line.shopify_id,
                                    quantity=2),
                TrackingEvent(shop_id=shop.id, fulfillment_id=parcel.id, status="delivered",
                              message=f"Delivered in {city}", city=city, happened_at=now - timedelta(days=2)),
            ])
            message = Notification(shop_id=shop.id, order_id=order.id, kind="shipped", channel="email",
                                   recipient=private_email, dedupe_key=f"iso-{n}", status="failed", attempts=6,
                                   error="550 mailbox unavailable")
            delivery = WebhookDelivery(shop_id=shop.id, webhook_id=f"iso-{n}", topic="orders/create",
                                       payload=f'{{"id": 1, "email": "{hidden_email}", "note": "{first}"}}'.encode(),
                                       status="failed", attempts=1, error=f"KeyError in {first}'s order",
                                       order_shopify_id=side.order_shopify_id)
            returned = ReturnRequest(shop_id=shop.id, order_id=order.id, key=f"iso-{n}", fingerprint="f" * 64,
                                     note=f"{first} wants her money back", requested_at=now - timedelta(days=1))
            export = DataExport(shop_id=shop.id, request_id=f"req-{n}", customer_id=600 + n,
                                content={"email": private_email, "orders": [{"name": hidden_name, "city": city}]})
            viewed = now - timedelta(days=1)
            visit = OrderVisit(shop_id=shop.id, order_id=order.id, surface="widget", viewed_at=viewed,
                               hour=viewed.replace(minute=0, second=0, microsecond=0))
            session.add_all([message, delivery, returned, export, visit])
            session.flush()
            session.add(ReturnItem(shop_id=shop.id, request_id=returned.id, line_item_shopify_id=line.shopify_id,
                                   quantity=1, reason="DEFECTIVE", note=f"{product} broke"))
            invitation = SurveyInvitation(shop_id=shop.id, order_id=order.id, touchpoint="delivery",
                                          kinds=["csat", "ces"], carrier=f"{city} Post", products=[product],
                                          status="answered",
                                          due_at=now - timedelta(days=1), sent_at=now - timedelta(days=1),
                                          answered_at=now - timedelta(hours=20), locale="en")
            session.add(invitation)
            session.flush()
            low = SurveyResponse(shop_id=shop.id, invitation_id=invitation.id, kind="ces", score=2,
                                 comment=f"{first} waited a week", order_id=order.id, touchpoint="delivery",
                                 carrier=f"{city} Post", products=[product], locale="en",
                                 answered_at=now - timedelta(hours=20))
            session.add_all([low, SurveyResponse(shop_id=shop.id, invitation_id=invitation.id, kind="csat", score=5,
                                                 comment=comment, order_id=order.id, touchpoint="delivery",
                                                 carrier=f"{city} Post", products=[product], locale="en",
                                                 answered_at=now - timedelta(hours=20))])
            session.flush()
            side.answer_id, side.line_item_id = low.id, line.shopify_id
            side.notification_id, side.delivery_id = message.id, delivery.id
            side.return_id, side.export_id, side.invitation_id = returned.id, export.id, invitation.id
    return a, b


def leaked(text: str | bytes, side: Side) -> list[str]:
    """The words of ``side`` that appear in ``text``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [marker for marker in side.markers if marker in text]
