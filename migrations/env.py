"""Alembic environment: runs against the engine the app hands over
(plugin/migrate.py), so migrations use exactly the app's database settings."""

from __future__ import annotations

from alembic import context

from plugin.migrate import compare_options
from plugin.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a SQLite table by copy, drop and rename: with
        # foreign keys on, the drop would cascade into the children's rows.
        # SQLite only takes this pragma outside a transaction: on the raw connection.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,  # SQLite alters tables by copying
            **compare_options(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
    finally:
        if sqlite:
            connection.rollback()  # what is left open: the pragma needs no transaction
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
