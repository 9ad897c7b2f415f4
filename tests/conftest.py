"""Shared fixtures: real databases, a real HTTP server, signed requests.

Every test that uses ``app`` runs twice: on SQLite and on a real PostgreSQL
server. The PostgreSQL server comes from AFTERCARE_TEST_POSTGRES_URL (a URL
of a role allowed to create databases; `.ci/run` starts one); each test session
creates its own database there and drops it after. Without that variable the
PostgreSQL runs are skipped, except under CI, where that is an error.

Schemas are built by running the Alembic migrations, never by create_all().
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import requests
from flask import current_app, g
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from werkzeug.serving import make_server

from plugin import create_app, migrate, shops, worker
from plugin.db import EXTENSION, engine, worker_session
from plugin.models import Base
from plugin.signatures import query_hmac

from .fake_shopify import run_fake_shopify

PAYLOADS = Path(__file__).parent / "payloads"
API_KEY = "test-api-key"
# As long as real client secrets (shpss_ + 32 hex): PyJWT refuses shorter HS256 keys.
SECRET = "shpss_test0000000000000000000000000000"
PREVIOUS_SECRET = "shpss_rotated000000000000000000000000000"
SHOP = "test-shop.myshopify.com"
POSTGRES_ENV = "AFTERCARE_TEST_POSTGRES_URL"
POSTGRES_SKIP = f"PostgreSQL tests need {POSTGRES_ENV}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Report every PostgreSQL skip from one place, so `-ra` folds them into
    one summary line instead of one per test; other skips show as usual."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(POSTGRES_SKIP):
        report.longrepr = (__file__, None, report.longrepr[2])
    return report


def db():
    """The test's own session, in a fresh transaction: sees everything committed
    so far. A plain (deferred) one, so that reading never blocks the app."""
    if "test_session" not in g:
        g.test_session = current_app.extensions[EXTENSION]["sessions"]()
    session = g.test_session
    session.rollback()
    session.expire_all()  # rollback() alone expires nothing when no transaction was open
    return session


def signed_query(secret: str = SECRET, **params) -> dict:
    """Query parameters as Shopify signs them for OAuth and admin launches."""
    params.setdefault("timestamp", str(int(time.time())))
    return {**params, "hmac": query_hmac(secret, params)}


def database_dump(app) -> str:
    """Every row of every table, as text: what a backup of the database holds."""
    lines = []
    with engine(app).connect() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                lines.append(f"{table}: " + " | ".join(
                    bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, memoryview)) else str(v) for v in row
                ))
    return "\n".join(lines)


def load_payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def environ(database_url: str, shopify_base_url: str = "http://127.0.0.1:9/shops/{shop}") -> dict[str, str]:
    return {
        "SHOPIFY_BASE_URL": shopify_base_url,
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": SECRET,
        "SHOPIFY_API_SECRET_PREVIOUS": PREVIOUS_SECRET,
        "AFTERCARE_SECRET_KEY": "test-secret-key-for-links-and-tokens-0123456789abcdef",  # >= 32 bytes
        "AFTERCARE_DATABASE_URL": database_url,
    }


@contextmanager
def fresh_database(backend: str, tmp_path: Path):
    """An empty database on ``backend``; yields its URL, removes it after."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'aftercare-{uuid.uuid4().hex[:8]}.db'}"
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must test on PostgreSQL")
        pytest.skip(POSTGRES_SKIP)
    name = f"aftercare_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
        admin.dispose()


def _drop_database(admin, name: str) -> None:
    """Drop it once its last connections are gone. WITH (FORCE) cannot end
    an autovacuum worker that a bulk insert woke (it is the superuser's):
    wait for that first, as bench/data.py does."""
    for _ in range(50):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            return
        except OperationalError:  # "being accessed by other users"
            time.sleep(0.2)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def fake_shopify_server():
    with run_fake_shopify(API_KEY, SECRET) as fake:
        yield fake


