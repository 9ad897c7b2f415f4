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
