"""The worker loop: runs every registered job until nothing is due.

Jobs (the webhook inbox, the mail outbox) are registered by create_app in
``app.extensions["aftercare.worker_jobs"]``; each processes what is due and
returns how many items it handled. Run as many workers as the load needs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .db import worker_session
from .models import WorkerHeartbeat, utcnow

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0


def run(app: Flask, *, once: bool = False, poll_seconds: float = 1.0,
        stop: threading.Event | None = None) -> int:
    """Loop until ``stop`` is set; with ``once``, until nothing is due.
    Returns the number of items processed."""
    stop = stop or threading.Event()
    jobs = app.extensions["aftercare.worker_jobs"]
    name = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    total = 0
    last_beat = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                _beat(app, name)
                last_beat = time.monotonic()
            done = sum(job(app) for job in jobs)
        except Exception:
            if once:
                raise
            # The database may be briefly unreachable: wait and go on, never die.
            log.exception("worker round failed; retrying in %ss", poll_seconds * 5)
            stop.wait(poll_seconds * 5)
            continue
        total += done
        if done == 0:
            if once:
                break
            stop.wait(poll_seconds)
    _forget(app, name)
    return total


def process_due_rows(app: Flask, model, process: Callable[[Session, object], None], limit: int) -> int:
    """Claim due rows of ``model`` one at a time and run ``process(session, row)``
    on each, in its own transaction (see process_due_batches). For work with
    side effects outside the database, such as mail: a failure rolls back
    only the row in hand. Returns how many rows were processed."""
    def one(session: Session, rows: list) -> int:
        process(session, rows[0])
        return 1
    return process_due_batches(app, model, one, limit, batch=1)


def process_due_batches(app: Flask, model, process: Callable[[Session, list], int], limit: int,
                        batch: int) -> int:
    """Claim due rows of ``model`` (those whose ``next_attempt_at`` has come)
    up to ``batch`` at a time and run ``process(session, rows)`` on them, in a
    transaction that holds the rows' locks from claim to commit: FOR UPDATE
    SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite. Any number of workers
    can share the work without taking a row twice, and a worker that dies
    mid-way leaves its rows due for the next. One transaction per batch, not
    per row: a commit (a disk flush) and the claim are paid once per batch.

    ``process`` returns how many of the rows it processed; rows it leaves
    untouched stay due. Returns how many rows were processed; stops early when
    a batch processed none (the rest is busy elsewhere, come back later)."""
    done = 0
    while done < limit:
        with worker_session(app) as session, session.begin():
            rows = session.scalars(
                select(model)
                .where(model.next_attempt_at <= utcnow())
                .order_by(model.next_attempt_at, model.id)
                .limit(min(batch, limit - done))
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                break
            processed = process(session, rows)
        done += processed
        if processed == 0:
            break
    return done


def _beat(app: Flask, name: str) -> None:
    with worker_session(app) as session, session.begin():
        heartbeat = session.get(WorkerHeartbeat, name) or WorkerHeartbeat(worker=name)
        heartbeat.beat_at = utcnow()
        session.add(heartbeat)


def _forget(app: Flask, name: str) -> None:
    try:
        with worker_session(app) as session, session.begin():
            session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == name))
    except Exception:  # noqa: BLE001 - a stale heartbeat only ages; never fail a clean stop over it
        log.warning("could not remove the heartbeat of %s", name)
