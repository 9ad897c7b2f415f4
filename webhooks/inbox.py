"""The inbox: deliveries are stored on receipt and processed by the worker.

Processing one delivery is one transaction that holds the delivery's row lock
from claim to commit (plugin.worker.process_due_rows): any number of workers
can drain the inbox without running a delivery twice, and a worker that dies
mid-way leaves the row pending for the next.
The handler runs in a savepoint, so its half-done work is rolled back when it
raises, while the failure itself is recorded in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import Connection, LargeBinary, bindparam, select, text
from sqlalchemy.orm import Session

from plugin.db import describe_error, worker_session
from plugin.models import DeliveryStatus, Shop, UTCDateTime, WebhookDelivery, utcnow
from plugin.privacy import REDACTED_PAYLOAD
from plugin.worker import process_due_rows

from . import payloads
from .handlers import COMPLIANCE_TOPICS, HANDLERS

log = logging.getLogger(__name__)

# Waits before each retry of a delivery whose handler raised; then it stays failed.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6))


@dataclass(frozen=True)
class Received:
    topic: str
    webhook_id: str
    event_id: str | None
    triggered_at: str | None
    api_version: str | None
    payload: bytes


# The hot path of POST /webhooks, as one statement: find the shop, insert the
# delivery unless the shop already has its webhook id, say whether it did.
# Written as SQL because it is the same on SQLite (3.35+) and PostgreSQL, and
# SQLAlchemy's dialect-specific ON CONFLICT constructs are recompiled per call.
_STORE_SQL = """
INSERT INTO webhook_deliveries (shop_id, webhook_id, topic, event_id, triggered_at, api_version,
                                payload, status, attempts, next_attempt_at, received_at)
SELECT shops.id, :webhook_id, :topic, :event_id, :triggered_at, :api_version,
       :payload, :status, 0, :now, :now
FROM shops WHERE shops.domain = :domain {installed_only}
ON CONFLICT (shop_id, webhook_id) DO NOTHING
RETURNING id
"""
_STORE = {
    any_shop_state: text(
        _STORE_SQL.format(installed_only="" if any_shop_state else "AND shops.uninstalled_at IS NULL")
    ).bindparams(bindparam("payload", type_=LargeBinary), bindparam("now", type_=UTCDateTime))
    for any_shop_state in (True, False)
}


def store(connection: Connection, domain: str, received: Received) -> str:
    """Insert the delivery for the shop with this domain, in one statement.

    Returns "accepted", "duplicate" (the shop already has this webhook id), or
    "ignored" (the shop is unknown, or uninstalled and the topic is not a
    compliance one)."""
    inserted = connection.execute(_STORE[received.topic in COMPLIANCE_TOPICS], {
        "domain": domain,
        "webhook_id": received.webhook_id,
        "topic": received.topic,
        "event_id": received.event_id,
        "triggered_at": received.triggered_at,
        "api_version": received.api_version,
        "payload": received.payload,
        "status": DeliveryStatus.PENDING.value,
        "now": utcnow(),
    }).first()
    if inserted is not None:
        return "accepted"
    duplicate = connection.execute(
        select(WebhookDelivery.id)
        .join(Shop, Shop.id == WebhookDelivery.shop_id)
        .where(Shop.domain == domain, WebhookDelivery.webhook_id == received.webhook_id)
    ).first()
    return "duplicate" if duplicate is not None else "ignored"


def process_due(app: Flask, limit: int = 100) -> int:
    """Process up to ``limit`` due deliveries; the number processed."""
    return process_due_rows(app, WebhookDelivery, _run, limit)


def process_next(app: Flask) -> bool:
    """Claim and process one due delivery. False when none is due."""
    return process_due(app, limit=1) == 1


def replay(app: Flask, delivery_id: int) -> WebhookDelivery | None:
    """Run a stored delivery again now, whatever its state; None if unknown."""
    with worker_session(app) as session, session.begin():
        delivery = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
        ).first()
        if delivery is not None:
            _run(session, delivery)
        return delivery


def _run(session: Session, delivery: WebhookDelivery) -> None:
    delivery.attempts += 1
    now = utcnow()
    try:
        with session.begin_nested():
            _handle(session, delivery)
    except Exception as exc:  # noqa: BLE001 - any handler failure is recorded, never lost
        delivery.status = DeliveryStatus.FAILED.value
        delivery.error = describe_error(exc)[:4000]
        delivery.next_attempt_at = _next_attempt(delivery.attempts, now, permanent=isinstance(exc, payloads.PayloadError))
        log.warning(
            "webhook delivery %s (%s) failed on attempt %s: %s",
            delivery.id, delivery.topic, delivery.attempts, delivery.error,
        )
    else:
        if delivery.topic == "shop/redact":
            # Its handler deleted every row of the shop, this delivery included.
            session.expunge(delivery)
            return
        delivery.status = DeliveryStatus.PROCESSED.value
        delivery.error = None
        delivery.next_attempt_at = None
        delivery.processed_at = now
        if delivery.topic == "customers/redact":
            # The request names the customer it erases: keep no copy of that.
            delivery.payload = REDACTED_PAYLOAD


def _next_attempt(attempts: int, now: datetime, permanent: bool) -> datetime | None:
    if permanent or attempts > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[attempts - 1]


def _handle(session: Session, delivery: WebhookDelivery) -> None:
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        log.info("webhook delivery %s: no handler for topic %s; kept, ignored", delivery.id, delivery.topic)
        return
    shop = session.get(Shop, delivery.shop_id)
    handler(session, shop, payloads.parse_json(delivery.payload), delivery)


def failed(session: Session) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.FAILED.value)
            .order_by(WebhookDelivery.id)
        )
    )


def describe(delivery: WebhookDelivery, domain: str) -> dict:
    return {
        "id": delivery.id,
        "shop": domain,
        "topic": delivery.topic,
        "webhook_id": delivery.webhook_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else None,
        "received_at": delivery.received_at.isoformat(),
        "error": delivery.error,
    }
