"""PostgreSQL restarted under a real web server (gunicorn) and a real worker:
while it is down, webhooks are answered 503 (Shopify retries those) and
/healthz says so; afterwards both recover with no manual step, and every
webhook answered 200 is processed."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from plugin import create_app, migrate, shops
from plugin.db import engine, worker_session
from plugin.models import DeliveryStatus, Order, WebhookDelivery

from ..conftest import SHOP, Webhooks, environ
from . import processes
from .orders import order
from .private_postgres import _free_port, private_postgres  # noqa: F401 - the fixture

DOWN_SECONDS = 3.0


@pytest.fixture
def stack(private_postgres, tmp_path):  # noqa: F811
    """App schema on the private server, one shop, then `aftercare serve` and `aftercare worker`."""
    app = create_app({"TESTING": True}, environ=environ(private_postgres.url), instance_path=str(tmp_path / "i"))
    migrate.upgrade(app)
    with app.app_context(), worker_session(app) as session, session.begin():
        shops.install(session, SHOP, shops.static_grant("shpat_restart_token", "read_orders"))
    port = _free_port()
    web = processes.start(app, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                          log_path=tmp_path / "web.log")
    worker = processes.start(app, "worker", "--poll", "0.1", log_path=tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        processes.wait_for(lambda: _answers(f"{base}/healthz"), timeout=60, every=0.2, what="the web server to start")
        yield app, base, private_postgres
    finally:
        for process in (web, worker):
            processes.stop(process)
        engine(app).dispose()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_a_postgres_restart_answers_503_meanwhile_and_loses_nothing(stack):
    app, base, server = stack
    hooks = Webhooks(base)
    answers: list[tuple[int, int]] = []  # (order n, status), in the order sent
    bodies: dict[int, str] = {}
    unavailable: list[tuple[dict, str | None]] = []  # what each 503 said
    stop = threading.Event()

    def send():
        n = 0
        while not stop.is_set():
            webhook_id = f"restart-{n}"
            bodies[n] = webhook_id
            response = hooks.post("orders/create", order(n), webhook_id=webhook_id)
            answers.append((n, response.status_code))
            if response.status_code == 503:
                unavailable.append((response.json(), response.headers.get("Retry-After")))
            n += 1
            time.sleep(0.02)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        time.sleep(1.0)
        server.stop()
        time.sleep(0.5)
        health_down = requests.get(f"{base}/healthz", timeout=5)
        time.sleep(DOWN_SECONDS)
        server.start()
        # Recovery without a manual step: 200s again.
        processes.wait_for(lambda: answers[-1][1] == 200, timeout=30, what="webhooks answered 200 again")
        time.sleep(1.0)
    finally:
        stop.set()
        sender.join(30)

    assert health_down.status_code == 503
    statuses = [status for _, status in answers]
    assert set(statuses) <= {200, 503}, f"unexpected answers: {sorted(set(statuses))}"
    refused = [n for n, status in answers if status == 503]
    accepted = [n for n, status in answers if status == 200]
    assert refused, "the database was never seen down"
    assert set(map(repr, unavailable)) == {repr(({"status": "error", "message": "database unavailable; try again shortly"}, "5"))}
    assert accepted[0] < refused[0] and accepted[-1] > refused[-1]  # up, down, up again

    # Shopify retries what was not answered 200: those are accepted now.
    for n in refused:
        assert hooks.post("orders/create", order(n), webhook_id=bodies[n]).status_code == 200

    # The worker, which lived through the restart, processes everything.
    def all_processed() -> bool:
        with worker_session(app) as session:
            counts = dict(session.execute(
                select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all())
            return counts == {DeliveryStatus.PROCESSED.value: len(bodies)}
    processes.wait_for(all_processed, timeout=60, every=0.2, what="the worker to process every delivery")
    with worker_session(app) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == len(bodies)
        assert set(session.scalars(select(WebhookDelivery.webhook_id))) == set(bodies.values())
    assert requests.get(f"{base}/healthz", timeout=5).json()["worker"]["status"] == "ok"
