"""Headers are not signed, bodies are: a captured delivery re-sent with other
headers is refused wherever its body says otherwise (issue 6, mends 1 and 2)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plugin import shops
from plugin.db import worker_session
from plugin.models import Order, Shop, WebhookDelivery, utcnow

from ..conftest import SHOP, database_dump, db, load_payload

OTHER = "other-shop.myshopify.com"
SHOP_ID = 548380009  # the id in Shopify's sample app/uninstalled body
OTHER_ID = 777000111


@pytest.fixture
def two_shops(app, shop):
    """SHOP and OTHER, both installed, each with its Shopify id known from install."""
    with worker_session(app) as session, session.begin():
        other = shops.install(session, OTHER, shops.static_grant("shpat_other_token"))
        other.shopify_id = OTHER_ID
        session.get(Shop, shop).shopify_id = SHOP_ID
        session.flush()
        return shop, other.id


def shop_row(domain: str) -> Shop:
    return db().scalar(select(Shop).where(Shop.domain == domain))


def last_delivery() -> WebhookDelivery:
    return db().scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc())).first()


def assert_refused(delivery: WebhookDelivery, words: str) -> None:
    assert delivery.status == "failed" and delivery.next_attempt_at is None  # for good, not retried
    assert delivery.error.startswith("Mismatch: ") and words in delivery.error


def test_an_order_of_one_shop_resent_as_another_shops_is_refused(app, two_shops, webhooks, run_worker, caplog):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    caplog.set_level(logging.INFO)
    for topic, name in (("orders/updated", "order_create"), ("fulfillments/create", "fulfillment_create"),
                        ("fulfillment_events/create", "fulfillment_event_create")):
        body = load_payload(name)
        body.pop("shop_id", None)  # the order id alone gives it away
        webhooks.post(topic, body, shop=OTHER)
        run_worker()
        assert_refused(last_delivery(), "belongs to another shop")

    _, other_id = two_shops
    assert db().scalar(select(func.count()).select_from(Order).where(Order.shop_id == other_id)) == 0
    assert db().scalar(select(func.count()).select_from(Order)) == 1  # the first shop's own, untouched
    for trace in ("jon@example.com", "+15551234567", "Snow"):
        assert trace not in caplog.text  # logged without personal data
        assert trace not in last_delivery().error


def test_a_fulfillment_event_naming_another_shop_id_is_refused(app, two_shops, webhooks, run_worker):
    event = load_payload("fulfillment_event_create")
    event["shop_id"] = OTHER_ID
    webhooks.post("fulfillment_events/create", event)
    run_worker()
    assert_refused(last_delivery(), "shop_id")
    assert db().scalar(select(func.count()).select_from(Order)) == 0


def test_another_shops_shop_redact_under_this_shops_headers_erases_nothing(app, two_shops, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    assert not shop_row(SHOP).installed
    # OTHER's own shop/redact, captured, posted as SHOP's.
    webhooks.post("shop/redact", {"shop_id": OTHER_ID, "shop_domain": OTHER})
    run_worker()
    assert_refused(last_delivery(), "shop_domain")
    webhooks.post("shop/redact", {"shop_id": OTHER_ID, "shop_domain": SHOP})
    run_worker()
    assert_refused(last_delivery(), "shop_id")
    assert shop_row(SHOP) is not None and "jon@example.com" in database_dump(app)


def test_shop_redact_never_erases_an_installed_shop(app, two_shops, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("shop/redact", {"shop_id": SHOP_ID, "shop_domain": SHOP})
    run_worker()
    assert_refused(last_delivery(), "installed")
    assert shop_row(SHOP).installed and db().scalar(select(func.count()).select_from(Order)) == 1


def test_app_uninstalled_of_another_shop_leaves_this_one_installed(app, two_shops, webhooks, run_worker):
    other_body = {**load_payload("app_uninstalled"), "id": OTHER_ID, "myshopify_domain": OTHER}
    webhooks.post("app/uninstalled", other_body)  # headers name SHOP
    run_worker()
    assert_refused(last_delivery(), "domain")
    webhooks.post("app/uninstalled", {**load_payload("app_uninstalled"), "id": OTHER_ID})  # no domain in it
    run_worker()
    assert_refused(last_delivery(), "id")
    shop = shop_row(SHOP)
    assert shop.installed and shops.access_token(shop) == "shpat_test_token"


def test_a_body_that_is_not_a_shop_cannot_uninstall_a_shop_whose_id_is_unknown(app, shop, webhooks, run_worker):
    assert shop_row(SHOP).shopify_id is None  # added without OAuth
    for body in ({"shop_id": OTHER_ID, "shop_domain": OTHER, "customer": {"id": 1}, "data_request": {"id": 1}},
                 load_payload("order_create")):
        webhooks.post("app/uninstalled", body)
        run_worker()
        assert_refused(last_delivery(), "not a Shop")
    assert shop_row(SHOP).installed and shops.access_token(shop_row(SHOP)) == "shpat_test_token"


def test_customers_redact_of_another_shop_changes_nothing_here(app, two_shops, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    webhooks.post("customers/redact", {"shop_id": OTHER_ID, "shop_domain": OTHER,
                                       "customer": {"id": 115310627314723954, "email": "jon@example.com"},
                                       "orders_to_redact": [820982911946154508]})
    run_worker()
    assert_refused(last_delivery(), "shop_domain")
    order = db().scalar(select(Order))
    assert (order.email, order.phone, order.customer_first_name) == ("jon@example.com", "+15551234567", "Jon")
    topics = db().scalars(select(WebhookDelivery.topic)).all()
    assert sorted(topics) == ["customers/redact", "orders/create"]  # the order's body is kept


def test_the_shop_id_is_learned_from_the_first_compliance_body_then_held_to(app, shop, webhooks, run_worker):
    assert shop_row(SHOP).shopify_id is None  # added without OAuth: not known yet
    customer = {"id": 1, "email": "a@example.com"}
    webhooks.post("customers/data_request", {"shop_id": SHOP_ID, "shop_domain": SHOP,
                                             "customer": customer, "data_request": {"id": 1}})
    run_worker()
    assert last_delivery().status == "processed" and shop_row(SHOP).shopify_id == SHOP_ID
    webhooks.post("customers/data_request", {"shop_id": OTHER_ID, "shop_domain": SHOP,
                                             "customer": customer, "data_request": {"id": 2}})
    run_worker()
    assert_refused(last_delivery(), "shop_id")


def test_a_late_uninstall_does_not_undo_a_fresh_reinstall(app, shop, webhooks, run_worker):
    uninstalled_at = utcnow() - timedelta(minutes=10)
    with worker_session(app) as session, session.begin():  # reinstalled after that uninstall
        shops.install(session, SHOP, shops.static_grant("shpat_fresh_token"))
    stamp = uninstalled_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"), headers={"X-Shopify-Triggered-At": stamp})
    run_worker()
    shop = shop_row(SHOP)
    assert last_delivery().status == "processed"
    assert shop.installed and shops.access_token(shop) == "shpat_fresh_token"

    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))  # triggered now: it counts
    run_worker()
    assert not shop_row(SHOP).installed and shop_row(SHOP).access_token is None
