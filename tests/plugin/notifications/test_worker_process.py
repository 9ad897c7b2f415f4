"""The `aftercare worker` process itself decides and sends notifications
(its loop runs in a thread of its own, which needs the app's context)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from plugin import create_app, migrate, shops
from plugin.db import engine, worker_session, write_connection
from plugin.models import Notification
from webhooks.inbox import Received, store

from ...conftest import SHOP, environ
from .conftest import fulfillment, order


def test_the_worker_command_decides_and_sends(tmp_path, smtp_server):
    smtp_server.messages.clear()
    smtp_server.refuse_with, smtp_server.drop_data = None, 0  # as the `smtp` fixture leaves it
    env = {**environ(f"sqlite:///{tmp_path / 'w.db'}"), "AFTERCARE_SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}"}
    app = create_app(environ=env, instance_path=str(tmp_path))
    migrate.upgrade(app)
    with app.app_context(), worker_session(app) as session, session.begin():
        shops.install(session, SHOP, shops.static_grant("shpat_test_token", "read_orders"))
    with write_connection(app) as connection:
        for n, (topic, body) in enumerate([("orders/create", order()), ("fulfillments/create", fulfillment("in_transit"))]):
            store(connection, SHOP, Received(topic, f"w{n}", None, None, "2026-07", json.dumps(body).encode()))

    script = str(Path(sys.executable).parent / "aftercare")
    process = subprocess.Popen([script, "worker", "--poll", "0.1"], env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not smtp_server.messages and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    with worker_session(app) as session:
        statuses = [(n.kind, n.status) for n in session.scalars(select(Notification))]
    engine(app).dispose()
    assert statuses == [("shipped", "sent")], err
    assert [m["X-Aftercare-Kind"] for m in smtp_server.messages] == ["shipped"]
