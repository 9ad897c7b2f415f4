"""SQLite gets query planner statistics from the worker (plugin/planner_stats.py):
without them it loaded a batch's parcels by reading every parcel of the shop
(the outbox sent 160 messages a second instead of 330 at 10,000 orders)."""

from __future__ import annotations

from sqlalchemy import event, insert, select
from sqlalchemy.orm import selectinload

from plugin import planner_stats
from plugin.db import engine, worker_session
from plugin.models import Fulfillment, Order, children_of_shop, utcnow

ORDERS = 10_000


def _orders_with_parcels(app, shop_id: int) -> list[int]:
    now = utcnow()
    with engine(app).begin() as conn:
        conn.execute(insert(Order), [
            {"shop_id": shop_id, "shopify_id": 7000 + n, "name": f"#{7000 + n}", "test": False,
             "created_at": now, "updated_at": now} for n in range(ORDERS)])
        ids = conn.scalars(select(Order.id).where(Order.shop_id == shop_id).order_by(Order.id)).all()
        conn.execute(insert(Fulfillment), [
            {"shop_id": shop_id, "order_id": order_id, "shopify_id": 9000 + n, "tracking_numbers": [],
             "tracking_urls": [], "created_at": now, "updated_at": now} for n, order_id in enumerate(ids)])
    return list(ids)


def _parcels_plan(app, shop_id: int, order_ids: list[int]) -> str:
    """SQLite's plan for the query the ORM runs to load a batch's parcels
    (the outbox's batch load: selectinload of Order.fulfillments, each load
    naming the shop as Citus wants)."""
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM orders AS orders_1 JOIN fulfillments" in statement:
            captured.append((statement, parameters))

    event.listen(engine(app), "before_cursor_execute", capture)
    try:
        with worker_session(app) as session:
            session.scalars(select(Order).where(Order.shop_id == shop_id, Order.id.in_(order_ids))
                            .options(selectinload(Order.fulfillments), *children_of_shop(shop_id))).all()
    finally:
        event.remove(engine(app), "before_cursor_execute", capture)
    (statement, parameters), = captured
    with engine(app).connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return " / ".join(row[-1] for row in rows)


def _forget_statistics(app) -> None:
    with engine(app).begin() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")
    engine(app).dispose()  # connections read statistics when they open


def test_the_worker_gives_sqlite_the_statistics_to_load_a_batchs_parcels_by_order(app, shop):
    if engine(app).dialect.name != "sqlite":
        assert planner_stats.process_due(app) == 0  # PostgreSQL's autovacuum analyzes
        return
    _forget_statistics(app)  # what earlier tests' worker rounds gathered on other data
    order_ids = _orders_with_parcels(app, shop)[:100]
    app.extensions.pop(planner_stats._LAST_RUN, None)

    before = _parcels_plan(app, shop, order_ids)
    assert planner_stats.process_due(app) == 0
    after = _parcels_plan(app, shop, order_ids)

    # Without statistics: every parcel of the shop, through (shop_id, id).
    assert "SEARCH fulfillments USING INDEX ix_fulfillments_shop_id_id (shop_id=?)" in before
    assert "SEARCH fulfillments USING INDEX ix_fulfillments_shop_id_order_id" in after
    with engine(app).connect() as conn:
        analyzed = set(conn.exec_driver_sql("SELECT tbl FROM sqlite_stat1").scalars())
    assert {"orders", "fulfillments"} <= analyzed  # (empty tables get no row)


def test_the_statistics_are_refreshed_at_most_hourly(app, shop):
    if engine(app).dialect.name != "sqlite":
        return
    app.extensions.pop(planner_stats._LAST_RUN, None)
    planner_stats.process_due(app)
    with engine(app).begin() as conn:
        conn.exec_driver_sql("DELETE FROM sqlite_stat1")
    planner_stats.process_due(app)  # within the hour: nothing
    with engine(app).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1").scalar() == 0
    app.extensions[planner_stats._LAST_RUN] -= planner_stats.EVERY_SECONDS
    planner_stats.process_due(app)
    with engine(app).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1").scalar() > 0
