"""The inbox: deliveries are stored on receipt and processed by the worker.

The worker claims due deliveries in batches, one transaction per batch that
holds the rows' locks from claim to commit (plugin.worker.process_due_batches),
each claim naming its shop and every shop with due rows getting its share:
any number of workers can drain the inbox without running a delivery twice,
and a worker that dies mid-way leaves its rows pending for the next. Of a
batch, only the deliveries whose order no other worker holds run now
(webhooks/locks.py); the rest stay pending for a later round.
A delivery's half-done work is rolled back when its handler raises, while
the failure itself is recorded in the same transaction and the other
deliveries of the batch are kept: a batch of order topics runs in one
savepoint, and if anything in it fails, again with a savepoint per delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import BigInteger, Connection, LargeBinary, bindparam, select, text, update
from sqlalchemy.orm import Session

from plugin import orders
from plugin.db import batch, describe_error, worker_session
from plugin.models import DeliveryStatus, Shop, UTCDateTime, WebhookDelivery, utcnow
from plugin.privacy import REDACTED_PAYLOAD
from plugin.worker import process_due_batches

from . import locks, payloads
from .handlers import COMPLIANCE_TOPICS, HANDLERS

log = logging.getLogger(__name__)

# Waits before each retry of a delivery whose handler raised; then it stays failed.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6))

# Deliveries claimed per transaction: one commit for many, while a batch stays
# short (well under a second) so other workers and a clean stop never wait long.
BATCH = 100


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
    .columns(id=BigInteger)  # a known result column: SQLAlchemy caches it, not matches it per call
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


def process_due(app: Flask, limit: int = 500) -> int:
    """Process up to ``limit`` due deliveries; the number processed."""
    return process_due_batches(app, WebhookDelivery, _run_batch, limit, batch=BATCH)


def process_next(app: Flask) -> bool:
    """Claim and process one due delivery. False when none is due."""
    return process_due(app, limit=1) == 1


def replay(app: Flask, delivery_id: int) -> WebhookDelivery | None:
    """Run a stored delivery again now, whatever its state; None if unknown."""
    with worker_session(app) as session, session.begin():
        # The id alone is every shop's (a plain read); the lock names the shop,
        # as Citus wants of FOR UPDATE (see plugin.worker.claim_due).
        shop_id = session.scalar(select(WebhookDelivery.shop_id).where(WebhookDelivery.id == delivery_id))
        delivery = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.shop_id == shop_id, WebhookDelivery.id == delivery_id)
            .with_for_update()
        ).first() if shop_id is not None else None
        if delivery is not None:
            _run(session, delivery)
        return delivery


def _run_batch(session: Session, deliveries: list[WebhookDelivery]) -> int:
    """Run the deliveries of a claimed batch that may run now; how many ran.

    What the deliveries read is read for the whole batch where it can be
    (plugin.db.batch): their orders, whether other shops hold them, each
    shop's settings. A batch of order topics only (the bulk of the traffic)
    is first run all at once, in one savepoint (_all_at_once); if any of
    them fails, that is undone and every delivery runs in a savepoint of its
    own, so a failure still rolls back only its own delivery's work
    (_one_by_one). Those that succeed are marked processed by one statement
    at the end rather than one each; failures (rare) and the privacy topics,
    whose success changes more than the status, are recorded one by one."""
    bodies = [_parse(d.payload) for d in deliveries]
    # Held for the batch: the session keeps loaded objects only while they are
    # referenced, and each handler would otherwise load its shop again.
    shops = {shop_id: session.get(Shop, shop_id) for shop_id in {d.shop_id for d in deliveries}}  # noqa: F841
    now = utcnow()
    runnable = locks.runnable(session, deliveries, bodies)
    wanted: dict[int, set[int]] = {}  # the batch's orders, by shop, once their locks are held
    for delivery, body, ok in zip(deliveries, bodies, runnable):
        if ok and (order_id := locks.order_id(delivery.topic, body)) is not None:
            wanted.setdefault(delivery.shop_id, set()).add(order_id)
    with batch(session) as memo:
        orders.preload(session, wanted)
        together = [(d, body) for d, body, ok in zip(deliveries, bodies, runnable) if ok]
        succeeded = None
        if together and all(d.topic in locks.ORDER_FIELD for d, _ in together):
            succeeded = _all_at_once(session, together, now)
            if succeeded is None:
                memo.clear()  # rolled back: what it held may be stale
                orders.preload(session, wanted)
        if succeeded is None:
            succeeded = _one_by_one(session, deliveries, bodies, runnable, memo, now)
    if succeeded:
        session.execute(_PROCESSED, succeeded)
    return len(together)


def _all_at_once(session: Session, runs: list[tuple[WebhookDelivery, dict | None]],
                 now: datetime) -> list[dict] | None:
    """Run deliveries of order topics in one savepoint for all of them, not
    one each (two statements less per delivery, and their rows are written
    together); the rows for _PROCESSED, or None if any raised (then
    nothing of theirs is kept)."""
    try:
        with session.begin_nested():
            return [{"shop": d.shop_id, "delivery": d.id, "order": _handle(session, d, body), "now": now}
                    for d, body in runs]
    except Exception:  # noqa: BLE001 - run again one by one, which records the failure
        return None


def _one_by_one(session: Session, deliveries: list[WebhookDelivery], bodies: list[dict | None],
                runnable: list[bool], memo: dict, now: datetime) -> list[dict]:
    """Run each delivery that may run in a savepoint of its own; the rows for _PROCESSED."""
    succeeded: list[dict] = []
    erased: set[int] = set()
    for delivery, body, ok in zip(deliveries, bodies, runnable):
        if delivery.shop_id in erased:
            session.expunge(delivery)  # shop/redact, earlier in this batch, deleted it
        elif not ok:
            continue  # its order is in another worker's hands: left pending
        elif delivery.topic in _RECORDED_ONE_BY_ONE:
            _run(session, delivery, body)
            if delivery not in session:  # shop/redact ran: the shop's rows are gone
                erased.add(delivery.shop_id)
        else:
            order_id, error = _attempt(session, delivery, body)
            if error is None:
                succeeded.append({"shop": delivery.shop_id, "delivery": delivery.id, "order": order_id, "now": now})
            else:
                delivery.attempts += 1
                _record_failure(delivery, error, now)
                memo.clear()  # its work was rolled back: what the memo holds may be stale
        if delivery.topic not in locks.ORDER_FIELD:
            memo.clear()  # it may have touched more than its order
    return succeeded


# Marks one delivery processed; run for many at once (executemany), each row
# naming its shop (Citus routes it to one node).
_PROCESSED = (
    update(WebhookDelivery.__table__)
    .where(WebhookDelivery.shop_id == bindparam("shop"), WebhookDelivery.id == bindparam("delivery"))
    .values(status=DeliveryStatus.PROCESSED.value, attempts=WebhookDelivery.attempts + 1, error=None,
            next_attempt_at=None, processed_at=bindparam("now", type_=UTCDateTime),
            order_shopify_id=bindparam("order", type_=BigInteger))
)


# Topics whose success changes the delivery itself (erases it, or its payload).
_RECORDED_ONE_BY_ONE = frozenset({"shop/redact", "customers/redact"})


def _parse(payload: bytes) -> dict | None:
    try:
        return payloads.parse_json(payload)
    except payloads.PayloadError:
        return None  # parsed again in the handler's savepoint, which records the error


def _run(session: Session, delivery: WebhookDelivery, body: dict | None = None) -> None:
    """Run one delivery and record the outcome on it."""
    delivery.attempts += 1
    now = utcnow()
    order_id, error = _attempt(session, delivery, body)
    if error is not None:
        _record_failure(delivery, error, now)
        return
    if delivery.topic == "shop/redact":
        # Its handler deleted every row of the shop, this delivery included.
        session.expunge(delivery)
        return
    delivery.status = DeliveryStatus.PROCESSED.value
    delivery.error = None
    delivery.next_attempt_at = None
    delivery.processed_at = now
    delivery.order_shopify_id = order_id
    if delivery.topic == "customers/redact":
        # The request names the customer it erases: keep no copy of that.
        delivery.payload = REDACTED_PAYLOAD


def _attempt(session: Session, delivery: WebhookDelivery,
             body: dict | None) -> tuple[int | None, Exception | None]:
    """Run the handler in its own savepoint: (the Shopify order it was about,
    None) or (None, what it raised); its half-done work is then rolled back,
    the rest of the transaction kept."""
    try:
        with session.begin_nested():
            return _handle(session, delivery, body), None
    except Exception as exc:  # noqa: BLE001 - any handler failure is recorded, never lost
        return None, exc


def _record_failure(delivery: WebhookDelivery, exc: Exception, now: datetime) -> None:
    delivery.status = DeliveryStatus.FAILED.value
    delivery.error = describe_error(exc)[:4000]
    delivery.next_attempt_at = _next_attempt(delivery.attempts, now, permanent=isinstance(exc, payloads.PayloadError))
    log.warning(
        "webhook delivery %s (%s) failed on attempt %s: %s",
        delivery.id, delivery.topic, delivery.attempts, delivery.error,
    )


def _next_attempt(attempts: int, now: datetime, permanent: bool) -> datetime | None:
    if permanent or attempts > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[attempts - 1]


def _handle(session: Session, delivery: WebhookDelivery, body: dict | None) -> int | None:
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        log.info("webhook delivery %s: no handler for topic %s; kept, ignored", delivery.id, delivery.topic)
        return None
    shop = session.get(Shop, delivery.shop_id)
    return handler(session, shop, body if body is not None else payloads.parse_json(delivery.payload), delivery)


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
