"""The mandatory privacy webhooks, each with a real effect."""

from __future__ import annotations

from sqlalchemy import func, select

from plugin.models import DataExport, Notification, Order, Shop, TrackingEvent, WebhookDelivery
from plugin.privacy import REDACTED_PAYLOAD

from ..conftest import API_KEY, SECRET, SHOP, database_dump, db, load_payload
from ..fake_shopify import make_session_token

JON = {"id": 115310627314723954, "email": "jon@example.com", "phone": "+15551234567"}


def two_customers(webhooks, run_worker):
    """Jon's order #1001 (shipped, tracked) and Ada's order #1002."""
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
    webhooks.post("fulfillment_events/create", load_payload("fulfillment_event_create"))
    ada = load_payload("order_create")
    ada.update(id=2002, name="#1002", order_number=1002, email="ada@example.org", phone="+442079460000",
               contact_email="ada@example.org", fulfillments=[])
    ada["customer"].update(id=77, first_name="Ada", last_name="Lovelace", email="ada@example.org")
    ada["shipping_address"].update(first_name="Ada", last_name="Lovelace", name="Ada Lovelace", city="London",
                                   phone="020 7946 0000", address1="12 St James's Square")
    ada["billing_address"].update(first_name="Ada", last_name="Lovelace", name="Ada Lovelace", phone="020 7946 0000")
    for li in ada["line_items"]:
        li["id"] += 1
    webhooks.post("orders/create", ada)
    run_worker()


def test_data_request_exports_everything_about_the_customer(app, shop, webhooks, run_worker, client):
    session = db()
    session.get(Shop, shop).email = "owner@test-shop.example"
    session.commit()
    two_customers(webhooks, run_worker)
    webhooks.post("customers/data_request", {
        "shop_id": 954889, "shop_domain": SHOP, "orders_requested": [820982911946154508],
        "customer": JON, "data_request": {"id": 9999}})
    run_worker()

    [export] = db().scalars(select(DataExport)).all()
    content = export.content
    assert content["data_request_id"] == "9999"
    assert [o["name"] for o in content["orders"]] == ["#1001"]  # Jon's only
    assert content["orders"][0]["fulfillments"][0]["events"][0]["city"] == "Louisville"
    assert "ada@example.org" not in str(content)
    # The store owner is told through the outbox.
    [notice] = db().scalars(select(Notification).where(Notification.kind == "data_export")).all()
    assert (notice.recipient, notice.status, notice.context) == ("owner@test-shop.example", "pending", {"export_id": export.id})

    bearer = {"Authorization": "Bearer " + make_session_token(API_KEY, SECRET, SHOP)}
    listed = client.get("/api/admin/data-exports", headers=bearer).json
    assert [e["id"] for e in listed] == [export.id]
    download = client.get(f"/api/admin/data-exports/{export.id}", headers=bearer)
    assert download.status_code == 200
    assert download.json["orders"][0]["email"] == "jon@example.com"
    assert "attachment" in download.headers["Content-Disposition"]


def test_customer_redact_leaves_no_trace_of_the_customer_but_keeps_counts(app, shop, webhooks, run_worker):
    two_customers(webhooks, run_worker)
    webhooks.post("customers/data_request", {
        "shop_id": 954889, "shop_domain": SHOP, "orders_requested": [820982911946154508],
        "customer": JON, "data_request": {"id": 1}})
    run_worker()
    before = database_dump(app)
    for trace in ("jon@example.com", "+15551234567", "Jon", "Snow", "Shippington", "Louisville"):
        assert trace in before  # the test would prove nothing otherwise

    webhooks.post("customers/redact", {
        "shop_id": 954889, "shop_domain": SHOP, "customer": JON, "orders_to_redact": [820982911946154508]})
    run_worker()

    after = database_dump(app)
    for trace in ("jon@example.com", "+15551234567", "Jon", "Snow", "Shippington", "Louisville", "555-555-SHIP"):
        assert trace not in after, trace
    assert "ada@example.org" in after and "Ada" in after  # the other customer is untouched
    session = db()
    assert session.scalar(select(func.count()).select_from(Order)) == 2  # counts stay
    assert session.scalar(select(func.count()).select_from(TrackingEvent)) == 1
    jon = session.scalar(select(Order).where(Order.shopify_id == 820982911946154508))
    assert (jon.name, jon.email, jon.customer_first_name, str(jon.total_price)) == ("#1001", None, None, "409.94")
    assert session.scalar(select(func.count()).select_from(DataExport)) == 0
    redaction = [d for d in after.splitlines() if d.startswith("webhook_deliveries:") and "customers/redact" in d]
    assert len(redaction) == 1 and REDACTED_PAYLOAD.decode() in redaction[0]


