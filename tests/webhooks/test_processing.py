"""The worker turns stored deliveries into order and shipment state."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plugin import orders
from plugin.models import Order, Shop, TrackingEvent, WebhookDelivery, utcnow
from webhooks import handlers, payloads

from ..conftest import db, SHOP, load_payload


def order_state(app, name="#1001") -> dict:
    session = db()
    shop = session.scalar(select(Shop).where(Shop.domain == SHOP))
    order = orders.find_order(session, shop.id, name)
    assert order is not None, f"no order {name}"
    return orders.order_state(order)


def deliveries(app) -> list[WebhookDelivery]:
    session = db()
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def fulfillment_update(status: str | None, updated_at: str, **changes) -> dict:
    body = load_payload("fulfillment_create")
    body.update(shipment_status=status, updated_at=updated_at, **changes)
    return body


def test_order_webhook_becomes_the_order_state(app, shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    assert run_worker() == 1
    state = order_state(app)
    assert state["id"] == "820982911946154508"
    assert (state["name"], state["number"], state["email"], state["phone"]) == ("#1001", 1001, "jon@example.com", "+15551234567")
    assert (state["customer_first_name"], state["locale"], state["financial_status"]) == ("Jon", "en-US", "paid")
    assert (state["currency"], state["total_price"], state["tags"]) == ("USD", "409.94", "vip, newsletter")
    assert state["shipping"] == {"city": "Shippington", "country": "United States", "phone": "555-555-SHIP"}
    assert [(li["id"], li["sku"], li["quantity"]) for li in state["line_items"]] == [
        ("866550311766439020", "IPOD2008PINK", 1), ("141249953214522974", "IPOD2008BLACK", 1)]
    assert deliveries(app)[0].status == "processed"


def test_order_found_by_number_without_hash(app, shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    assert order_state(app, "1001")["name"] == "#1001"


def test_older_order_payload_changes_nothing(app, shop, webhooks, run_worker):
    newer = load_payload("order_create")
    newer.update(financial_status="refunded", updated_at="2026-11-03T00:00:00Z")
    older = load_payload("order_create")
    older.update(financial_status="pending", updated_at="2026-11-01T00:00:00Z", email="old@example.com")
    webhooks.post("orders/updated", newer)
    run_worker()
    webhooks.post("orders/updated", older)
    run_worker()
    state = order_state(app)
    assert (state["financial_status"], state["email"]) == ("refunded", "jon@example.com")


def test_cancelled_order_records_when(app, shop, webhooks, run_worker):
    body = load_payload("order_create")
    body.update(cancelled_at="2026-11-01T12:00:00-05:00", cancel_reason="customer", updated_at="2026-11-01T12:00:01-05:00")
    webhooks.post("orders/cancelled", body)
    run_worker()
    assert order_state(app)["cancelled_at"] == "2026-11-01T17:00:00+00:00"


def test_fulfillment_before_its_order_creates_a_shell_filled_in_later(app, shop, webhooks, run_worker):
    webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
    run_worker()
    session = db()
    shell = session.scalar(select(Order).where(Order.shopify_id == 820982911946154508))
    assert shell.name is None and len(shell.fulfillments) == 1
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    state = order_state(app)
    assert state["email"] == "jon@example.com"
    assert [f["tracking_numbers"] for f in state["fulfillments"]] == [["1Z2345"]]
    assert db().scalar(select(func.count()).select_from(Order)) == 1


def test_shipment_moves_forward_and_a_late_in_transit_changes_nothing(app, shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    for name in ("fulfillment_create", "fulfillment_update_in_transit", "fulfillment_update_out_for_delivery",
                 "fulfillment_update_delivered"):
        webhooks.post("fulfillments/update", load_payload(name))
        run_worker()
    delivered = order_state(app)["fulfillments"][0]
    assert delivered["shipment_status"] == "delivered"
    assert delivered["delivered_at"] == "2026-11-04T19:22:00+00:00"
    assert delivered["tracking_company"] == "UPS"
    assert [li["quantity"] for li in delivered["line_items"]] == [1]

    late = fulfillment_update("in_transit", "2026-11-05T10:00:00-05:00")
    webhooks.post("fulfillments/update", late)
    run_worker()
    after = order_state(app)["fulfillments"][0]
    assert after["shipment_status"] == "delivered"
    assert after["delivered_at"] == delivered["delivered_at"]
    assert [e["status"] for e in after["events"]] == ["in_transit", "out_for_delivery", "delivered", "in_transit"]


def test_carrier_event_is_appended_and_sets_the_estimate(app, shop, webhooks, run_worker):
    webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
    webhooks.post("fulfillment_events/create", load_payload("fulfillment_event_create"))
    run_worker()
    session = db()
    order = session.scalar(select(Order).where(Order.shopify_id == 820982911946154508))
    state = orders.order_state(order)["fulfillments"][0]
    assert state["shipment_status"] == "in_transit"
    assert state["estimated_delivery_at"] == "2026-11-04T22:00:00+00:00"
    [event] = state["events"]
    assert (event["message"], event["city"], event["source"]) == ("Departed facility", "Louisville", "carrier")


def test_status_seen_on_a_fulfillment_after_its_carrier_event_is_not_repeated(app, shop, webhooks, run_worker):
    webhooks.post("fulfillment_events/create", load_payload("fulfillment_event_create"))  # in_transit at 18:30
    webhooks.post("fulfillments/update", load_payload("fulfillment_update_in_transit"))  # in_transit at 19:00
    run_worker()
    session = db()
    assert [e.status for e in session.scalars(select(TrackingEvent))] == ["in_transit"]


def test_duplicate_carrier_event_is_recorded_once(app, shop, webhooks, run_worker):
    for _ in range(2):
        webhooks.post("fulfillment_events/create", load_payload("fulfillment_event_create"))
    run_worker()
    assert db().scalar(select(func.count()).select_from(TrackingEvent)) == 1
    assert all(d.status == "processed" for d in deliveries(app))


def test_unknown_shipment_status_is_kept_as_an_event_without_changing_state(app, shop, webhooks, run_worker):
    webhooks.post("fulfillments/update", load_payload("fulfillment_update_in_transit"))
    webhooks.post("fulfillments/update", fulfillment_update("teleported", "2026-11-03T00:00:00Z"))
    run_worker()
    session = db()
    order = session.scalar(select(Order))
    state = orders.order_state(order)["fulfillments"][0]
    assert state["shipment_status"] == "in_transit"
    assert [e["status"] for e in state["events"]] == ["in_transit", "teleported"]
    assert all(d.status == "processed" for d in deliveries(app))


def test_unknown_topic_is_stored_and_ignored_without_error(app, shop, webhooks, run_worker):
    webhooks.post("products/create", {"id": 1, "title": "Hat"})
    run_worker()
    [delivery] = deliveries(app)
    assert (delivery.topic, delivery.status, delivery.error) == ("products/create", "processed", None)


@pytest.mark.parametrize("field,value,message", [
    ("id", "820982911946154508", "id: expected a positive 64-bit integer id"),
    ("updated_at", 12345, "updated_at: expected an ISO-8601 timestamp"),
    ("line_items", "two hats", "line_items: expected a list"),
    ("total_price", {"amount": 1}, "total_price: expected an amount"),
    ("name", ["#1001"], "name: expected a string"),
    ("id", 2**64, "id: expected a positive 64-bit integer id"),
])
def test_wrong_field_types_fail_clearly_and_store_nothing(app, shop, webhooks, run_worker, runner, field, value, message):
    body = load_payload("order_create")
    body[field] = value
    webhooks.post("orders/create", body)
    run_worker()
    [delivery] = deliveries(app)
    assert delivery.status == "failed"
    assert message in delivery.error
    assert delivery.next_attempt_at is None
    assert db().scalar(select(func.count()).select_from(Order)) == 0
    assert json.loads(runner("webhooks", "failed").output)[0]["error"] == delivery.error


def test_wrong_type_inside_a_line_item_names_its_path(app, shop, webhooks, run_worker):
    body = load_payload("order_create")
    body["line_items"][1]["quantity"] = "2"
    webhooks.post("orders/create", body)
    run_worker()
    assert "line_items[1].quantity: expected an integer" in deliveries(app)[0].error


def test_ids_above_2_53_are_kept_exactly(app, shop, webhooks, run_worker, runner):
    body = load_payload("order_create")
    body["id"] = 2**53 + 1
    body["line_items"][0]["id"] = 2**63 - 1
    webhooks.post("orders/create", body)
    run_worker()
    shown = json.loads(runner("orders", "show", "--shop", SHOP, "#1001").output)
    assert shown["id"] == "9007199254740993"
    assert shown["line_items"][0]["id"] == "9223372036854775807"


def test_non_latin_names_and_markup_are_kept_as_written(app, shop, webhooks, run_worker, runner):
    body = load_payload("order_create")
    body["customer"]["first_name"] = "Ἀριστοτέλης <script>alert(1)</script>"
    body["line_items"][0]["title"] = "お茶 & <b>緑茶</b> — чай"
    body["shipping_address"]["city"] = "القاهرة"
    webhooks.post("orders/create", body)
    run_worker()
    result = runner("orders", "show", "--shop", SHOP, "#1001")
    shown = json.loads(result.output)
    assert shown["customer_first_name"] == "Ἀριστοτέλης <script>alert(1)</script>"
    assert shown["line_items"][0]["title"] == "お茶 & <b>緑茶</b> — чай"
    assert shown["shipping"]["city"] == "القاهرة"


def test_app_uninstalled_marks_the_shop_and_drops_its_token(app, shop, webhooks, run_worker, runner):
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    session = db()
    stored = session.get(Shop, shop)
    assert stored.uninstalled_at is not None and stored.access_token is None
    assert "uninstalled" in runner("shops", "list").output


def test_a_handler_that_raises_is_retried_with_backoff_and_can_be_replayed(app, shop, webhooks, run_worker, runner, monkeypatch):
    def broken(session, shop, body, delivery):
        orders.apply_order(session, shop.id, payloads.order(body))
        raise RuntimeError("upstream hiccup")

    monkeypatch.setitem(handlers.HANDLERS, "orders/create", broken)
    webhooks.post("orders/create", load_payload("order_create"))
    started = utcnow()
    run_worker()
    [delivery] = deliveries(app)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error == "RuntimeError: upstream hiccup"
    assert started + timedelta(seconds=50) < delivery.next_attempt_at < utcnow() + timedelta(seconds=70)
    # Its half-done work was rolled back with it.
    assert db().scalar(select(func.count()).select_from(Order)) == 0
    # Not due yet: a worker run leaves it alone.
    assert run_worker() == 0

    monkeypatch.undo()
    result = runner("webhooks", "replay", str(delivery.id))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "processed"
    assert order_state(app)["email"] == "jon@example.com"


def test_retries_end_in_failed_after_the_last_backoff(app, shop, webhooks, monkeypatch):
    from webhooks import inbox
    monkeypatch.setitem(handlers.HANDLERS, "orders/create", lambda *_: 1 / 0)
    webhooks.post("orders/create", load_payload("order_create"))
    for _ in range(len(inbox.RETRY_DELAYS) + 1):
        session = db()
        session.expire_all()
        delivery = session.scalar(select(WebhookDelivery))
        delivery.next_attempt_at = utcnow() - timedelta(seconds=1)  # make it due now
        session.commit()
        assert inbox.process_next(app)
    delivery = deliveries(app)[0]
    assert delivery.attempts == len(inbox.RETRY_DELAYS) + 1
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)
    assert "ZeroDivisionError" in delivery.error


def test_replay_of_an_unknown_delivery_says_so(app, runner):
    result = runner("webhooks", "replay", "424242")
    assert result.exit_code != 0
    assert "no webhook delivery with id 424242" in result.output


def test_a_database_error_is_stored_and_logged_without_the_statements_values(app, shop, webhooks, run_worker, caplog):
    # Two line items with one id: the INSERT fails on the unique key. Its
    # parameters hold the order's text, which can be personal (an engraving).
    order = load_payload("order_create")
    order["line_items"][1]["id"] = order["line_items"][0]["id"]
    order["line_items"][0]["title"] = "Engraving: for jon@example.com, +15551234567"
    caplog.set_level(logging.DEBUG)
    webhooks.post("orders/create", order)
    run_worker()
    [delivery] = deliveries(app)
    assert delivery.status == "failed" and "IntegrityError" in delivery.error
    assert "line_items" in delivery.error  # still says what failed
    for trace in ("jon@example.com", "+15551234567", "Engraving", "866550311766439020"):
        assert trace not in delivery.error, trace
        assert trace not in caplog.text, trace
    assert db().scalar(select(func.count()).select_from(Order)) == 0  # and nothing half-done


def test_the_customers_phone_and_the_shipping_phone_are_kept_apart(app, shop, webhooks, run_worker):
    gift = load_payload("order_create")  # no phone of the customer's own; the address has one
    gift.update(phone=None)
    gift["customer"]["phone"] = None
    webhooks.post("orders/create", gift)
    own = load_payload("order_create")
    own.update(id=2002, name="#1002", order_number=1002, phone=None, fulfillments=[])
    own["customer"]["phone"] = "+15550001111"
    own["line_items"] = []
    webhooks.post("orders/create", own)
    run_worker()

    session = db()
    first = session.scalar(select(Order).where(Order.name == "#1001"))
    assert (first.phone, first.shipping_phone) == (None, "555-555-SHIP")
    assert orders.sms_phone(first) == "555-555-SHIP"  # only the address has a number
    second = session.scalar(select(Order).where(Order.name == "#1002"))
    assert (second.phone, second.shipping_phone) == ("+15550001111", "555-555-SHIP")
    assert orders.sms_phone(second) == "+15550001111"  # the customer's own comes first
    state = order_state(app, "#1001")
    assert (state["phone"], state["shipping"]["phone"]) == (None, "555-555-SHIP")


def test_a_malformed_field_is_named_without_its_text(app, shop, webhooks, run_worker):
    body = load_payload("order_create")
    body["customer"]["id"] = "jon@example.com"
    webhooks.post("orders/create", body)
    run_worker()
    [delivery] = deliveries(app)
    assert "customer.id: expected a positive 64-bit integer id, got a string of 15 characters" in delivery.error
    assert "jon@example.com" not in delivery.error
