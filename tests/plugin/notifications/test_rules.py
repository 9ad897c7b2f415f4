"""Which messages a customer gets: each step of each parcel once, never a
step behind, nothing for cancelled or test orders, nothing once unsubscribed."""

from __future__ import annotations

import json

from sqlalchemy import select

from plugin.db import worker_session
from plugin.models import Notification, WebhookDelivery
from plugin.notifications import Category, suppress

from ...conftest import db, load_payload
from .conftest import JON, ago, fulfillment, kinds, order, outbox, received, set_settings


def test_each_step_is_sent_once_despite_duplicate_and_replayed_webhooks(app, shop, webhooks, run_worker, smtp, runner):
    webhooks.post("orders/create", order())
    steps = [("in_transit", 300), ("out_for_delivery", 200), ("delivered", 100)]
    for status, minutes in steps:
        body = fulfillment(status, minutes_ago=minutes)
        webhooks.post("fulfillments/update", body, webhook_id=f"w-{status}")
        webhooks.post("fulfillments/update", body, webhook_id=f"w-{status}")  # Shopify retried the same delivery
        webhooks.post("fulfillments/update", body)  # the same change, sent again under a new id
        run_worker()
    for delivery in db().scalars(select(WebhookDelivery)):
        assert runner("webhooks", "replay", str(delivery.id)).exit_code == 0
    run_worker()
    assert received(smtp) == [(JON, "shipped"), (JON, "out_for_delivery"), (JON, "delivered")]
    assert [(n.kind, n.status, n.dedupe_key) for n in outbox()] == [
        ("shipped", "sent", "shipped:email:123456"),
        ("out_for_delivery", "sent", "out_for_delivery:email:123456"),
        ("delivered", "sent", "delivered:email:123456"),
    ]