def test_customer_redact_by_email_alone_finds_the_orders(app, shop, webhooks, run_worker):
    two_customers(webhooks, run_worker)
    webhooks.post("customers/redact", {"shop_id": 1, "shop_domain": SHOP,
                                       "customer": {"id": None, "email": "ADA@example.org", "phone": None},
                                       "orders_to_redact": []})
    run_worker()
    after = database_dump(app)
    assert "ada@example.org" not in after.lower() and "Lovelace" not in after
    assert "jon@example.com" in after


def test_compliance_topics_are_acted_on_after_uninstall(app, shop, webhooks, run_worker):
    two_customers(webhooks, run_worker)
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    webhooks.post("customers/redact", {"shop_id": 548380009, "shop_domain": SHOP, "customer": JON,
                                       "orders_to_redact": []})
    run_worker()
    assert "jon@example.com" not in database_dump(app)


def test_shop_redact_for_an_unknown_shop_is_answered_and_changes_nothing(app, shop, webhooks, run_worker):
    two_customers(webhooks, run_worker)
    response = webhooks.post("shop/redact", {"shop_id": 5, "shop_domain": "stranger.myshopify.com"},
                             shop="stranger.myshopify.com")
    assert response.status_code == 200
    run_worker()
    assert db().scalar(select(func.count()).select_from(Order)) == 2


def test_shop_redact_only_erases_that_shop(app, shop, webhooks, run_worker, runner):
    runner("shops", "add", "other-shop.myshopify.com", "--token", "t")
    other = load_payload("order_create")
    other.update(id=3003, fulfillments=[])
    other["line_items"] = []
    webhooks.post("orders/create", other, shop="other-shop.myshopify.com")
    two_customers(webhooks, run_worker)
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    webhooks.post("shop/redact", {"shop_id": 548380009, "shop_domain": SHOP})
    run_worker()
    dump = database_dump(app)
    assert SHOP not in dump and "ada@example.org" not in dump
    assert "other-shop.myshopify.com" in dump
    assert db().scalar(select(func.count()).select_from(Order)) == 1


def _order_of(order_id: int, email: str, customer_id: int, customer_email: str, tracking: str,
              first_name: str) -> tuple[dict, dict]:
    order = load_payload("order_create")
    order.update(id=order_id, name=f"#{order_id}", order_number=order_id, email=email, contact_email=email,
                 phone=None, fulfillments=[])
    order["customer"].update(id=customer_id, email=customer_email, first_name=first_name, last_name="Else")
    order["shipping_address"].update(first_name=first_name, phone=f"555-{order_id}")
    order["line_items"] = []
    fulfillment = load_payload("fulfillment_create")
    fulfillment.update(id=order_id + 1, order_id=order_id, email=email, tracking_numbers=[tracking],
                       tracking_urls=[f"https://carrier.example/track/{tracking}"], tracking_company="CarrierCo")
    fulfillment["line_items"] = []
    return order, fulfillment


def test_customer_redact_erases_the_customers_orders_whole_and_nothing_of_a_lookalike(app, shop, webhooks, run_worker):
    # John ordered with a work address on the order; his customer record has the redacted one.
    for order, fulfillment in (
        _order_of(4001, "john.w@work.example", 444, "john@example.com", "1ZJOHN", "Jonathan"),
        _order_of(4002, "bigjohn@example.com", 555, "bigjohn@example.com", "1ZBIGJOHN", "Bartholomew"),
    ):
        webhooks.post("orders/create", order)
        webhooks.post("fulfillments/create", fulfillment)
    run_worker()
    before = database_dump(app)
    assert "john.w@work.example" in before and "1ZJOHN" in before

    # Shopify's own sample body: none of its ids are ours, only the email is.
    webhooks.post("customers/redact", {
        "shop_id": 954889, "shop_domain": SHOP,
        "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
        "orders_to_redact": [299938, 280263, 220458]})
    run_worker()

    after = database_dump(app)
    for trace in ("john.w@work.example", "1ZJOHN", "Jonathan", "555-4001"):
        assert trace not in after.replace("1ZBIGJOHN", "").replace("bigjohn@", ""), trace
    assert "john@example.com" not in after.replace("bigjohn@example.com", "")
    john = db().scalar(select(Order).where(Order.shopify_id == 4001))
    assert (john.email, john.customer_email, john.customer_id, john.shipping_phone) == (None, None, None, None)
    assert (john.fulfillments[0].tracking_numbers, john.fulfillments[0].tracking_company) == ([], None)
    # The lookalike keeps everything, stored bodies included.
    assert "bigjohn@example.com" in after and "1ZBIGJOHN" in after and "Bartholomew" in after
    bigjohn = db().scalar(select(Order).where(Order.shopify_id == 4002))
    assert (bigjohn.email, bigjohn.fulfillments[0].tracking_numbers) == ("bigjohn@example.com", ["1ZBIGJOHN"])
    kept = db().scalars(select(WebhookDelivery.topic).where(WebhookDelivery.topic != "customers/redact")).all()
    assert sorted(kept) == ["fulfillments/create", "orders/create"]  # bigjohn's two, not john's
