"""The outbox sends through a real SMTP server, retries, and never loses mail."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

from sqlalchemy import select

from plugin.models import Notification, Shop, utcnow

from ..conftest import SHOP, db, load_payload

JON = {"id": 115310627314723954, "email": "jon@example.com", "phone": "+15551234567"}


def data_request(webhooks, run_worker, owner="owner@test-shop.example"):
    session = db()
    session.scalar(select(Shop).where(Shop.domain == SHOP)).email = owner
    session.commit()
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("customers/data_request", {"shop_id": 1, "shop_domain": SHOP, "customer": JON,
                                             "orders_requested": [820982911946154508], "data_request": {"id": 42}})
    run_worker()


def notification() -> Notification:
    return db().scalar(select(Notification))


def test_data_export_is_emailed_to_the_store_owner_with_the_json(app, shop, webhooks, run_worker, smtp):
    data_request(webhooks, run_worker)
    [message] = smtp.messages
    assert message["To"] == "owner@test-shop.example"
    assert message["From"] == app.config["MAIL_FROM"]
    assert "Customer data request 42" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    content = json.loads(attachment.get_content())
    assert [o["name"] for o in content["orders"]] == ["#1001"]
    sent = notification()
    assert (sent.status, sent.attempts, sent.error) == ("sent", 1, None) and sent.sent_at is not None


def test_without_smtp_mail_waits_in_the_outbox(app, shop, webhooks, run_worker):
    assert app.config["SMTP_URL"] is None
    data_request(webhooks, run_worker)
    waiting = notification()
    assert (waiting.status, waiting.attempts) == ("pending", 0)


def test_server_down_is_retried_with_backoff_then_sent(app, shop, webhooks, run_worker, smtp, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    monkeypatch.setitem(app.config, "SMTP_URL", {**smtp.config, "port": dead_port})
    data_request(webhooks, run_worker)
    waiting = notification()
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in waiting.error
    assert utcnow() + timedelta(seconds=50) < waiting.next_attempt_at < utcnow() + timedelta(seconds=70)
    assert smtp.messages == []

    monkeypatch.setitem(app.config, "SMTP_URL", smtp.config)
    session = db()
    session.get(Notification, waiting.id).next_attempt_at = utcnow()
    session.commit()
    run_worker()
    assert notification().status == "sent" and len(smtp.messages) == 1


def test_a_permanent_refusal_fails_at_once_with_the_reason(app, shop, webhooks, run_worker, smtp):
    smtp.refuse_with = "550 5.1.1 no such mailbox"
    data_request(webhooks, run_worker)
    failed = notification()
    assert (failed.status, failed.next_attempt_at) == ("failed", None)
    assert "recipient refused (550)" in failed.error


def test_a_temporary_refusal_is_retried(app, shop, webhooks, run_worker, smtp):
    smtp.refuse_with = "451 4.3.0 try again later"
    data_request(webhooks, run_worker)
    waiting = notification()
    assert waiting.status == "pending" and waiting.next_attempt_at is not None


def test_customer_mail_for_an_uninstalled_shop_is_skipped(app, shop, webhooks, run_worker, smtp):
    session = db()
    session.add(Notification(shop_id=shop, kind="shipped", recipient="jon@example.com", dedupe_key="k",
                             context={}, status="pending", next_attempt_at=utcnow()))
    session.commit()
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    skipped = notification()
    assert (skipped.status, skipped.error) == ("skipped", "shop uninstalled")
    assert smtp.messages == []
