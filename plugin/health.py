"""GET /healthz for operators and load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .db import get_session
from .models import WorkerHeartbeat, utcnow

# A worker beats every few seconds while it runs; older than this, it is stale.
STALE_SECONDS = 60

bp = Blueprint("health", __name__)


def worker_status(session: Session) -> dict:
    """The newest worker heartbeat's age: status ok, stale or none."""
    last = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if last is None:
        return {"status": "none", "heartbeat_age_seconds": None}
    age = round((utcnow() - last).total_seconds(), 1)
    return {"status": "ok" if age < STALE_SECONDS else "stale", "heartbeat_age_seconds": age}


@bp.get("/healthz")
def healthz():
    """Database reachable (else 503) and the age of the newest worker heartbeat.
    A stale or absent worker is reported, not failed: the web can still take
    webhooks, which wait in the inbox."""
    try:
        worker = worker_status(get_session())
    except SQLAlchemyError:
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok", "worker": worker})
