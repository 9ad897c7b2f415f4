"""Alembic environment: runs against the engine the app hands over
(plugin/migrate.py), so migrations use exactly the app's database settings."""

from __future__ import annotations

from alembic import context

from plugin.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
