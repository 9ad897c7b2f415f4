"""Alembic owns the schema: it builds it, takes it down, and matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from plugin import create_app, migrate
from plugin.db import engine, worker_session
from plugin.models import Base

from .conftest import environ, fresh_database


def test_upgrade_an_empty_database_to_head_and_back(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        app = create_app(environ=environ(url), instance_path=str(tmp_path))
        try:
            migrate.upgrade(app)
            tables = set(inspect(engine(app)).get_table_names())
            assert set(Base.metadata.tables) <= tables

            with engine(app).connect() as conn:
                differences = compare_metadata(
                    MigrationContext.configure(conn, opts=migrate.compare_options(conn.dialect.name)), Base.metadata)
            assert differences == [], "models and migrations disagree; add a revision"

            migrate.downgrade(app, "base")
            assert set(inspect(engine(app)).get_table_names()) <= {"alembic_version"}

            migrate.upgrade(app)  # and up again: downgrade left nothing behind
            assert set(Base.metadata.tables) <= set(inspect(engine(app)).get_table_names())
        finally:
            engine(app).dispose()


# Not shop data: Alembic's own table, and one row per worker process.
NOT_SHOP_DATA = {"alembic_version", "worker_heartbeats"}


def test_every_shop_table_is_keyed_by_shop_so_citus_can_distribute_it(backend, tmp_path):
    """Alembic's compare does not look at primary keys: this does. PostgreSQL:
    every shop-owned table's primary key and unique key includes shop_id, every reference
    between shop-owned tables is (shop_id, x_id) -> x(shop_id, id), never SET
    NULL (Citus refuses both otherwise). SQLite: ids stay the rowid."""
    with fresh_database(backend, tmp_path) as url:
        app = create_app(environ=environ(url), instance_path=str(tmp_path))
        try:
            migrate.upgrade(app)
            schema = inspect(engine(app))
            tables = set(schema.get_table_names()) - NOT_SHOP_DATA - {"shops"}
            assert tables == set(Base.metadata.tables) - NOT_SHOP_DATA - {"shops"}
            references = 0
            for table in sorted(tables):
                columns = {c["name"] for c in schema.get_columns(table)}
                assert "shop_id" in columns, table
                key = schema.get_pk_constraint(table)["constrained_columns"]
                if backend == "postgresql":
                    assert key[0] == "shop_id", (table, key)
                elif "id" in columns:
                    assert key == ["id"], (table, key)  # SQLite's rowid: ids keep autoincrementing
                unique = schema.get_unique_constraints(table) + [i for i in schema.get_indexes(table) if i["unique"]]
                for constraint in unique:  # Citus enforces uniqueness only within a shard
                    assert "shop_id" in constraint["column_names"], (table, constraint)
                for fk in schema.get_foreign_keys(table):
                    if fk["referred_table"] == "shops":
                        assert fk["constrained_columns"] == ["shop_id"], (table, fk)
                        continue
                    references += 1
                    assert fk["constrained_columns"][0] == "shop_id" and len(fk["constrained_columns"]) == 2, (table, fk)
                    assert fk["referred_columns"] == ["shop_id", "id"], (table, fk)
                    assert (fk["options"].get("ondelete") or "NO ACTION").upper() in ("CASCADE", "NO ACTION"), (table, fk)
            assert references >= 14  # the 14 of 0013, and any added since
        finally:
            engine(app).dispose()


def _one_of_everything(session, shop_id: int, n: int) -> None:
    """A row in every shop-owned table, each child pointing at its parent."""
    from datetime import datetime, timezone

    from plugin.models import (Backfill, DataExport, Fulfillment, FulfillmentLineItem, LineItem, Notification,
                               Order, Setting, Suppression, TrackingEvent, WebhookDelivery)
    from plugin.help.models import Contact
    from plugin.returns.models import RefundLine, ReturnAction, ReturnItem, ReturnRequest
    from plugin.surveys.models import SurveyInvitation, SurveyResponse

    now = datetime.now(timezone.utc)
    order = Order(shop_id=shop_id, shopify_id=1000 + n)
    session.add(order)
    session.flush()
    fulfillment = Fulfillment(shop_id=shop_id, order_id=order.id, shopify_id=2000 + n)
    notification = Notification(shop_id=shop_id, order_id=order.id, kind="shipped", recipient="a@example.com",
                                dedupe_key=f"k{n}")
    request = ReturnRequest(shop_id=shop_id, order_id=order.id, key=f"r{n}", fingerprint="f")
    session.add_all([fulfillment, notification, request])
    session.flush()
    invitation = SurveyInvitation(shop_id=shop_id, order_id=order.id, notification_id=notification.id,
                                  touchpoint="delivery", kinds=["csat"], due_at=now)
    session.add(invitation)
    session.flush()
    session.add_all([
        LineItem(shop_id=shop_id, order_id=order.id, shopify_id=3000 + n),
        FulfillmentLineItem(shop_id=shop_id, fulfillment_id=fulfillment.id, line_item_shopify_id=3000 + n, quantity=1),
        TrackingEvent(shop_id=shop_id, fulfillment_id=fulfillment.id, status="in_transit", happened_at=now),
        ReturnItem(shop_id=shop_id, request_id=request.id, line_item_shopify_id=3000 + n, quantity=1, reason="OTHER"),
        ReturnAction(shop_id=shop_id, request_id=request.id, action="approve"),
        RefundLine(shop_id=shop_id, order_id=order.id, shopify_id=4000 + n, refund_shopify_id=5000 + n,
                   line_item_shopify_id=3000 + n, quantity=1),
        Contact(shop_id=shop_id, order_id=order.id, message_length=10),
        SurveyResponse(shop_id=shop_id, invitation_id=invitation.id, order_id=order.id, kind="csat", score=5,
                       touchpoint="delivery"),
        WebhookDelivery(shop_id=shop_id, webhook_id=f"w{n}", topic="orders/create", payload=b"{}"),
        DataExport(shop_id=shop_id, content={}),
        Backfill(shop_id=shop_id, since=now),
        Setting(shop_id=shop_id, key=f"key{n}", value=1),
        Suppression(shop_id=shop_id, category="surveys", address_hash=f"h{n}"),
    ])
    session.flush()


def _counts(app) -> dict[str, int]:
    with engine(app).connect() as conn:
        # Rows with an id; not the survey counts of 0015, which the database derives from them.
        return {t: conn.scalar(select(func.count()).select_from(table))
                for t, table in Base.metadata.tables.items() if t not in NOT_SHOP_DATA and "id" in table.c}


def test_keys_by_shop_keep_every_row_up_and_down_and_refuse_a_reference_across_shops(backend, tmp_path):
    """0013 changes constraints only: rows in every table survive it both ways
    (on SQLite, rebuilding a parent table must not cascade into its children),
    ids keep being generated, and a row can no longer point at another shop's."""
    from plugin.models import LineItem, Order, Shop

    with fresh_database(backend, tmp_path) as url:
        app = create_app(environ=environ(url), instance_path=str(tmp_path))
        try:
            # Rows are written through today's models, so at head; then down
            # through 0013 and up again, counting them each way.
            migrate.upgrade(app)
            with worker_session(app) as session, session.begin():
                shops = [Shop(domain=f"s{n}.myshopify.com") for n in range(2)]
                session.add_all(shops)
                session.flush()
                for n, shop in enumerate(shops):
                    _one_of_everything(session, shop.id, n)
                shop_ids = [s.id for s in shops]
            before = _counts(app)
            assert set(before.values()) == {2}

            migrate.downgrade(app, "0012")
            assert _counts(app) == before
            migrate.upgrade(app)
            assert _counts(app) == before
            with worker_session(app) as session, session.begin():
                _one_of_everything(session, shop_ids[0], 2)  # ids still generated by the database
            with worker_session(app) as session:
                first, second = session.scalars(select(Order.id).order_by(Order.id)).all()[:2]
                session.add(LineItem(shop_id=shop_ids[1], order_id=first, shopify_id=99))  # shop 0's order
                with pytest.raises(IntegrityError):
                    session.commit()
                session.rollback()
                session.add(LineItem(shop_id=shop_ids[1], order_id=second, shopify_id=99))  # its own
                session.commit()

            migrate.downgrade(app, "0012")
            after = _counts(app)
            assert after["line_items"] == 4 and {t: n for t, n in after.items() if t != "line_items"} == {
                t: (3 if t not in ("shops",) else 2) for t in before if t != "line_items"}
        finally:
            engine(app).dispose()


