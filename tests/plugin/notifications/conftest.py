"""Helpers for the notification pipeline: payloads dated relative to now
(delays are judged against the clock), and what the outbox and the mail
sink hold."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from plugin import settings
from plugin.db import worker_session
from plugin.models import Notification, utcnow

from ...conftest import db, load_payload

JON = "jon@example.com"


def ago(**delta) -> str:
    return (utcnow() - timedelta(**delta)).isoformat()


def order(**changes) -> dict:
    body = load_payload("order_create")
    body.update({"created_at": ago(days=2), "updated_at": ago(days=2), **changes})
    return body


def fulfillment(status: str | None = None, minutes_ago: int = 60, fulfillment_id: int = 123456,
                name: str = "fulfillment_create", **changes) -> dict:
    """A fulfillment payload whose ``updated_at`` is ``minutes_ago``: later steps
    of the same parcel must be posted with fewer minutes ago."""
    body = load_payload(name)
    body.update({"id": fulfillment_id, "shipment_status": status, "created_at": ago(hours=12),
                 "updated_at": ago(minutes=minutes_ago), **changes})
    return body


def outbox() -> list[Notification]:
    return list(db().scalars(select(Notification).order_by(Notification.id)))


def kinds(status: str | None = None) -> list[str]:
    return [n.kind for n in outbox() if status is None or n.status == status]


def received(smtp) -> list[tuple[str, str]]:
    """(recipient, kind) of every message the mail server got, in order."""
    return [(m["To"], m["X-Aftercare-Kind"]) for m in smtp.messages]


def set_settings(app, shop_id: int, **changes) -> None:
    with worker_session(app) as session, session.begin():
        settings.update(session, shop_id, {key.replace("__", "."): value for key, value in changes.items()})


def make_due(at: datetime | None = None) -> None:
    """As if the clock had reached every pending message's time."""
    session = db()
    for row in session.scalars(select(Notification).where(Notification.status == "pending")):
        row.next_attempt_at = at or utcnow() - timedelta(seconds=1)
    session.commit()


@pytest.fixture
def shipped_order(shop, webhooks, run_worker):
    """Order #1001 with one parcel in transit, processed (no mail server yet)."""
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit", minutes_ago=120))
    run_worker()
    return shop