def test_reordered_webhooks_never_send_a_step_behind(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/update", fulfillment("delivered", minutes_ago=10))
    run_worker()
    # The earlier steps arrive late, then a stray in_transit after delivery.
    webhooks.post("fulfillments/update", fulfillment("out_for_delivery", minutes_ago=100))
    webhooks.post("fulfillments/update", fulfillment("in_transit", minutes_ago=200))
    webhooks.post("fulfillments/update", fulfillment("in_transit", minutes_ago=1))
    run_worker()
    assert received(smtp) == [(JON, "delivered")]
    assert kinds() == ["delivered"]


def test_in_transit_after_delivered_sends_nothing(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit", minutes_ago=300))
    run_worker()
    webhooks.post("fulfillments/update", fulfillment("delivered", minutes_ago=100))
    run_worker()
    smtp.messages.clear()
    webhooks.post("fulfillments/update", fulfillment("in_transit", minutes_ago=5))
    run_worker()
    assert smtp.messages == []
    assert kinds() == ["shipped", "delivered"]


def test_three_parcels_get_three_shipped_messages_each_with_its_parcel(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    for n, fid in enumerate((501, 502, 503)):
        webhooks.post("fulfillments/create", fulfillment(None, minutes_ago=60, fulfillment_id=fid,
                                                         created_at=ago(minutes=90 - n)))
    run_worker()
    assert received(smtp) == [(JON, "shipped")] * 3
    parcels = sorted((n.dedupe_key, n.context["parcel"], n.context["parcels"]) for n in outbox())
    assert parcels == [("shipped:email:501", 1, 3), ("shipped:email:502", 2, 3), ("shipped:email:503", 3, 3)]
    assert len({n.context["fulfillment_id"] for n in outbox()}) == 3


def test_a_parcel_whose_carrier_is_unknown_is_still_announced(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment(name="fulfillment_create_unknown_carrier",
                                                     fulfillment_id=123457))
    run_worker()
    assert received(smtp) == [(JON, "shipped")]
    assert all(d.status == "processed" for d in db().scalars(select(WebhookDelivery)))


def test_cancelled_and_test_orders_get_nothing(app, shop, webhooks, run_worker, smtp):
    set_settings(app, shop, notifications__order_confirmed__email=True)
    cancelled = order(cancelled_at=ago(hours=1), updated_at=ago(minutes=50))
    webhooks.post("orders/cancelled", cancelled)
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    test_order = order(id=820982911946154509, name="#1002", order_number=1002, test=True, line_items=[])
    webhooks.post("orders/create", test_order)
    webhooks.post("fulfillments/create", fulfillment("in_transit", fulfillment_id=9001,
                                                     order_id=820982911946154509))
    run_worker()
    assert outbox() == [] and smtp.messages == []
    assert all(d.status == "processed" for d in db().scalars(select(WebhookDelivery)))


def test_an_order_cancelled_before_its_message_went_gets_nothing(app, shop, shipped_order, webhooks, run_worker, smtp):
    assert kinds("pending") == ["shipped"]  # no mail server until now
    webhooks.post("orders/cancelled", order(cancelled_at=ago(minutes=5), updated_at=ago(minutes=5)))
    run_worker()
    assert smtp.messages == []
    [skipped] = outbox()
    assert (skipped.status, skipped.error) == ("skipped", "order cancelled")


def test_order_confirmed_only_when_switched_on(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    run_worker()
    assert outbox() == []
    set_settings(app, shop, notifications__order_confirmed__email=True)
    webhooks.post("orders/updated", order(updated_at=ago(minutes=1)))
    run_worker()
    assert received(smtp) == [(JON, "order_confirmed")]


def test_a_kind_switched_off_is_not_sent(app, shop, webhooks, run_worker, smtp):
    set_settings(app, shop, notifications__shipped__email=False)
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    run_worker()
    assert outbox() == [] and smtp.messages == []


def test_an_unsubscribed_address_receives_nothing_more(app, shop, shipped_order, webhooks, run_worker, smtp):
    # Unsubscribed after "shipped" was decided but before it went: checked again when sending.
    with worker_session(app) as session, session.begin():
        suppress(session, shop, JON.upper(), Category.SHIPPING)
    run_worker()
    webhooks.post("fulfillments/update", fulfillment("delivered", minutes_ago=1))
    run_worker()
    assert smtp.messages == []
    assert [(n.kind, n.status, n.error) for n in outbox()] == [("shipped", "skipped", "unsubscribed")]


def test_unsubscribing_from_surveys_keeps_shipping_updates(app, shop, webhooks, run_worker, smtp):
    with worker_session(app) as session, session.begin():
        suppress(session, shop, JON, Category.SURVEYS)
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    run_worker()
    assert received(smtp) == [(JON, "shipped")]


def test_collapse_sends_only_the_latest_step_known_when_sending(app, shop, shipped_order, webhooks, run_worker, smtp):
    # No mail server yet: "shipped" waits; the parcel moves on twice meanwhile.
    webhooks.post("fulfillments/update", fulfillment("out_for_delivery", minutes_ago=60))
    webhooks.post("fulfillments/update", fulfillment("delivered", minutes_ago=30))
    run_worker()  # a mail server from here on: all three are due at once
    assert received(smtp) == [(JON, "delivered")]
    assert [(n.kind, n.status) for n in outbox()] == [
        ("shipped", "skipped"), ("out_for_delivery", "skipped"), ("delivered", "sent")]
    assert outbox()[0].error == "collapsed: delivered is already known for this parcel"


def test_orders_show_lists_the_notifications(app, shop, webhooks, run_worker, smtp, runner):
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    run_worker()
    shown = json.loads(runner("orders", "show", "--shop", "test-shop.myshopify.com", "#1001").output)
    [note] = shown["notifications"]
    assert (note["kind"], note["channel"], note["status"], note["error"]) == ("shipped", "email", "sent", None)
    assert note["sent_at"] is not None
    assert load_payload("order_create")["email"] not in json.dumps(shown["notifications"])
    assert db().scalar(select(Notification)).recipient == JON
