"""The inbox: deliveries are stored on receipt and processed by the worker.

Processing one delivery is one transaction that holds the delivery's row lock
from claim to commit (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on
SQLite): any number of workers can drain the inbox without running a delivery
twice, and a worker that dies mid-way leaves the row pending for the next.
The handler runs in a savepoint, so its half-done work is rolled back when it
raises, while the failure itself is recorded in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from plugin.db import worker_session
from plugin.models import DeliveryStatus, Shop, WebhookDelivery, utcnow

from . import payloads
from .handlers import HANDLERS

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


def store(session: Session, shop: Shop, received: Received) -> bool:
    """Insert the delivery unless the shop already has its webhook id.
    True if stored, False if it was a duplicate."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = (
        insert(WebhookDelivery)
        .values(
            shop_id=shop.id,
            webhook_id=received.webhook_id,
            topic=received.topic,
            event_id=received.event_id,
            triggered_at=received.triggered_at,
            api_version=received.api_version,
            payload=received.payload,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["shop_id", "webhook_id"])
        .returning(WebhookDelivery.id)
    )
    # rowcount is unreliable across drivers here; RETURNING yields no row on conflict.
    return session.execute(statement).scalar() is not None


def process_due(app: Flask, limit: int = 100) -> int:
    """Process up to ``limit`` due deliveries; the number processed."""
    done = 0
    while done < limit and process_next(app):
        done += 1
    return done


def process_next(app: Flask) -> bool:
    """Claim and process one due delivery. False when none is due."""
    with worker_session(app) as session, session.begin():
        delivery = session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.next_attempt_at <= utcnow())
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if delivery is None:
            return False
        _run(session, delivery)
    return True


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
        delivery.error = f"{type(exc).__name__}: {exc}"[:4000]
        delivery.next_attempt_at = _next_attempt(delivery.attempts, now, permanent=isinstance(exc, payloads.PayloadError))
        log.warning(
            "webhook delivery %s (%s) failed on attempt %s: %s",
            delivery.id, delivery.topic, delivery.attempts, delivery.error,
        )
    else:
        delivery.status = DeliveryStatus.PROCESSED.value
        delivery.error = None
        delivery.next_attempt_at = None
        delivery.processed_at = now


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
    handler(session, shop, payloads.parse_json(delivery.payload))


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
