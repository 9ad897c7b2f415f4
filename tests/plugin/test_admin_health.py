"""The Health page and its API: the shop's failed webhook deliveries (and
their replay), its inbox and outbox backlog, and the worker's heartbeat."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from plugin.models import Notification, Order, WebhookDelivery, WorkerHeartbeat, utcnow
from webhooks.handlers import HANDLERS

from ..conftest import API_KEY, SECRET, db, load_payload
from ..fake_shopify import make_session_token
from .test_admin_api import token
from .test_admin_pages import OTHER, link_path


def bearer_headers(bearer=None):
    bearer = token() if bearer is None else bearer
    return {"Authorization": f"Bearer {bearer}"} if bearer else {}


def replay(client, delivery_id, bearer=None):
    return client.post(f"/api/admin/webhooks/{delivery_id}/replay", headers=bearer_headers(bearer))


def health(client, bearer=None):
    return client.get("/api/admin/health", headers=bearer_headers(bearer))


def fail_once(monkeypatch, webhooks, run_worker, topic="orders/create", payload="order_create", shop=None,
              error="OperationalError: database is locked"):
    """Post a webhook whose handler fails (as on a database outage): the
    delivery is left failed, its retry a minute away."""
    def broken(*_args):
        raise RuntimeError(error)
    with monkeypatch.context() as patch:
        patch.setitem(HANDLERS, topic, broken)
        webhooks.post(topic, load_payload(payload), **({"shop": shop} if shop else {}))
        run_worker()
    return db().scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc())).first()


def test_failed_deliveries_are_listed_with_their_error(client, shop, webhooks, run_worker, monkeypatch):
    delivery = fail_once(monkeypatch, webhooks, run_worker, error="<script>alert(1)</script>")
    body = health(client).json
    assert body["failed_total"] == 1
    (row,) = body["failed_deliveries"]
    assert row["id"] == delivery.id and row["topic"] == "orders/create" and row["attempts"] == 1
    assert "<script>alert(1)</script>" in row["error"] and row["received_at"]
    assert "payload" not in row


def test_replay_runs_the_delivery_again_and_it_is_processed(client, shop, webhooks, run_worker, monkeypatch):
    delivery = fail_once(monkeypatch, webhooks, run_worker)
    assert db().scalar(select(Order.id)) is None
    response = replay(client, delivery.id)
    assert response.status_code == 200
    assert response.json["status"] == "processed" and response.json["attempts"] == 2 and response.json["error"] is None
    assert db().scalar(select(Order.name)) == "#1001"
    assert health(client).json["failed_deliveries"] == []
    timeline = client.get("/api/admin/orders/1001", headers=bearer_headers()).json["timeline"]
    assert [e["detail"]["status"] for e in timeline if e["type"] == "webhook"] == ["processed"]


def test_a_delivery_that_fails_again_says_so(client, shop, webhooks, run_worker, monkeypatch):
    delivery = fail_once(monkeypatch, webhooks, run_worker)
    monkeypatch.setitem(HANDLERS, "orders/create", lambda *_: (_ for _ in ()).throw(RuntimeError("still down")))
    response = replay(client, delivery.id)
    assert response.status_code == 200
    assert response.json["status"] == "failed" and "still down" in response.json["error"]


def test_another_shops_delivery_is_404_and_not_run(client, shop, runner, webhooks, run_worker, monkeypatch):
    runner("shops", "add", OTHER, "--token", "t")
    theirs = fail_once(monkeypatch, webhooks, run_worker, shop=OTHER)
    assert theirs.shop_id != shop
    response = replay(client, theirs.id)
    assert response.status_code == 404 and response.json == {"error": f"no webhook delivery {theirs.id}"}
    after = db().get(WebhookDelivery, theirs.id)
    assert after.status == "failed" and after.attempts == 1
    assert health(client).json["failed_deliveries"] == []  # their failures are not listed here either
    other = make_session_token(API_KEY, SECRET, OTHER)
    assert [r["id"] for r in health(client, other).json["failed_deliveries"]] == [theirs.id]


@pytest.mark.parametrize("raw", ["١", "²", "abc", "99999999999999999999", "-1", "1.0"])
def test_a_delivery_id_that_is_not_ascii_digits_is_404(client, shop, raw):
    response = replay(client, raw)
    assert response.status_code == 404 and "no webhook delivery" in response.json["error"]


def test_a_delivery_that_has_not_failed_is_409_and_not_run(client, shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    delivery = db().scalars(select(WebhookDelivery)).one()
    response = replay(client, delivery.id)
    assert response.status_code == 409 and "has not failed" in response.json["error"]
    assert db().get(WebhookDelivery, delivery.id).attempts == 1


@pytest.mark.parametrize("case", ["missing", "expired"])
def test_without_a_valid_token_health_and_replay_are_401(client, shop, webhooks, run_worker, monkeypatch, case):
    delivery = fail_once(monkeypatch, webhooks, run_worker)
    now = int(time.time())
    bearer = "" if case == "missing" else token(exp=now - 60, nbf=now - 120, iat=now - 120)
    assert health(client, bearer).status_code == 401
    assert replay(client, delivery.id, bearer).status_code == 401
    assert db().get(WebhookDelivery, delivery.id).attempts == 1


def test_backlog_counts_what_waits_and_how_long_the_oldest_has(client, shop, webhooks):
    webhooks.post("orders/create", load_payload("order_create"))  # no worker: it waits
    session = db()
    session.add(Notification(shop_id=shop, kind="shipped", channel="email", recipient="a@example.com",
                             dedupe_key="n1", next_attempt_at=utcnow() - timedelta(minutes=10)))
    session.add(Notification(shop_id=shop, kind="shipped", channel="email", recipient="b@example.com",
                             dedupe_key="n2", next_attempt_at=utcnow() + timedelta(hours=1)))
    session.commit()
    backlog = health(client).json["backlog"]
    assert backlog["inbox"]["pending"] == 1 and backlog["inbox"]["due"] == 1
    assert backlog["inbox"]["oldest_due_age_seconds"] >= 0
    assert backlog["outbox"]["pending"] == 2 and backlog["outbox"]["due"] == 1
    assert 590 <= backlog["outbox"]["oldest_due_age_seconds"] <= 700


def test_worker_heartbeat_as_healthz_reports_it(client, shop):
    assert health(client).json["worker"] == {"status": "none", "heartbeat_age_seconds": None}
    session = db()
    session.add(WorkerHeartbeat(worker="host:1:1", beat_at=utcnow() - timedelta(seconds=20)))
    session.commit()
    worker = health(client).json["worker"]
    assert worker["status"] == "ok" and 19 <= worker["heartbeat_age_seconds"] < 60
    assert client.get("/healthz").json["worker"]["status"] == "ok"


# --- the page -----------------------------------------------------------------

def test_the_page_lists_failures_escaped_with_a_replay_button(client, shop, webhooks, run_worker, monkeypatch):
    delivery = fail_once(monkeypatch, webhooks, run_worker, error='<img src=x onerror="alert(1)">')
    html = client.get(link_path(page="/app/health")).get_data(as_text=True)
    assert "orders/create" in html and f'data-replay="{delivery.id}"' in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html and "<img src=x" not in html
    assert "No worker has run yet." in html


def test_the_page_speaks_german(client, shop):
    session = db()
    session.add(WorkerHeartbeat(worker="host:1:1", beat_at=utcnow() - timedelta(seconds=90)))
    session.commit()
    html = client.get(link_path(page="/app/health") + "&locale=de").get_data(as_text=True)
    assert "Keine fehlgeschlagenen Zustellungen." in html
    assert "Letztes Lebenszeichen vor" in html and "Minute" in html  # Babel's "1 Minute" / "2 Minuten"


def test_another_shops_page_does_not_list_this_shops_failures(client, shop, runner, webhooks, run_worker,
                                                              monkeypatch):
    runner("shops", "add", OTHER, "--token", "t")
    mine = fail_once(monkeypatch, webhooks, run_worker)
    other = make_session_token(API_KEY, SECRET, OTHER)
    html = client.get(f"/app/health?id_token={other}").get_data(as_text=True)
    assert f'data-replay="{mine.id}"' not in html and "No failed deliveries." in html
