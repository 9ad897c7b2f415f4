"""Every query that reads an order's data names the shop, ORM loads included."""

from __future__ import annotations

import re

from sqlalchemy import event, select

from plugin import orders
from plugin.db import engine
from plugin.models import Order

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
