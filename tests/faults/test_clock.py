"""Clock faults: deliveries a day late, and X-Shopify-Triggered-At in the
future (a skewed clock, or a forged header), are processed normally. Order is
decided by the body's updated_at (the documented rule), never by arrival or
trigger time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from plugin.models import DeliveryStatus, Order, Shop, WebhookDelivery

from ..conftest import db, load_payload
from .orders import fulfillment, order


def triggered(delta: timedelta) -> dict:
    at = datetime.now(timezone.utc) + delta
    return {"X-Shopify-Triggered-At": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def statuses() -> set[str]:
    return set(db().scalars(select(WebhookDelivery.status)))


def test_a_day_late_update_does_not_undo_a_newer_one(shop, webhooks, run_worker):
    newer = order(1, updated_at="2026-11-03T10:00:00-05:00", financial_status="refunded")
    older = order(1, updated_at="2026-11-02T10:00:00-05:00", financial_status="paid")
    webhooks.post("orders/updated", newer, headers=triggered(timedelta(minutes=-1)))
    run_worker()
    webhooks.post("orders/updated", older, headers=triggered(timedelta(days=-1)))  # arrives a day late
    run_worker()
    assert statuses() == {DeliveryStatus.PROCESSED.value}
    [row] = db().scalars(select(Order))
    assert row.financial_status == "refunded"


def test_a_day_late_order_then_its_fulfillment_in_any_order(shop, webhooks, run_worker):
    webhooks.post("fulfillments/update", fulfillment(2), headers=triggered(timedelta(minutes=-5)))
    webhooks.post("orders/create", order(2), headers=triggered(timedelta(days=-1, hours=-2)))
    run_worker()
    run_worker()
    assert statuses() == {DeliveryStatus.PROCESSED.value}
    [row] = db().scalars(select(Order))
    assert [f.shipment_status for f in row.fulfillments] == ["delivered"]


@pytest.mark.parametrize("header", [
    triggered(timedelta(days=1)),
    triggered(timedelta(days=3650)),
    {"X-Shopify-Triggered-At": "9999-12-31T23:59:59Z"},
    {"X-Shopify-Triggered-At": "tomorrow"},
])
def test_triggered_in_the_future_or_unreadable_is_processed_normally(shop, webhooks, run_worker, header):
    assert webhooks.post("orders/create", order(3), headers=header).status_code == 200
    run_worker()
    assert statuses() == {DeliveryStatus.PROCESSED.value}
    assert db().scalar(select(Order.number)) == 5003


def test_an_uninstall_triggered_in_the_future_still_uninstalls(shop, webhooks, run_worker):
    body = load_payload("app_uninstalled")
    session = db()
    session.get(Shop, shop).shopify_id = body["id"]
    session.commit()
    webhooks.post("app/uninstalled", body, headers=triggered(timedelta(days=1)))
    run_worker()
    assert statuses() == {DeliveryStatus.PROCESSED.value}
    assert not db().get(Shop, shop).installed
