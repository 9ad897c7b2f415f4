"""Retention: processed webhook bodies are dropped after AFTERCARE_RETENTION_DAYS
(the delivery row and its metadata stay), data exports after 30 days; the
worker does it at most hourly, in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from plugin import retention
from plugin.config import ConfigError, load_config
from plugin.models import DataExport, DeliveryStatus, WebhookDelivery, utcnow

from ..conftest import database_dump, db, load_payload
from .orders import order

EMAIL = "jon@example.com"  # in the order_create payload


def deliveries() -> list[WebhookDelivery]:
    return list(db().scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def age(ids: list[int], days: int) -> None:
    session = db()
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                    .values(processed_at=utcnow() - timedelta(days=days), received_at=utcnow() - timedelta(days=days)))
    session.commit()


@pytest.fixture
def fresh_job(app, monkeypatch):
    """As in a worker process that has not run the job yet."""
    monkeypatch.delitem(app.extensions, retention._LAST_RUN, raising=False)


def test_old_processed_bodies_are_dropped_in_batches_and_the_rows_kept(app, shop, webhooks, run_worker,
                                                                        monkeypatch, fresh_job):
    for n in range(5):
        webhooks.post("orders/create", order(n))
    failed = webhooks.post("orders/create", b'{"id": "not a number"}')  # fails for good, keeps its body
    assert failed.status_code == 200
    monkeypatch.setattr(retention, "BATCH", 2)  # five old bodies: three batches
    monkeypatch.setitem(app.extensions, retention._LAST_RUN, 0.0)
    monkeypatch.setattr(retention, "EVERY_SECONDS", 10**12)  # the worker's own round must not purge yet
    run_worker()
    rows = deliveries()
    assert [r.status for r in rows] == [DeliveryStatus.PROCESSED.value] * 5 + [DeliveryStatus.FAILED.value]
    age([r.id for r in rows[:4]] + [rows[5].id], days=31)
    age([rows[4].id], days=29)  # processed 29 days ago: within the 30

    assert retention.purge(app) == 4
    rows = deliveries()
    for row in rows[:4]:
        assert row.payload == b"" and row.payload_purged_at is not None
        assert row.topic == "orders/create" and row.webhook_id and row.status == DeliveryStatus.PROCESSED.value
    assert EMAIL.encode() in rows[4].payload and rows[4].payload_purged_at is None
    assert rows[5].payload == b'{"id": "not a number"}' and rows[5].payload_purged_at is None
    assert retention.purge(app) == 0  # nothing twice


def test_the_retention_period_comes_from_the_environment(app, shop, webhooks, run_worker, monkeypatch):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    [row] = deliveries()
    age([row.id], days=8)
    assert retention.purge(app) == 0
    monkeypatch.setitem(app.config, "RETENTION_DAYS", 7)
    assert retention.purge(app) == 1
    assert EMAIL not in database_dump(app).split("webhook_deliveries:", 1)[-1].split("\n")[0]


def test_the_worker_purges_at_most_hourly(app, shop, webhooks, run_worker, fresh_job):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()  # processes it, and runs retention (nothing old yet)
    [row] = deliveries()
    age([row.id], days=40)
    run_worker()  # within the hour: the job does not run again
    assert deliveries()[0].payload_purged_at is None
    app.extensions[retention._LAST_RUN] -= retention.EVERY_SECONDS
    run_worker()
    assert deliveries()[0].payload_purged_at is not None


def test_data_exports_expire_after_thirty_days(app, shop):
    session = db()
    session.add_all([
        DataExport(shop_id=shop, request_id="old", content={"email": EMAIL}, created_at=utcnow() - timedelta(days=31)),
        DataExport(shop_id=shop, request_id="new", content={"email": EMAIL}, created_at=utcnow() - timedelta(days=29)),
    ])
    session.commit()
    assert retention.purge(app) == 1
    assert [e.request_id for e in db().scalars(select(DataExport))] == ["new"]


def test_retention_days_default_and_bad_values(tmp_path):
    good = {"SHOPIFY_API_KEY": "key", "SHOPIFY_API_SECRET": "secret"}
    assert load_config(good, str(tmp_path))["RETENTION_DAYS"] == 30
    assert load_config({**good, "AFTERCARE_RETENTION_DAYS": "7"}, str(tmp_path))["RETENTION_DAYS"] == 7
    for bad in ("0", "-3", "thirty", "1.5", "99999"):
        with pytest.raises(ConfigError) as error:
            load_config({**good, "AFTERCARE_RETENTION_DAYS": bad}, str(tmp_path))
        assert str(error.value).startswith("AFTERCARE_RETENTION_DAYS: ") and "\n" not in str(error.value)


def test_a_purged_delivery_cannot_be_replayed_and_stays_processed(app, shop, webhooks, run_worker, runner):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    [row] = deliveries()
    age([row.id], days=31)
    retention.purge(app)
    result = runner("webhooks", "replay", str(row.id))
    assert result.exit_code == 1
    assert "body was dropped after the retention period" in result.output
    assert deliveries()[0].status == DeliveryStatus.PROCESSED.value
