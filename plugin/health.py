"""GET /healthz for operators and load balancers."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .db import get_session
from .models import WorkerHeartbeat, utcnow

# A worker beats every few seconds while it runs; older than this, it is stale.
STALE_SECONDS = 60

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Database reachable (else 503) and the age of the newest worker heartbeat.
    A stale or absent worker is reported, not failed: the web can still take
    webhooks, which wait in the inbox."""
    try:
        last = get_session().scalar(select(func.max(WorkerHeartbeat.beat_at)))
    except SQLAlchemyError:
        return jsonify({"status": "error", "database": "unreachable"}), 503
    if last is None:
        worker = {"status": "none", "heartbeat_age_seconds": None}
    else:
        age = round((utcnow() - last).total_seconds(), 1)
        worker = {"status": "ok" if age < STALE_SECONDS else "stale", "heartbeat_age_seconds": age}
    return jsonify({"status": "ok", "database": "ok", "worker": worker})
