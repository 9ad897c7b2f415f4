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
from datetime import datetime

from flask import Flask
from sqlalchemy import delete, func, select
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
    up to ``batch`` at a time, shared fairly between shops (claim_due), and
    run ``process(session, rows)`` on them, in a transaction that holds the
    rows' locks from claim to commit: FOR UPDATE SKIP LOCKED on PostgreSQL,
    BEGIN IMMEDIATE on SQLite. Any number of workers can share the work
    without taking a row twice, and a worker that dies mid-way leaves its rows
    due for the next. One transaction per batch, not per row: a commit (a
    disk flush) and the claim are paid once per batch.

    ``process`` returns how many of the rows it processed; rows it leaves
    untouched stay due. Returns how many rows were processed; stops early when
    a batch processed none (the rest is busy elsewhere, come back later)."""
    done = 0
    while done < limit:
        with worker_session(app) as session, session.begin():
            rows = claim_due(session, model, min(batch, limit - done), utcnow())
            if not rows:
                break
            processed = process(session, rows)
        done += processed
        if processed == 0:
            break
    return done


def claim_due(session: Session, model, limit: int, now: datetime, *where) -> list:
    """Lock up to ``limit`` due rows of ``model`` (``next_attempt_at <= now``
    and ``where``), in the caller's transaction, each claim naming one shop.

    Under Citus a table is split by shop and FOR UPDATE runs only on a query
    that goes to one shard, so the claim is in two steps: which shops have due
    rows (a plain read over every shop, no lock; the shops waiting longest
    first), then FOR UPDATE SKIP LOCKED per shop. ``limit`` is shared between
    those shops, so one shop's backlog cannot hold back the others: each gets
    its share in every batch, and what a shop leaves of its share goes to the
    shops that still have rows."""
    due = (model.next_attempt_at <= now, *where)
    shops = list(session.scalars(
        select(model.shop_id).where(*due).group_by(model.shop_id)
        .order_by(func.min(model.next_attempt_at), model.shop_id).limit(limit)
    ))
    rows: list = []
    mine: dict[int, list[int]] = {}  # claimed so far, by shop: still due, and SKIP LOCKED skips only others' locks
    while shops and len(rows) < limit:
        share = max(1, (limit - len(rows)) // len(shops))
        more = []
        for shop_id in shops:
            wanted = min(share, limit - len(rows))
            if wanted == 0:
                break
            taken = mine.setdefault(shop_id, [])
            claimed = session.scalars(
                select(model).where(model.shop_id == shop_id, *due, *([model.id.not_in(taken)] if taken else []))
                .order_by(model.next_attempt_at, model.id).limit(wanted)
                .with_for_update(skip_locked=True)
            ).all()
            rows += claimed
            taken += [row.id for row in claimed]
            if len(claimed) == wanted:
                more.append(shop_id)  # may have more; the others are drained (or busy elsewhere)
        shops = more
    return rows


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
