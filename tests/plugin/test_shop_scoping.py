"""Every query that reads an order's data names the shop, ORM loads included."""

from __future__ import annotations

import re

from sqlalchemy import event, select

from plugin import orders
from plugin.db import engine
from plugin.models import Base, Order

from ..conftest import db, load_payload

SHOP_TABLES = ("orders", "line_items", "fulfillments", "fulfillment_line_items", "tracking_events")


def test_loading_an_order_with_its_shipments_is_scoped_by_shop_in_every_query(app, shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_update_in_transit"))
    webhooks.post("fulfillment_events/create", load_payload("fulfillment_event_create"))
    run_worker()

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    session = db()
    event.listen(engine(app), "before_cursor_execute", record)
    try:
        order = session.scalar(select(Order).where(Order.shop_id == shop, Order.shopify_id == 820982911946154508))
        state = orders.order_state(order)  # lazy-loads line items, fulfillments, their items and events
    finally:
        event.remove(engine(app), "before_cursor_execute", record)

    assert state["fulfillments"][0]["events"] and state["line_items"]
    reads = [s for s in statements if s.startswith("SELECT") and any(f" {t}" in s for t in SHOP_TABLES)]
    assert len(reads) >= 5
    for statement in reads:
        where = statement.split(" WHERE ", 1)[1]
        assert re.search(r"shop_id = |= \w+\.shop_id\b", where), statement


def test_children_take_their_parents_shop(app, shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_update_in_transit"))
    run_worker()
    order = db().scalar(select(Order))
    assert {li.shop_id for li in order.line_items} == {shop}
    assert {e.shop_id for f in order.fulfillments for e in f.events} == {shop}


# Every table but these is shop-owned, distributed by shop_id under Citus.
NOT_DISTRIBUTED = {"shops", "worker_heartbeats", "alembic_version"}
_TABLE = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+\"?(\w+)\"?", re.I)
_ROUTED = re.compile(r"\bshop_id\b\s*(?:=|IN\b)|=\s*\w+\.shop_id\b", re.I)
# An inner join's ON restricts like a WHERE (PostgreSQL folds it in, and
# Citus prunes shards by it): a selectin load's "JOIN line_items ON ... AND
# line_items.shop_id = ?" (models.children_of_shop) names its shop.
_ON_ROUTED = re.compile(r"(?<!OUTER) JOIN \w+(?: AS \w+)? ON [^()]*?\bshop_id = (?:\?|%\(\w+\)s)")


def unrouted(statements: list[str]) -> list[str]:
    """The statements on shop-owned tables that do not name one shop: an
    INSERT without shop_id, or a read or write whose WHERE has no shop_id =
    (Citus would send these to every node, and refuses FOR UPDATE on them)."""
    found = []
    for statement in statements:
        tables = {t.lower() for t in _TABLE.findall(statement)} & set(Base.metadata.tables) - NOT_DISTRIBUTED
        if not tables or statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "PRAGMA")):
            continue
        if statement.startswith("INSERT"):
            if "shop_id" not in statement.split(")", 1)[0]:
                found.append(statement)
        elif _ON_ROUTED.search(statement.split(" WHERE ", 1)[0]):
            continue
        elif " WHERE " not in statement or not _ROUTED.search(statement.split(" WHERE ", 1)[1]):
            found.append(statement)
    return found


# What still goes to every shop, each for a reason: reads only, which Citus
# runs on every node (correct, only slower). Every lock and every write names
# its shop: Citus refuses FOR UPDATE across shards.
CROSS_SHOP = {
    # The workers' claims, step one: which shops have due rows (no lock; the
    # claim itself then names one shop, plugin/worker.py claim_due).
    "due shops": re.compile(r"^SELECT \w+\.shop_id FROM \w+ WHERE \w+\.next_attempt_at <= .* GROUP BY \w+\.shop_id "),
    # Periodic jobs over every shop: parcels to check for delays, bodies and exports to purge.
    "scan": re.compile(r"^SELECT DISTINCT orders\.shop_id FROM orders JOIN fulfillments "
                       r"|^SELECT \w+\.shop_id, \w+\.id FROM (webhook_deliveries|data_exports) "
                       r"WHERE .*(processed_at|created_at) < "),
    # Binding a webhook body: is this Shopify order id another shop's? (For a
    # worker batch, which shops hold each of its orders' ids.)
    "binding": re.compile(r"^SELECT orders\.id FROM orders WHERE orders\.shopify_id = \S+ AND orders\.shop_id != "
                          r"|^SELECT orders\.shopify_id, orders\.shop_id FROM orders WHERE orders\.shopify_id IN \("),
}


def test_every_query_of_an_order_life_names_its_shop_but_a_few_reads(app, shop, webhooks, run_worker, smtp,
                                                                           client):
    from ..fake_shopify import make_session_token
    from ..conftest import API_KEY, SECRET, SHOP

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine(app), "before_cursor_execute", record)
    try:
        webhooks.post("orders/create", load_payload("order_create"))
        webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
        webhooks.post("fulfillment_events/create", load_payload("fulfillment_event_create"))
        webhooks.post("fulfillments/update", load_payload("fulfillment_update_delivered"))
        run_worker()
        bearer = {"Authorization": f"Bearer {make_session_token(API_KEY, SECRET, SHOP)}"}
        for path in ("/api/admin/orders/%231001", "/api/admin/notifications", "/api/admin/returns",
                     "/api/admin/metrics", "/api/admin/surveys/responses.csv", "/api/admin/settings",
                     "/api/admin/health"):
            assert client.get(path, headers=bearer).status_code == 200, path
    finally:
        event.remove(engine(app), "before_cursor_execute", record)

    assert smtp.messages  # the flow reached the outbox and sent
    touched = {t.lower() for s in statements for t in _TABLE.findall(s)} - NOT_DISTRIBUTED
    assert {"orders", "fulfillments", "tracking_events", "webhook_deliveries", "notifications",
            "survey_responses"} <= touched
    assert touched & {"survey_invitations", "survey_invitation_days"}  # the metrics read one or the other
    left = [s for s in unrouted(statements) if not any(p.search(s) for p in CROSS_SHOP.values())]
    assert left == [], "\n".join(left)
    # What is left across shops only reads; the claims lock rows of one shop.
    assert not [s for s in unrouted(statements) if "FOR UPDATE" in s or not s.startswith("SELECT")]
    assert any(CROSS_SHOP["due shops"].search(s) for s in statements)


def test_retention_finds_rows_across_shops_but_writes_each_shops_rows_by_shop(app, shop, webhooks, run_worker):
    from datetime import timedelta

    from sqlalchemy import update

    from plugin import retention
    from plugin.models import DataExport, WebhookDelivery, utcnow

    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    session = db()
    long_ago = utcnow() - timedelta(days=400)
    session.execute(update(WebhookDelivery).values(processed_at=long_ago))
    session.add(DataExport(shop_id=shop, request_id="old", content={}, created_at=long_ago))
    session.commit()

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(engine(app), "before_cursor_execute", record)
    try:
        assert retention.purge(app) == 2
    finally:
        event.remove(engine(app), "before_cursor_execute", record)
    writes = [s for s in statements if s.startswith(("UPDATE", "DELETE"))]
    assert len(writes) == 2 and unrouted(writes) == [], writes
    assert [s for s in unrouted(statements) if not CROSS_SHOP["scan"].search(s)] == []
