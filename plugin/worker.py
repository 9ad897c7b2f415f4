"""The worker loop: runs every registered job until nothing is due.

Jobs (the webhook inbox now; the outbox later) are registered by create_app in
``app.extensions["aftercare.worker_jobs"]``; each processes what is due and
returns how many items it handled. Run as many workers as the load needs.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def run(app: Flask, *, once: bool = False, poll_seconds: float = 1.0,
        stop: threading.Event | None = None) -> int:
    """Loop until ``stop`` is set; with ``once``, until nothing is due.
    Returns the number of items processed."""
    stop = stop or threading.Event()
    jobs = app.extensions["aftercare.worker_jobs"]
    total = 0
    while not stop.is_set():
        try:
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
    return total
