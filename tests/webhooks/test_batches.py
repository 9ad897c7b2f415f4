"""The worker claims deliveries in batches: one failure keeps the rest of its
batch, a shop erased mid-batch takes its later deliveries with it, and on
PostgreSQL a delivery whose order another worker holds waits its turn."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from plugin import shops
from plugin.db import engine, worker_session
from plugin.models import Order, Shop, WebhookDelivery, utcnow
from plugin.worker import claim_due
from webhooks import handlers, inbox, locks

from ..conftest import SHOP, db, load_payload
from ..two_shops import OTHER_SHOP


def order(n: int) -> dict:
    body = load_payload("order_create")
    body.update(id=5000 + n, name=f"#{5000 + n}", order_number=5000 + n, fulfillments=[])
    for i, item in enumerate(body["line_items"]):
        item["id"] = 50_000 + n * 10 + i
    return body


def test_one_failing_delivery_keeps_the_rest_of_its_batch(app, shop, webhooks, run_worker, monkeypatch):
    original = handlers.HANDLERS["orders/create"]

    def failing_on_5003(session, shop, body, delivery):
        original(session, shop, body, delivery)
        if body["id"] == 5003:
            raise RuntimeError("order 5003 cannot be stored")

    monkeypatch.setitem(handlers.HANDLERS, "orders/create", failing_on_5003)
    for n in range(6):
        webhooks.post("orders/create", order(n))
    assert run_worker() == 6
    session = db()
    assert sorted(session.scalars(select(Order.shopify_id))) == [5000, 5001, 5002, 5004, 5005]
    statuses = sorted((d.status, d.attempts) for d in session.scalars(select(WebhookDelivery)))
    assert statuses == [("failed", 1)] + [("processed", 1)] * 5
    [failed] = inbox.failed(session)
    assert failed.error == "RuntimeError: order 5003 cannot be stored"
    assert failed.next_attempt_at is not None  # retried later, with the others kept


def test_shop_redact_in_the_middle_of_a_batch_takes_the_shops_later_deliveries(app, shop, webhooks, run_worker):
    webhooks.post("orders/create", order(1))
    with worker_session(app) as session, session.begin():
        shops.uninstall(session.get(Shop, shop))  # shop/redact erases only an uninstalled shop
    webhooks.post("shop/redact", {"shop_id": 954889, "shop_domain": "test-shop.myshopify.com"})
    # A later delivery of the same shop in the same batch (compliance topics still arrive).
    webhooks.post("customers/redact", {"shop_id": 954889, "shop_domain": "test-shop.myshopify.com",
                                       "customer": {"id": 1, "email": "ada@example.com"}, "orders_to_redact": []})
    assert run_worker() == 3
    session = db()
    assert session.get(Shop, shop) is None
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


@pytest.mark.postgres_only
def test_a_delivery_whose_order_another_worker_holds_waits_for_it(app, shop, webhooks, run_worker, backend):
    if backend != "postgresql":
        pytest.skip("SQLite runs one worker transaction at a time")
    for n in (1, 2):
        webhooks.post("orders/create", order(n))
    with worker_session(app) as other, other.begin():
        # Another worker is in the middle of order 5001.
        held = other.scalars(select(WebhookDelivery)).all()
        busy = [d for d in held if json.loads(d.payload)["id"] == 5001]
        assert locks.runnable(other, busy, [order(1)]) == [True]
        assert run_worker() == 1
        assert db().scalars(select(Order.shopify_id)).all() == [5002]
    assert run_worker() == 1  # its turn, once the other worker committed
    assert sorted(db().scalars(select(Order.shopify_id))) == [5001, 5002]


def test_a_shops_backlog_does_not_hold_back_another_shops_delivery(app, shop, webhooks, run_worker):
    with worker_session(app) as session, session.begin():
        shops.install(session, OTHER_SHOP, shops.static_grant("shpat_other", "read_orders"))
    # The first shop has three batches waiting, all older than the other shop's one delivery.
    backlog = 3 * inbox.BATCH
    with engine(app).begin() as connection:
        for n in range(backlog):
            body = json.dumps(order(n)).encode()
            assert inbox.store(connection, SHOP,
                               inbox.Received("orders/create", f"backlog-{n}", None, None, None, body)) == "accepted"
    assert webhooks.post("orders/create", order(backlog), shop=OTHER_SHOP).status_code == 200

    assert inbox.process_due(app, limit=inbox.BATCH) == inbox.BATCH  # one batch
    session = db()
    other = session.scalar(select(Shop.id).where(Shop.domain == OTHER_SHOP))
    assert session.scalars(select(Order.shopify_id).where(Order.shop_id == other)).all() == [5000 + backlog]
    assert session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop)) == inbox.BATCH - 1

    session.rollback()  # end the read, to see the worker's commits
    assert run_worker() == backlog - (inbox.BATCH - 1)  # the backlog is still all done, once each
    assert session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop)) == backlog
    assert {d.status for d in session.scalars(select(WebhookDelivery))} == {"processed"}


@pytest.mark.postgres_only
def test_two_workers_claiming_over_two_shops_at_once_take_different_deliveries(app, shop, backend):
    if backend != "postgresql":
        pytest.skip("SQLite runs one worker transaction at a time")
    with worker_session(app) as session, session.begin():
        shops.install(session, OTHER_SHOP, shops.static_grant("shpat_other", "read_orders"))
    with engine(app).begin() as connection:
        for n in range(30):
            body = json.dumps(order(n)).encode()
            assert inbox.store(connection, SHOP if n % 3 else OTHER_SHOP,
                               inbox.Received("orders/create", f"w-{n}", None, None, None, body)) == "accepted"
    with worker_session(app) as first, first.begin(), worker_session(app) as second, second.begin():
        mine = claim_due(first, WebhookDelivery, 20, utcnow())
        theirs = claim_due(second, WebhookDelivery, 20, utcnow())  # skips the first one's rows
        assert len(mine) == 20 and len(theirs) == 10
        assert {d.id for d in mine}.isdisjoint({d.id for d in theirs})
        assert len({d.shop_id for d in mine}) == 2  # both shops in the first worker's batch


def queue(app, bodies: list[dict], *, topic: str = "orders/create", shop: str = SHOP) -> None:
    with engine(app).begin() as connection:
        for body in bodies:
            received = inbox.Received(topic, f"{topic}-{shop}-{body['id']}-{body['updated_at']}", None, None, None,
                                      json.dumps(body).encode())
            assert inbox.store(connection, shop, received) == "accepted"


def statements_to_drain(app) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine(app), "before_cursor_execute", record)
    try:
        inbox.process_due(app)
    finally:
        event.remove(engine(app), "before_cursor_execute", record)
    return seen


def test_a_batch_of_new_orders_runs_as_many_statements_for_thirty_as_for_three(app, shop, backend):
    queue(app, [order(n) for n in range(3)])
    few = statements_to_drain(app)
    queue(app, [order(n) for n in range(3, 30)])
    many = statements_to_drain(app)

    # The claim, the locks, the binding check, the settings, the orders and
    # their line items (multi-row INSERTs) and the marking of every delivery
    # processed are statements per batch, not per delivery. SQLite's
    # RETURNING takes an INSERT per row (an order and each of its line items).
    per_order = 0 if backend == "postgresql" else 1 + len(order(0)["line_items"])
    assert len(many) - len(few) <= per_order * 27, "\n".join(many)
    assert len(few) <= 3 * per_order + 16, "\n".join(few)
    session = db()
    deliveries = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(d.status, d.order_shopify_id) for d in deliveries] == [("processed", 5000 + n) for n in range(30)]


def test_a_batch_of_updates_reads_its_stored_orders_in_a_few_queries(app, shop):
    queue(app, [order(n) for n in range(30)])
    inbox.process_due(app)
    updated = []
    for n in range(30):
        body = order(n)
        body.update(updated_at="2026-11-02T10:00:00-05:00", tags=f"updated {n}")
        body["line_items"][0]["quantity"] = 5
        updated.append(body)
    queue(app, updated[:3], topic="orders/updated")
    few = [s for s in statements_to_drain(app) if s.startswith("SELECT")]
    queue(app, updated[3:], topic="orders/updated")
    many = [s for s in statements_to_drain(app) if s.startswith("SELECT")]

    assert len(many) == len(few), "\n".join(many)
    session = db()
    stored = session.scalars(select(Order).order_by(Order.shopify_id)).all()
    assert [(o.tags, o.line_items[0].quantity) for o in stored] == [(f"updated {n}", 5) for n in range(30)]


def test_one_order_id_under_two_shops_in_one_batch_is_refused_the_second_time(app, shop):
    with worker_session(app) as session, session.begin():
        shops.install(session, OTHER_SHOP, shops.static_grant("shpat_other", "read_orders"))
    queue(app, [order(1)])
    queue(app, [order(1)], shop=OTHER_SHOP)

    assert inbox.process_due(app) == 2  # one batch
    session = db()
    assert session.scalar(select(func.count()).select_from(Order)) == 1
    assert sorted(d.status for d in session.scalars(select(WebhookDelivery))) == ["failed", "processed"]
    [refused] = inbox.failed(session)
    assert refused.error == "Mismatch: order 5001 belongs to another shop; not acted on"


def test_an_order_rolled_back_in_a_batch_is_stored_by_its_next_delivery_in_the_same_batch(app, shop, monkeypatch):
    original = handlers.HANDLERS["orders/create"]

    def failing_after_storing(session, shop, body, delivery):
        original(session, shop, body, delivery)
        raise RuntimeError("the order cannot be stored now")

    monkeypatch.setitem(handlers.HANDLERS, "orders/create", failing_after_storing)
    queue(app, [order(1)])
    newer = order(1)
    newer.update(updated_at="2026-11-02T10:00:00-05:00", tags="second")
    queue(app, [newer], topic="orders/updated")

    assert inbox.process_due(app) == 2  # one batch
    session = db()
    [stored] = session.scalars(select(Order)).all()
    assert (stored.shopify_id, stored.tags, len(stored.line_items)) == (5001, "second", 2)
    assert sorted((d.topic, d.status) for d in session.scalars(select(WebhookDelivery))) == [
        ("orders/create", "failed"), ("orders/updated", "processed")]


def test_a_delivery_the_database_refuses_fails_alone_when_its_batch_is_written_together(app, shop):
    clash = order(2)
    clash["line_items"][0]["id"] = order(1)["line_items"][0]["id"]  # line item ids are unique in a shop
    queue(app, [order(1), clash, order(3)])

    assert inbox.process_due(app) == 3  # one batch
    session = db()
    assert sorted(session.scalars(select(Order.shopify_id))) == [5001, 5003]
    [refused] = inbox.failed(session)
    assert json.loads(refused.payload)["id"] == 5002 and refused.error.startswith("IntegrityError")
    assert sorted(d.status for d in session.scalars(select(WebhookDelivery))) == ["failed", "processed", "processed"]
