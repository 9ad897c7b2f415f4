"""Retention: what is kept, and for how long.

- A processed webhook delivery keeps its row (topic, ids, times, status,
  error) for good, but its body only for ``AFTERCARE_RETENTION_DAYS`` (30 by
  default) after it was processed: the body holds customer data, the row is
  what operators and the threat model need. Deliveries still pending or
  failed keep their body, so they can still be retried or replayed.
- A data export (customers/data_request) is deleted ``EXPORT_DAYS`` after it
  was made: the store owner had it mailed and could download it meanwhile.

A worker job, run at most once an hour per worker process, works in batches
of ``BATCH`` rows, one short transaction each, so it never holds a long lock
or builds one huge statement.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import delete, select, update

from .db import worker_session
from .models import DataExport, DeliveryStatus, WebhookDelivery, utcnow

log = logging.getLogger(__name__)

EXPORT_DAYS = 30
BATCH = 500
EVERY_SECONDS = 3600
_LAST_RUN = "aftercare.retention_last_run"


def process_due(app: Flask) -> int:
    """The worker job: purge what is past its time, at most hourly. The number
    of rows purged (0 when it is not time yet)."""
    now = time.monotonic()
    last = app.extensions.get(_LAST_RUN)
    if last is not None and now - last < EVERY_SECONDS:
        return 0
    app.extensions[_LAST_RUN] = now
    return purge(app)


def purge(app: Flask) -> int:
    """Drop old webhook bodies and old data exports now; the number of rows touched."""
    cutoff = utcnow() - timedelta(days=app.config["RETENTION_DAYS"])
    bodies = _in_batches(app, WebhookDelivery, lambda: (
        select(WebhookDelivery.shop_id, WebhookDelivery.id)
        .where(WebhookDelivery.status == DeliveryStatus.PROCESSED.value,
               WebhookDelivery.processed_at < cutoff,
               WebhookDelivery.payload_purged_at.is_(None))
    ), lambda: update(WebhookDelivery).values(payload=b"", payload_purged_at=utcnow()))
    export_cutoff = utcnow() - timedelta(days=EXPORT_DAYS)
    exports = _in_batches(app, DataExport, lambda: (
        select(DataExport.shop_id, DataExport.id).where(DataExport.created_at < export_cutoff)
    ), lambda: delete(DataExport))
    if bodies or exports:
        log.info("retention: dropped %s webhook bodies and %s data exports", bodies, exports)
    return bodies + exports


def _in_batches(app: Flask, model, rows_query, statement) -> int:
    """Apply ``statement()`` to the rows of ``rows_query()`` (shop id, id),
    BATCH at a time. The rows are found across shops (a read: retention is the
    same for all), and written shop by shop, each write naming its shop."""
    done = 0
    while True:
        with worker_session(app) as session, session.begin():
            rows = session.execute(rows_query().order_by(model.id).limit(BATCH)).all()
            by_shop: dict[int, list[int]] = {}
            for shop_id, row_id in rows:
                by_shop.setdefault(shop_id, []).append(row_id)
            for shop_id, ids in by_shop.items():
                session.execute(statement().where(model.shop_id == shop_id, model.id.in_(ids)),
                                execution_options={"synchronize_session": False})
        done += len(rows)
        if len(rows) < BATCH:
            return done