@pytest.fixture
def fake_shopify(fake_shopify_server):
    """A fake Shopify on 127.0.0.1 (OAuth token endpoint, GraphQL Admin API),
    with no state left from other tests; the app's SHOPIFY_BASE_URL points at it."""
    fake_shopify_server.reset()
    yield fake_shopify_server
    fake_shopify_server.reset()


@pytest.fixture(scope="session")
def migrated_app(backend, tmp_path_factory, fake_shopify_server):
    tmp = tmp_path_factory.mktemp(backend)
    with fresh_database(backend, tmp) as url:
        app = create_app({"TESTING": True}, environ=environ(url, fake_shopify_server.base_url),
                         instance_path=str(tmp / "instance"))
        migrate.upgrade(app)
        yield app
        engine(app).dispose()


def _empty_all_tables(app) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine(app).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def app(migrated_app):
    """The app on a migrated, empty database (emptied again after the test)."""
    with migrated_app.app_context():
        yield migrated_app
        if "test_session" in g:
            g.test_session.close()
    _empty_all_tables(migrated_app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """Invokes the `aftercare` command group against the test app."""
    from plugin.cli import cli

    cli_runner = app.test_cli_runner()

    def invoke(*args: str):
        with app.app_context():  # a context (and session) of its own, like a real process
            return cli_runner.invoke(cli, list(args))

    return invoke


@pytest.fixture(scope="session")
def live_server(migrated_app):
    """The app served over real HTTP on 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, migrated_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def shop(app):
    """An installed shop."""
    with worker_session(app) as session, session.begin():
        installed = shops.install(session, SHOP, shops.static_grant("shpat_test_token", "read_orders"))
        session.flush()
        shop_id = installed.id
    return shop_id


class Webhooks:
    """Posts webhooks to the live server the way Shopify does."""

    def __init__(self, base_url: str):
        self.url = f"{base_url}/webhooks"
        self.http = requests.Session()

    def post(self, topic: str, body: dict | bytes, *, shop: str = SHOP, webhook_id: str | None = None,
             secret: str = SECRET, headers: dict | None = None, drop: tuple[str, ...] = ()) -> requests.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(raw, secret),
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "X-Shopify-API-Version": "2026-07",
        }
        sent.update(headers or {})
        for name in drop:
            sent.pop(name, None)
        return self.http.post(self.url, data=raw, headers=sent, timeout=10)


@pytest.fixture
def webhooks(app, live_server) -> Webhooks:
    return Webhooks(live_server)


class MailSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.refuse_with: str | None = None  # e.g. "550 no such user" or "451 try later"
        self.drop_data = 0  # drop the connection in the middle of the next N messages
        self.sessions = 0  # SMTP sessions opened (EHLO/HELO seen)
        sink = self

        class Handler:
            async def handle_EHLO(self, server, session, envelope, hostname, responses):
                sink.sessions += 1
                session.host_name = hostname
                return responses

            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if sink.refuse_with:
                    return sink.refuse_with
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if sink.drop_data:
                    sink.drop_data -= 1
                    server.transport.close()
                    return "421 gone"
                sink.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=default))
                return "250 Message accepted for delivery"

        with socket.socket() as probe:  # Controller checks its port on start, so 0 will not do
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def config(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "ssl": False, "starttls": False,
                "username": None, "password": None}


@pytest.fixture(scope="session")
def smtp_server():
    sink = MailSink()
    yield sink
    sink.controller.stop()


@pytest.fixture
def smtp(app, smtp_server, monkeypatch):
    """The app sends mail to a real SMTP sink for this test; ``smtp.messages``."""
    smtp_server.messages.clear()
    smtp_server.refuse_with = None
    smtp_server.drop_data = smtp_server.sessions = 0
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.config)
    return smtp_server


@pytest.fixture
def run_worker(app):
    """Drain everything due, as `aftercare worker --once` does."""
    return lambda: worker.run(app, once=True)
