"""Sending: one SMTP session per batch, retries with backoff for transient
trouble, no retry storm for permanent refusals, quiet hours, at least once."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from plugin import outbox
from plugin.models import Notification, Shop, utcnow

from ...conftest import db
from .conftest import JON, fulfillment, make_due, order, outbox as rows, received, set_settings


def three_parcels(webhooks) -> None:
    webhooks.post("orders/create", order())
    for fid in (501, 502, 503):
        webhooks.post("fulfillments/create", fulfillment("in_transit", fulfillment_id=fid))


def dead_port() -> int:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return closed.getsockname()[1]


def test_a_batch_goes_over_one_smtp_session(app, shop, webhooks, run_worker, smtp):
    three_parcels(webhooks)
    run_worker()
    assert received(smtp) == [(JON, "shipped")] * 3
    assert smtp.sessions == 1


def test_a_mail_server_refusing_connections_then_recovering_gets_everything(app, shop, webhooks, run_worker, smtp,
                                                                           monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", {**smtp.config, "port": dead_port()})
    three_parcels(webhooks)
    for _ in range(3):  # the server stays down for a while
        run_worker()
        make_due()
    waiting = rows()
    assert [(n.status, n.attempts) for n in waiting] == [("pending", 3)] * 3
    assert all("cannot reach the mail server" in n.error and "ConnectionRefusedError" in n.error for n in waiting)

    monkeypatch.setitem(app.config, "SMTP_URL", smtp.config)
    run_worker()
    assert received(smtp) == [(JON, "shipped")] * 3
    assert [n.status for n in rows()] == ["sent"] * 3


def test_retries_back_off_exponentially_with_jitter_then_fail(app, shop, webhooks, run_worker, smtp):
    smtp.refuse_with = "451 4.3.0 try again later"
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        before = utcnow()
        run_worker()
        [row] = rows()
        if row.status == "pending":
            waits.append((row.next_attempt_at - before).total_seconds())
            make_due()
    for attempt, wait in enumerate(waits, 1):
        expected = min(60 * 4 ** (attempt - 1), 6 * 3600)
        assert expected * 0.85 - 1 <= wait <= expected * 1.15 + 1
    [row] = rows()
    assert (row.status, row.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert row.error.startswith(f"gave up after {outbox.MAX_ATTEMPTS} attempts") and "451" in row.error
    assert smtp.messages == []


def test_a_permanent_refusal_fails_at_once_without_a_retry_storm(app, shop, webhooks, run_worker, smtp, runner):
    smtp.refuse_with = "550 5.1.1 no such mailbox"
    three_parcels(webhooks)
    run_worker()
    make_due()
    run_worker()
    failed = rows()
    assert [(n.status, n.attempts, n.next_attempt_at) for n in failed] == [("failed", 1, None)] * 3
    assert all("recipient refused (550)" in n.error for n in failed)
    assert smtp.sessions == 1  # one session for the batch, none after

    smtp.refuse_with = None
    result = runner("notifications", "retry", str(failed[0].id))
    assert result.exit_code == 0, result.output
    run_worker()
    assert received(smtp) == [(JON, "shipped")]
    assert [n.status for n in rows()] == ["sent", "failed", "failed"]


def test_retry_of_a_notification_that_is_not_failed_says_so(app, shop, webhooks, run_worker, smtp, runner):
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    run_worker()
    [sent] = rows()
    for ident in (str(sent.id), "999999"):
        result = runner("notifications", "retry", ident)
        assert result.exit_code == 1 and "no failed notification" in result.output
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("address", ["jon@example.com\r\nBcc: x@evil.example", "jon @example.com", "jon@localhost"])
def test_an_invalid_address_fails_at_once(app, shop, webhooks, run_worker, smtp, address):
    webhooks.post("orders/create", order(email=address, contact_email=None))
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    run_worker()
    [row] = rows()
    assert (row.status, row.error, row.next_attempt_at) == ("failed", "PermanentMailError: invalid recipient address", None)
    assert smtp.messages == [] and smtp.sessions == 0


def test_a_connection_dropped_mid_message_is_retried_and_the_rest_go(app, shop, webhooks, run_worker, smtp):
    smtp.drop_data = 1
    three_parcels(webhooks)
    run_worker()
    assert len(smtp.messages) == 2
    assert sorted(n.status for n in rows()) == ["pending", "sent", "sent"]
    make_due()
    run_worker()
    assert received(smtp) == [(JON, "shipped")] * 3


def test_a_crash_after_claiming_resends_after_the_lease_never_loses(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    from webhooks import inbox
    inbox.process_due(app)
    claimed, outgoing = outbox._claim(app, ("email",), 50, utcnow())  # then the worker dies
    assert claimed == 1 and len(outgoing) == 1
    [row] = rows()
    assert row.status == "pending" and row.next_attempt_at > utcnow() + outbox.LEASE - timedelta(seconds=5)
    run_worker()
    assert smtp.messages == []  # leased: no other worker takes it meanwhile
    make_due()  # the lease ran out
    run_worker()
    assert received(smtp) == [(JON, "shipped")]


def window_around(now: datetime, zone: str) -> tuple[str, datetime]:
    """A quiet window holding ``now`` in ``zone``; and when it ends, in UTC."""
    local = now.astimezone(ZoneInfo(zone))
    start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    end = end.replace(second=0, microsecond=0)
    return f"{start:%H:%M}-{end:%H:%M}", end.astimezone(timezone.utc)


def test_quiet_hours_hold_a_message_until_the_window_ends(app, shop, webhooks, run_worker, smtp):
    session = db()
    session.scalar(select(Shop)).iana_timezone = "Asia/Tokyo"
    session.commit()
    window, ends = window_around(utcnow(), "Asia/Tokyo")
    set_settings(app, shop, notifications__quiet_hours=window)
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    run_worker()
    [held] = rows()
    assert (held.status, held.next_attempt_at, held.attempts) == ("pending", ends, 0)
    assert smtp.messages == []

    # The window ends (the clock cannot be moved here, so the window is; the
    # release time itself is tested against fixed clocks in test_quiet.py).
    set_settings(app, shop, notifications__quiet_hours=None)
    make_due()
    run_worker()
    assert received(smtp) == [(JON, "shipped")]


def test_a_retry_that_falls_in_quiet_hours_is_held_too(app, shop, webhooks, run_worker, smtp):
    webhooks.post("orders/create", order())
    webhooks.post("fulfillments/create", fulfillment("in_transit"))
    smtp.refuse_with = "451 later"
    run_worker()
    smtp.refuse_with = None
    window, ends = window_around(utcnow(), "UTC")
    set_settings(app, shop, notifications__quiet_hours=window)
    make_due()
    run_worker()
    [held] = rows()
    assert (held.status, held.next_attempt_at) == ("pending", ends)
    assert smtp.messages == []


def test_data_exports_are_not_held_by_quiet_hours(app, shop, smtp, run_worker):
    window, _ = window_around(utcnow(), "UTC")
    set_settings(app, shop, notifications__quiet_hours=window)
    session = db()
    session.add(Notification(shop_id=shop, kind="data_export", recipient="owner@example.com", dedupe_key="x",
                             context={"export_id": 0}, next_attempt_at=utcnow()))
    session.commit()
    run_worker()
    [row] = rows()
    assert (row.status, row.error) == ("failed", "LookupError: the export was erased before it could be sent")
