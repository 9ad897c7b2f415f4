"""Deliveries arrive out of order, twice, or from several workers at once;
the state they leave must not depend on any of that."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from sqlalchemy import func, select

from plugin import orders, worker
from plugin.models import Order, WebhookDelivery
from webhooks import handlers

from ..conftest import db, load_payload

SEQUENCE = ("fulfillment_create", "fulfillment_update_in_transit", "fulfillment_update_out_for_delivery",
            "fulfillment_update_delivered")


def shipment_state(order: Order) -> dict:
    state = orders.order_state(order)
    [fulfillment] = state["fulfillments"]
    fulfillment.pop("id")
    for event in fulfillment["events"]:
        event.pop("source")
    return {"order_id_free": fulfillment}


def test_every_permutation_of_a_fulfillments_updates_ends_in_the_same_state(app, shop, webhooks, run_worker):
    permutations = list(itertools.permutations(SEQUENCE))
    for n, permutation in enumerate(permutations):
        for name in permutation:
            body = load_payload(name)
            body["id"] = 500_000 + n  # one fulfillment (and order) per permutation
            body["order_id"] = 9_000_000_000_000_000 + n
            webhooks.post("fulfillments/update", body)
        run_worker()
    session = db()
    states = [shipment_state(o) for o in session.scalars(select(Order).order_by(Order.shopify_id))]
    assert len(states) == len(permutations) == 24
    assert all(state == states[0] for state in states)
    final = states[0]["order_id_free"]
    assert final["shipment_status"] == "delivered"
    assert [e["status"] for e in final["events"]] == ["in_transit", "out_for_delivery", "delivered"]


def test_same_delivery_three_times_changes_state_once(app, shop, webhooks, run_worker):
    calls = []
    original = handlers.HANDLERS["fulfillments/update"]

    def counting(session, shop, body, delivery):
        calls.append(body["id"])
        original(session, shop, body, delivery)

    handlers.HANDLERS["fulfillments/update"] = counting
    try:
        for _ in range(3):
            webhooks.post("fulfillments/update", load_payload("fulfillment_update_in_transit"), webhook_id="once")
        run_worker()
    finally:
        handlers.HANDLERS["fulfillments/update"] = original
    assert calls == [123456]
    assert db().scalar(select(func.count()).select_from(WebhookDelivery)) == 1


@pytest.mark.parametrize("workers", [2])
def test_workers_draining_one_inbox_never_run_a_delivery_twice(app, shop, webhooks, backend, workers, monkeypatch):
    seen: list[tuple[int, str]] = []
    lock = threading.Lock()

    def recording(session, shop, body, delivery):
        time.sleep(0.002)  # widen the window in which a second worker could grab the same row
        with lock:
            seen.append((body["id"], threading.current_thread().name))

    monkeypatch.setitem(handlers.HANDLERS, "orders/create", recording)
    total = 200
    for n in range(total):
        webhooks.post("orders/create", {"id": n + 1})
    threads = [threading.Thread(target=worker.run, args=(app,), kwargs={"once": True}, name=f"w{i}") for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    ids = sorted(i for i, _ in seen)
    assert ids == list(range(1, total + 1))  # each exactly once
    if backend == "postgresql":  # SKIP LOCKED lets them work side by side; SQLite takes turns
        assert len({name for _, name in seen}) == workers
    statuses = db().scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["processed"] * total
