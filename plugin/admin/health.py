"""The Health page's facts: a shop's failed webhook deliveries, its backlog in
the inbox and the outbox, and the worker's heartbeat.

Shared by the page and `GET /api/admin/health`. Deliveries and messages are
the shop's own; workers serve every shop, so the heartbeat is the one
/healthz reports. ``replay`` runs a failed delivery again through the same
function as `aftercare webhooks replay`, which the webhooks package
registers in ``app.extensions``.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import health as app_health
from ..models import DeliveryStatus, Notification, NotificationStatus, WebhookDelivery, utcnow

FAILED_SHOWN = 100  # the newest failures listed; the total is counted


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def describe(delivery: WebhookDelivery) -> dict:
    """A delivery as the page and the API show it (never its payload)."""
    return {
        "id": delivery.id, "topic": delivery.topic, "status": delivery.status, "attempts": delivery.attempts,
        "error": delivery.error, "received_at": _iso(delivery.received_at),
        "next_attempt_at": _iso(delivery.next_attempt_at), "processed_at": _iso(delivery.processed_at),
    }


def failed_deliveries(session: Session, shop_id: int, limit: int = FAILED_SHOWN) -> tuple[list[dict], int]:
    """The shop's newest failed deliveries, and how many have failed in all."""
    where = (WebhookDelivery.shop_id == shop_id, WebhookDelivery.status == DeliveryStatus.FAILED.value)
    total = session.scalar(select(func.count()).select_from(WebhookDelivery).where(*where))
    rows = session.scalars(select(WebhookDelivery).where(*where).order_by(WebhookDelivery.id.desc()).limit(limit))
    return [describe(d) for d in rows], total


def _queue(session: Session, model, shop_id: int, pending: str) -> dict:
    """Rows waiting (status pending), rows due now (retries included) and
    how long the oldest due one has waited."""
    now = utcnow()
    waiting = session.scalar(
        select(func.count()).select_from(model).where(model.shop_id == shop_id, model.status == pending)
    )
    due, oldest = session.execute(
        select(func.count(), func.min(model.next_attempt_at))
        .where(model.shop_id == shop_id, model.next_attempt_at <= now)
    ).one()
    return {"pending": waiting, "due": due,
            "oldest_due_age_seconds": round((now - oldest).total_seconds(), 1) if oldest is not None else None}


def backlog(session: Session, shop_id: int) -> dict:
    return {
        "inbox": _queue(session, WebhookDelivery, shop_id, DeliveryStatus.PENDING.value),
        "outbox": _queue(session, Notification, shop_id, NotificationStatus.PENDING.value),
    }


def report(session: Session, shop_id: int) -> dict:
    failed, total = failed_deliveries(session, shop_id)
    return {"worker": app_health.worker_status(session), "backlog": backlog(session, shop_id),
            "failed_deliveries": failed, "failed_total": total}


def find_failed(session: Session, shop_id: int, raw_id: str) -> tuple[WebhookDelivery | None, bool]:
    """(the shop's delivery with this id or None, whether it is failed).
    Ids are ASCII digits: "١" or "²" find nothing rather than raise."""
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 19):
        return None, False
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.shop_id == shop_id, WebhookDelivery.id == int(raw_id))
    )
    return delivery, delivery is not None and delivery.status == DeliveryStatus.FAILED.value


def replay(app: Flask, delivery_id: int) -> WebhookDelivery | None:
    """Run the delivery again now, as `aftercare webhooks replay` does (the
    webhooks package registers that function: plugin does not import it).
    The caller has checked it is the shop's and has ended its own
    transaction (on SQLite the replay takes the write lock)."""
    return app.extensions["aftercare.replay_delivery"](app, delivery_id)
