"""Alembic owns the schema: it builds it, takes it down, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from plugin import create_app, migrate
from plugin.db import engine
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
                differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert differences == [], "models and migrations disagree; add a revision"

            migrate.downgrade(app, "base")
            assert set(inspect(engine(app)).get_table_names()) <= {"alembic_version"}

            migrate.upgrade(app)  # and up again: downgrade left nothing behind
            assert set(Base.metadata.tables) <= set(inspect(engine(app)).get_table_names())
        finally:
            engine(app).dispose()


def test_0013_fills_the_lookup_key_and_the_daily_survey_counts_from_existing_rows(backend, tmp_path):
    """Rows made before 0013 get their orders.name_key and their daily counts,
    and the triggers keep counting after it."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    from plugin.surveys import metrics

    with fresh_database(backend, tmp_path) as url:
        app = create_app(environ=environ(url), instance_path=str(tmp_path))
        try:
            migrate.upgrade(app, "0012")
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
