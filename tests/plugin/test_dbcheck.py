"""A database that is not there, or not migrated: one line saying what is
wrong and what to run, from every command; 503 and one log line from the web."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from plugin import create_app, migrate, orders, shops
from plugin.cli import cli
from plugin.db import engine, worker_session
from plugin.models import WebhookDelivery

from ..conftest import SHOP, environ, fresh_database, load_payload, sign

AFTERCARE = Path(sys.executable).parent / "aftercare"
PASSWORD = "pw-never-shown"

# Every command that touches the database, with arguments it accepts.
DATABASE_COMMANDS = [
    ("shops", "list"),
    ("shops", "add", SHOP, "--token", "shpat_x"),
    ("orders", "show", "--shop", SHOP, "1001"),
    ("backfill", "--shop", SHOP),
    ("webhooks", "failed"),
    ("webhooks", "replay", "1"),
    ("worker", "--once"),
    ("worker",),
    ("run",),
    ("serve",),
]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def make_app(url: str, tmp_path: Path):
    return create_app({"TESTING": True}, environ=environ(url), instance_path=str(tmp_path / "instance"))


@pytest.fixture
def unmigrated_app(backend, tmp_path):
    """The app on an empty database nobody ran `db upgrade` on."""
    with fresh_database(backend, tmp_path) as url:
        app = make_app(url, tmp_path)
        try:
            yield app
        finally:
            engine(app).dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def unreachable_app(request, tmp_path):
    url = {
        "postgresql": f"postgresql+psycopg://aftercare:{PASSWORD}@127.0.0.1:{closed_port()}/aftercare",
        "sqlite": f"sqlite:///{tmp_path / 'no-such-folder' / 'aftercare.db'}",
    }[request.param]
    app = make_app(url, tmp_path)
    yield app
    engine(app).dispose()


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(cli, list(args))


def one_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=" ".join)
def test_every_command_on_an_unmigrated_database_says_to_run_db_upgrade(unmigrated_app, args):
    line = one_line(invoke(unmigrated_app, *args))
    assert line.startswith("aftercare: the database ")
    assert "has no Aftercare tables yet: run `aftercare db upgrade`" in line


def test_an_older_schema_names_both_revisions_then_db_upgrade_fixes_it(unmigrated_app):
    migrate.upgrade(unmigrated_app, "0002")
    line = one_line(invoke(unmigrated_app, "worker", "--once"))
    assert "is at schema revision 0002, this code needs" in line and "run `aftercare db upgrade`" in line

    assert invoke(unmigrated_app, "db", "upgrade").exit_code == 0
    result = invoke(unmigrated_app, "worker", "--once")
    assert result.exit_code == 0, result.output
    assert "worker processed 0 item(s)" in result.output


@pytest.mark.parametrize("args", [*DATABASE_COMMANDS, ("db", "upgrade")], ids=" ".join)
def test_every_command_on_an_unreachable_database_says_so_in_one_line(unreachable_app, args):
    line = one_line(invoke(unreachable_app, *args))
    assert line.startswith("aftercare: cannot reach the database ")
    assert "check AFTERCARE_DATABASE_URL" in line
    assert PASSWORD not in line


def test_a_real_database_error_keeps_its_traceback(app, shop, runner, monkeypatch):
    """Only the database's state becomes one line: a bug in a query does not hide."""
    monkeypatch.setattr(orders, "find_order",
                        lambda session, shop_id, name: session.execute(text("SELECT nope FROM orders")).all())
    result = runner("orders", "show", "--shop", SHOP, "1001")
    assert result.exit_code == 1
    assert "nope" in str(result.exception)


def test_the_real_command_on_a_fresh_database_prints_one_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = subprocess.run(
        [str(AFTERCARE), "shops", "list"], cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **environ(url)}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"aftercare: the database {url} has no Aftercare tables yet: run `aftercare db upgrade`\n"


# --------------------------------------------------------------------------- the web app

def post_webhook(client, body: bytes):
    return client.post("/webhooks", data=body, headers={
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": sign(body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    })


def error_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_webhooks_on_an_unmigrated_database_get_503_and_one_log_line(unmigrated_app, caplog):
    body = json.dumps(load_payload("order_create")).encode()
    client = unmigrated_app.test_client()
    for _ in range(3):
        response = post_webhook(client, body)
        assert response.status_code == 503
        assert response.json == {"status": "error", "message": "database unavailable; try again shortly"}
    [record] = error_records(caplog)  # once, not once per request, and no traceback
    assert "has no Aftercare tables yet: run `aftercare db upgrade`" in record.getMessage()
    assert record.exc_info is None

    # Shopify retries; once the schema is there, the same delivery is stored.
    migrate.upgrade(unmigrated_app)
    with unmigrated_app.app_context(), worker_session(unmigrated_app) as session, session.begin():
        shops.install(session, SHOP, shops.static_grant("shpat_x"))
    assert post_webhook(client, body).json["status"] == "accepted"
    with engine(unmigrated_app).connect() as conn:
        assert conn.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


def test_requests_on_an_unreachable_database_get_503_and_a_log_line_without_the_password(unreachable_app, caplog):
    client = unreachable_app.test_client()
    assert post_webhook(client, b'{"id": 1}').status_code == 503
    assert client.get("/healthz").status_code == 503
    [record] = error_records(caplog)
    assert record.getMessage().startswith("cannot reach the database ")
    assert record.exc_info is None
    assert PASSWORD not in caplog.text
