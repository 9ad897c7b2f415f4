"""Delay detection: late, stalled or carrier-reported parcels get one
`delayed` message each, and their order is flagged for the merchant."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from plugin.models import Order, utcnow
from plugin.notifications import delays

from ...conftest import db, load_payload
from .conftest import JON, ago, fulfillment, kinds, make_due, order, outbox, received, set_settings


def in_transit(webhooks, run_worker, **changes) -> None:
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit", **changes))
    run_worker()


def flagged() -> bool:
    return db().scalar(select(Order.delayed_at)) is not None


def test_past_the_estimate_plus_grace_is_delayed_once(app, shop, webhooks, run_worker, smtp):
    estimate = utcnow() + timedelta(days=1)
    in_transit(webhooks, run_worker, estimated_delivery_at=estimate.isoformat())
    assert delays.scan(app, estimate + timedelta(hours=23)) == 0  # within the default 24 h of grace
    assert not flagged()
    assert delays.scan(app, estimate + timedelta(hours=25)) == 1
    assert delays.scan(app, estimate + timedelta(hours=30)) == 0
    make_due()  # the clock reaches the time of the scan
    run_worker()
    assert received(smtp) == [(JON, "shipped"), (JON, "delayed")]
    assert outbox()[1].context["reason"] == "past its estimated delivery"
    assert outbox()[1].dedupe_key == "delayed:email:123456"
    assert flagged()


def test_the_grace_is_the_shops_setting(app, shop, webhooks, run_worker, smtp):
    set_settings(app, shop, notifications__delay_grace_hours=2)
    estimate = utcnow() + timedelta(days=1)
    in_transit(webhooks, run_worker, estimated_delivery_at=estimate.isoformat())
    assert delays.scan(app, estimate + timedelta(hours=3)) == 1


def test_no_tracking_progress_for_the_stalled_days_is_delayed_once(app, shop, webhooks, run_worker, smtp):
    in_transit(webhooks, run_worker)  # last progress an hour ago, no estimate
    now = utcnow()
    assert delays.scan(app, now + timedelta(days=4) - timedelta(hours=2)) == 0
    assert delays.scan(app, now + timedelta(days=4)) == 1
    assert delays.scan(app, now + timedelta(days=5)) == 0
    make_due()
    run_worker()
    assert [(n.kind, n.context.get("reason")) for n in outbox()] == [
        ("shipped", None), ("delayed", "no tracking progress")]
    assert flagged()


def test_a_parcel_without_tracking_is_never_judged_stalled(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    untracked = fulfillment(None, fulfillment_id=777, tracking_number=None, tracking_numbers=[], tracking_url=None,
                            tracking_urls=[], tracking_company=None)
    webhooks.post("fulfillments/create", untracked)
    run_worker()
    assert delays.scan(app, utcnow() + timedelta(days=30)) == 0
    assert kinds() == ["shipped"]


def test_a_delay_reported_by_the_carrier_is_told_at_once_and_once(app, shop, webhooks, run_worker, smtp):
    in_transit(webhooks, run_worker, estimated_delivery_at=(utcnow() + timedelta(days=3)).isoformat())
    event = load_payload("fulfillment_event_delayed")
    event.update(happened_at=ago(minutes=5), created_at=ago(minutes=5),
                 estimated_delivery_at=(utcnow() + timedelta(days=4)).isoformat())
    webhooks.post("fulfillment_events/create", event)
    webhooks.post("fulfillment_events/create", event)  # sent twice
    run_worker()
    assert delays.scan(app, utcnow()) == 0
    assert received(smtp) == [(JON, "shipped"), (JON, "delayed")]
    assert outbox()[1].context["reason"] == "reported delayed by the carrier"
    assert flagged()


def test_cancelled_orders_and_delivered_parcels_are_not_delayed(app, shop, webhooks, run_worker, smtp):
    in_transit(webhooks, run_worker, estimated_delivery_at=(utcnow() + timedelta(hours=1)).isoformat())
    webhooks.post("fulfillments/update", fulfillment("delivered", minutes_ago=1))
    webhooks.post("orders/create", order(id=820982911946154510, name="#1003", order_number=1003, line_items=[],
                                         cancelled_at=ago(minutes=30)))
    webhooks.post("fulfillments/create", fulfillment("in_transit", fulfillment_id=888,
                                                     order_id=820982911946154510))
    run_worker()
    assert delays.scan(app, utcnow() + timedelta(days=10)) == 0
    assert "delayed" not in kinds()


def test_the_worker_job_scans_at_most_every_few_minutes(app, shop, webhooks, run_worker, smtp, monkeypatch):
    estimate = utcnow() + timedelta(days=1)
    in_transit(webhooks, run_worker, estimated_delivery_at=estimate.isoformat())
    monkeypatch.setitem(app.extensions, "aftercare.delays.last_scan", None)
    clock = [estimate]
    job = delays.job(clock=lambda: clock[0])
    assert job(app) == 0  # scanned: nothing late yet
    clock[0] = estimate + timedelta(hours=25)
    assert job(app) == 1  # more than SCAN_EVERY later
    assert any(j.__qualname__ == "job.<locals>.process_due" for j in app.extensions["aftercare.worker_jobs"])
    clock[0] += delays.SCAN_EVERY / 2
    assert job(app) == 0


def test_a_scan_loads_no_order_whose_parcels_cannot_be_late_yet(app, shop, webhooks, run_worker, smtp):
    from sqlalchemy import event

    from plugin.db import engine

    in_transit(webhooks, run_worker)  # progress an hour ago, no estimate: late for no rule before 4 days
    loads = []

    def record(conn, cursor, statement, *_args):
        if statement.startswith("SELECT orders.id, orders.shop_id, orders.shopify_id"):
            loads.append(statement)

    event.listen(engine(app), "before_cursor_execute", record)
    try:
        assert delays.scan(app, utcnow() + timedelta(days=3)) == 0
        assert loads == []
        assert delays.scan(app, utcnow() + timedelta(days=5)) == 1
        assert len(loads) == 1
    finally:
        event.remove(engine(app), "before_cursor_execute", record)
