"""SQLite's query planner statistics, kept fresh by the worker.

PostgreSQL's autovacuum analyzes tables as they grow; SQLite never does on
its own, and without statistics its planner guesses. The guess that showed:
to load the parcels of a batch of 100 orders, it read every parcel of the
shop through the ``(shop_id, id)`` index instead of the 100 orders' through
``(shop_id, order_id)`` (the outbox's batch load: 17 ms a batch at 10,000
orders, 1 ms with statistics; bench/README.md, "Notifications").

A worker job, run when the worker starts and then at most hourly per worker
process: ``ANALYZE`` with ``analysis_limit``, so SQLite samples each index
instead of reading whole tables and a run stays in milliseconds whatever the
size. Nothing to do on PostgreSQL.
"""

from __future__ import annotations

import time

from flask import Flask

from .db import engine

EVERY_SECONDS = 3600
ROWS_SAMPLED = 1000  # per index: enough for the planner's choice between indexes
_LAST_RUN = "aftercare.planner_stats_last_run"


def process_due(app: Flask) -> int:
    """The worker job. Returns 0: it processes no rows (the worker sleeps as if idle)."""
    eng = engine(app)
    if eng.dialect.name != "sqlite":
        return 0
    now = time.monotonic()
    last = app.extensions.get(_LAST_RUN)
    if last is not None and now - last < EVERY_SECONDS:
        return 0
    app.extensions[_LAST_RUN] = now
    with eng.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={ROWS_SAMPLED}")
        conn.exec_driver_sql("ANALYZE")
    # SQLite reads the statistics when a connection opens: the pool's other
    # connections would go on planning with the old ones. New ones read these.
    eng.dispose()
    return 0