def test_0015_fills_the_lookup_key_and_the_daily_survey_counts_from_existing_rows(backend, tmp_path):
    """Rows made before 0015 get their orders.name_key and their daily counts,
    and the triggers keep counting after it."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    from plugin.surveys import metrics

    with fresh_database(backend, tmp_path) as url:
        app = create_app(environ=environ(url), instance_path=str(tmp_path))
        try:
            migrate.upgrade(app, "0014")
            with engine(app).begin() as conn:
                conn.execute(text("INSERT INTO shops (id, domain, installed_at, created_at) "
                                  "VALUES (1, 'a.myshopify.com', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                conn.execute(text(
                    "INSERT INTO orders (id, shop_id, shopify_id, name, number, test, created_at, updated_at) VALUES "
                    "(1, 1, 11, '#1001', 1001, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                    "(2, 1, 12, 'eu 1002', 1002, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
                    "(3, 1, 13, NULL, NULL, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                conn.execute(text(
                    "INSERT INTO survey_invitations (id, shop_id, order_id, touchpoint, kinds, carrier, products, "
                    "days_late, status, due_at, sent_at, answered_at, created_at) VALUES "
                    "(1, 1, 1, 'delivery', '[\"csat\"]', 'UPS', '[]', 1, 'answered', :sent, :sent, :answered, :sent)"),
                    {"sent": datetime(2026, 11, 2, 10), "answered": datetime(2026, 11, 3, 9)})
                conn.execute(text(
                    "INSERT INTO survey_responses (shop_id, invitation_id, kind, score, order_id, touchpoint, carrier, "
                    "products, days_late, answered_at) VALUES (1, 1, 'csat', 4, 1, 'delivery', 'UPS', '[]', 1, :at)"),
                    {"at": datetime(2026, 11, 3, 9)})
            migrate.upgrade(app)
            with engine(app).begin() as conn:
                keys = conn.execute(text("SELECT id, name_key FROM orders ORDER BY id")).all()
                assert [tuple(k) for k in keys] == [(1, "1001"), (2, "EU1002"), (3, None)]
                conn.execute(text("UPDATE survey_responses SET score = 2"))  # a trigger from now on
            from sqlalchemy.orm import Session
            with Session(engine(app)) as session:
                result = metrics.summary(session, 1, datetime(2026, 11, 1, tzinfo=timezone.utc),
                                         datetime(2026, 11, 8, tzinfo=timezone.utc), by="carrier")
            assert (result["csat"]["count"], result["csat"]["satisfied"]) == (1, 0)
            assert result["response_rate"] == {"sent": 1, "answered": 1, "rate": 1.0}
            assert [group["key"] for group in result["breakdown"]] == ["UPS"]
        finally:
            engine(app).dispose()


def test_the_start_up_check_reads_the_same_heads_as_alembic_without_importing_it(tmp_path):
    import subprocess
    import sys

    from alembic.script import ScriptDirectory

    from plugin import dbcheck

    app = create_app(environ=environ(f"sqlite:///{tmp_path}/heads.db"), instance_path=str(tmp_path))
    assert dbcheck.script_heads() == set(ScriptDirectory.from_config(migrate.alembic_config(app)).get_heads())
    # A worker or web process imports the CLI and runs the check: no Alembic in it.
    code = ("import sys; from plugin import cli, dbcheck; dbcheck.script_heads(); "
            "print(sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
