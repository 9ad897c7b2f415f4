"""The outbox: notifications are rows first, messages second.

Whatever decides that a message is due inserts a Notification (with a dedupe
key). This worker job sends due rows in three steps, so that no database
transaction is open while a mail server or SMS API is being talked to:

1. claim: in one short transaction, take a batch of due rows (FOR UPDATE SKIP
   LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite), load what they need in
   a few queries for the whole batch (notifications/batch.py), settle those that must
   not go (shop uninstalled, order cancelled, address unsubscribed, a later
   step of the same parcel already known: "collapsed"), hold those that fall
   in the shop's quiet hours until the window ends, render the rest, count an
   attempt and lease them for LEASE (they are due again after it), commit;
2. send: every email over ONE SMTP session, every SMS over one HTTP session,
   kept open for the following batches of the same round (``process_due``);
3. record: in a new transaction, mark each row sent, due again with backoff
   and jitter (transient trouble), or failed with its error (permanent, or
   out of attempts).

A crash between 2 and 3 leaves the rows leased, not lost: when the lease runs
out they are due again and sent again. Delivery is at least once: a message
may go twice, never zero times. Without AFTERCARE_SMTP_URL (or SMS_URL) the
channel is not claimed at all: its messages wait in the outbox, visible to
the admin.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import random
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import help
from .db import worker_session
from .models import DataExport, Notification, NotificationStatus, Order, Shop, utcnow
from .notifications import batch, quiet, render, steps, survey_mail, transports
from .notifications.enqueue import UNQUIET
from .notifications.kinds import KINDS, Kind
from .surveys import alerts as survey_alerts
from .surveys import sending as survey_sending
from .worker import claim_due

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
BATCH = 100  # rows per claim (one transaction, a few queries: notifications/batch.py)
ROUND = 1000  # rows per call of process_due, so the worker's other jobs get their turn
MAX_ATTEMPTS = 6
# Waits before each retry: 1 min, 4 min, 16 min, 64 min, 4 h 16 (capped at 6 h), ±15 %.
RETRY_BASE, RETRY_FACTOR, RETRY_MAX, JITTER = timedelta(minutes=1), 4, timedelta(hours=6), 0.15

# Messages to the store itself, not to its customers: no customer rules
# (switches, unsubscribes, quiet hours) apply. Data exports must go out even
# after uninstall (privacy law); a shopper's contact goes to the store's support,
# a low survey score to alerts.low_score_email.
OWNER_KINDS = frozenset({"data_export", help.KIND, survey_alerts.KIND})

Renderer = Callable[[Session, Shop, Notification, dict], EmailMessage]


def render_data_export(session: Session, shop: Shop, notification: Notification, config: dict) -> EmailMessage:
    export = session.scalar(
        select(DataExport).where(DataExport.shop_id == shop.id, DataExport.id == notification.context["export_id"])
    )
    if export is None:
        raise LookupError("the export was erased before it could be sent")
    message = EmailMessage()
    message["Subject"] = f"Customer data request {export.request_id or export.id} for {shop.name or shop.domain}"
    message["From"] = config["MAIL_FROM"]
    message.set_content(
        "A customer asked for the data your store holds about them, through Shopify.\n\n"
        "Aftercare's part of that data is attached as JSON; it is also in the Aftercare admin "
        f"(data export {export.id}).\n"
    )
    message.add_attachment(
        json.dumps(export.content, indent=2, ensure_ascii=False).encode(), maintype="application",
        subtype="json", filename=f"customer-data-{export.id}.json",
    )
    return message


RENDERERS: dict[str, Renderer] = {
    "data_export": render_data_export,
    help.KIND: help.render_support_contact,  # the store's support: a shopper's "still need help?"
    survey_alerts.KIND: survey_alerts.render,  # the store: a customer's low survey score
}


@dataclass
class Outgoing:
    id: int
    channel: str
    recipient: str
    kind: str
    content: bytes | EmailMessage | str  # an email as written by mail.alternative, or as a message; an SMS
    shop_id: int  # for _record's select, which names the shops


@dataclass
class Result:
    status: NotificationStatus  # PENDING: try again later
    error: str | None = None


def channels(config: dict) -> tuple[str, ...]:
    """The channels that can send: email with a mail server, SMS with an API."""
    return tuple(c for c, key in (("email", "SMTP_URL"), ("sms", "SMS_URL")) if config.get(key))


def process_due(app: Flask, limit: int = ROUND) -> int:
    """Claim, send and record batches of BATCH rows, up to ``limit`` rows in
    all; the number of rows claimed. The round's batches share one SMTP
    session (and one SMS HTTP session), opened on the first message.

    Sending runs in a sender process forked for the round, the only user of
    those sessions, fed each batch's rendered messages: the mail server's
    replies are awaited there while this process claims and renders the next
    batch and records the last one. (A thread did the same on SQLite, but on
    PostgreSQL each of the claim's round trips then waited for the GIL.) Two
    batches at most are leased and not yet recorded; a crash sends them
    again when their lease runs out, as it would one (at least once), and a
    message is recorded sent only once the server has accepted it. The sender
    never uses the database, and no transaction waits on a mail server."""
    usable = channels(app.config)
    if not usable:
        return 0  # no way to send: messages stay in the outbox
    done = 0
    in_flight: list[tuple[Future, set[int]]] = []  # batches handed to the sender, in order, not yet recorded
    with _Sender(app.config) as sender:
        try:
            while done < limit:
                size = min(BATCH, limit - done)
                claimed, outgoing = _claim(app, usable, size, utcnow())
                if outgoing:
                    in_flight.append((sender.submit(outgoing), {m.shop_id for m in outgoing}))
                while len(in_flight) > 1:  # the previous batch: sent by now, or being sent
                    _record_sent(app, in_flight.pop(0))
                done += claimed
                if claimed < size:
                    break  # nothing more is due (or the rest is another worker's)
        finally:
            while in_flight:  # whatever ended the round, what was sent is recorded
                _record_sent(app, in_flight.pop(0))
    return done


def _record_sent(app: Flask, sent: tuple[Future, set[int]]) -> None:
    results, shops = sent
    _record(app, results.result(), utcnow(), shops)


# --- 1. claim ------------------------------------------------------------------

def _claim(app: Flask, usable: tuple[str, ...], limit: int, now: datetime) -> tuple[int, list[Outgoing]]:
    outgoing: list[Outgoing] = []
    with worker_session(app) as session, session.begin():
        rows = claim_due(session, Notification, limit, now,  # per shop, each shop its share
                         Notification.status == NotificationStatus.PENDING.value, Notification.channel.in_(usable))
        if not rows:
            return 0, outgoing
        loaded = batch.load(session, rows)
        leased: list[Notification] = []
        for row in rows:
            if _settle(session, loaded, row, now):
                if row.kind == Kind.SURVEY.value:
                    survey_sending.finished(session, row)
                continue
            try:
                content = _render(session, loaded, row, app.config)
            except Exception as exc:  # noqa: BLE001 - a message that cannot be rendered fails visibly
                log.warning("notification %s (%s) could not be rendered: %s", row.id, row.kind, _describe(exc))
                row.attempts += 1
                _finish(row, NotificationStatus.FAILED, _describe(exc))
                continue
            leased.append(row)
            outgoing.append(Outgoing(row.id, row.channel, row.recipient, row.kind, content, row.shop_id))
        _lease(session, leased, now + LEASE)
    return len(rows), outgoing


def _lease(session: Session, rows: list[Notification], until: datetime) -> None:
    """Count an attempt and hold the rows until ``until``."""
    _update_by_shop(session, rows, {"attempts": Notification.attempts + 1, "next_attempt_at": until},
                    lambda row: {"attempts": row.attempts + 1, "next_attempt_at": until})


def _update_by_shop(session: Session, rows: list[Notification], sql: dict, new: Callable[[Notification], dict]) -> None:
    """One UPDATE per shop for many rows, where the ORM would send one per row
    (it checks each row's shop, models.py); ``new(row)`` keeps the loaded rows
    in step with what ``sql`` wrote."""
    by_shop: dict[int, list[Notification]] = {}
    for row in rows:
        by_shop.setdefault(row.shop_id, []).append(row)
    for shop_id, shop_rows in by_shop.items():
        session.execute(update(Notification)
                        .where(Notification.shop_id == shop_id, Notification.id.in_([r.id for r in shop_rows]))
                        .values(**sql).execution_options(synchronize_session=False))
        for row in shop_rows:
            for name, value in new(row).items():
                set_committed_value(row, name, value)


def _settle(session: Session, loaded: batch.Batch, row: Notification, now: datetime) -> bool:
    """Skip a row that must not go, or hold it through quiet hours; True if
    it is settled for this round. Checked again here, at the last moment,
    because an unsubscribe or a later step may have landed since it was due."""
    if row.kind == survey_alerts.KIND:
        reason = survey_alerts.settle_reason(session, loaded.shops[row.shop_id], row)
        return _skip(row, reason) if reason is not None else False
    if row.kind in OWNER_KINDS:
        return False
    shop = loaded.shops[row.shop_id]
    if not shop.installed:
        return _skip(row, "shop uninstalled")
    if row.kind not in KINDS:
        return _skip(row, f"unknown kind {row.kind!r}")
    order = loaded.order(row)
    if order is None or not steps.sendable(order):
        return _skip(row, "order cancelled" if order is not None and order.cancelled_at else "order not notifiable")
    config = loaded.setups[row.shop_id].values
    if not config[f"notifications.{row.kind}.{row.channel}"]:
        return _skip(row, "switched off")
    if loaded.is_unsubscribed(row):
        return _skip(row, "unsubscribed")  # never for return messages: they are transactional (return_mail.py)
    if Kind(row.kind).is_survey:
        reason = survey_sending.settle_reason(session, order, row)
        if reason is not None:
            return _skip(row, reason)
    later = loaded.later_step(row)
    if later is not None:
        return _skip(row, f"collapsed: {later.kind} is already known for this parcel")
    _renumber(order, row)
    if Kind(row.kind) in UNQUIET:
        return False
    release = quiet.release_at(config["notifications.quiet_hours"], shop.iana_timezone, now)
    if release is not None:
        row.next_attempt_at = release  # held, then released when the window ends
        return True
    return False


def _renumber(order: Order, row: Notification) -> None:
    """"Parcel 2 of 3" as known now: the other parcels may have been created
    after this message was decided."""
    fulfillment_id = (row.context or {}).get("fulfillment_id")
    for fulfillment, context in steps.parcels(order):
        if fulfillment.id == fulfillment_id and (row.context["parcel"], row.context["parcels"]) != (
                context["parcel"], context["parcels"]):
            row.context = {**row.context, **context}


def _skip(row: Notification, reason: str) -> bool:
    _finish(row, NotificationStatus.SKIPPED, reason)
    return True


def _render(session: Session, loaded: batch.Batch, row: Notification, config: dict) -> bytes | EmailMessage | str:
    shop = loaded.shops[row.shop_id]
    if row.kind in RENDERERS:
        return RENDERERS[row.kind](session, shop, row, config)
    if row.kind not in KINDS:
        raise LookupError(f"no renderer for kind {row.kind!r}")
    setup = loaded.setups[row.shop_id]
    order, fulfillment = render.rows_of(loaded.order(row), row)
    returned = loaded.returned(row)
    invitation = survey_mail.load(session, shop, row)  # a query for survey rows only
    if row.channel == "sms":
        return render.sms_text(setup, row, order, fulfillment, returned, invitation)
    message, context = render.render_notification(setup, row, order, fulfillment, returned, invitation)
    return render.email_bytes(setup, message, context, ident=f"n{row.id}")


# --- 2. send (no transaction open) --------------------------------------------

class _Transports:
    """Each channel's transport, opened when first used, closed at the end of the round."""

    def __init__(self, config: dict):
        self.config = config
        self.open: dict[str, transports.EmailTransport | transports.SmsTransport] = {}

    def __enter__(self) -> _Transports:
        return self

    def __exit__(self, *_exc) -> None:
        for transport in self.open.values():
            transport.__exit__(None, None, None)

    def get(self, channel: str):
        if channel not in self.open:
            kind = transports.EmailTransport if channel == "email" else transports.SmsTransport
            self.open[channel] = kind(self.config).__enter__()
        return self.open[channel]


class _Sender:
    """The round's sender process (forked when the first batch is handed to
    it, so it has this process's code and configuration and imports nothing),
    holding the round's transports; closes them and ends with the round."""

    def __init__(self, config: dict):
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                        initializer=_open_transports, initargs=(config,))
        self.used = False

    def __enter__(self) -> _Sender:
        return self

    def __exit__(self, *_exc) -> None:
        try:
            if self.used:
                self.pool.submit(_close_transports).result()  # QUIT, as the session's owner
        finally:
            self.pool.shutdown()

    def submit(self, outgoing: list[Outgoing]) -> Future:
        """The batch's results (``_send``), once the sender has sent it."""
        self.used = True
        return self.pool.submit(_send_here, outgoing)


_transports: _Transports | None = None  # in the sender process: the round's


def _open_transports(config: dict) -> None:
    global _transports
    _transports = _Transports(config)


def _send_here(outgoing: list[Outgoing]) -> dict[int, Result]:
    return _send(_transports, outgoing)


def _close_transports() -> None:
    _transports.__exit__(None, None, None)


def _send(senders: _Transports, outgoing: list[Outgoing]) -> dict[int, Result]:
    results: dict[int, Result] = {}
    for message in outgoing:
        try:
            senders.get(message.channel).send(message.recipient, message.kind, message.content)
        except transports.PERMANENT as exc:
            results[message.id] = Result(NotificationStatus.FAILED, _describe(exc))
        except Exception as exc:  # noqa: BLE001 - connection trouble, 4xx: try again later
            results[message.id] = Result(NotificationStatus.PENDING, _describe(exc))
        else:
            results[message.id] = Result(NotificationStatus.SENT)
    return results


# --- 3. record -----------------------------------------------------------------

def _record(app: Flask, results: dict[int, Result], now: datetime, shops: set[int]) -> None:
    with worker_session(app) as session, session.begin():
        rows = session.scalars(select(Notification).where(
            Notification.shop_id.in_(shops), Notification.id.in_(results))).all()
        sent = [row for row in rows if results[row.id].status is NotificationStatus.SENT]
        done = {"status": NotificationStatus.SENT.value, "error": None, "next_attempt_at": None, "sent_at": now}
        _update_by_shop(session, sent, done, lambda _row: done)
        for row in rows:
            result = results[row.id]
            if result.status is NotificationStatus.SENT:
                pass  # written above, for all of them at once
            elif result.status is NotificationStatus.FAILED:
                _finish(row, NotificationStatus.FAILED, result.error)
            elif row.attempts >= MAX_ATTEMPTS:
                _finish(row, NotificationStatus.FAILED, f"gave up after {row.attempts} attempts: {result.error}")
            else:
                row.error = result.error
                row.next_attempt_at = retry_at(row.attempts, now)
                log.warning("notification %s (%s) not sent, attempt %s: %s",
                            row.id, row.kind, row.attempts, row.error)
            if row.kind == Kind.SURVEY.value:
                survey_sending.finished(session, row)  # sent: the answer window opens


def retry_at(attempts: int, now: datetime) -> datetime:
    """Exponential backoff with jitter, so a recovering server is not hit by
    every deferred message at the same second."""
    wait = min(RETRY_BASE * RETRY_FACTOR ** (attempts - 1), RETRY_MAX)
    return now + wait * random.uniform(1 - JITTER, 1 + JITTER)


def retry(session: Session, notification_id: int) -> Notification | None:
    """Make a failed notification due again now, with its attempts counted
    afresh; None if there is no such failed notification. The caller commits."""
    row = session.scalar(select(Notification).where(
        Notification.id == notification_id, Notification.status == NotificationStatus.FAILED.value))
    if row is not None:
        row.status = NotificationStatus.PENDING.value
        row.attempts = 0
        row.next_attempt_at = utcnow()
    return row


def history(session: Session, shop_id: int, order_id: int) -> list[dict]:
    """The order's notifications, JSON-ready, oldest first."""
    rows = session.scalars(select(Notification).where(
        Notification.shop_id == shop_id, Notification.order_id == order_id).order_by(Notification.id))
    return [{
        "id": row.id, "kind": row.kind, "channel": row.channel, "status": row.status,
        "attempts": row.attempts, "created_at": _iso(row.created_at), "next_attempt_at": _iso(row.next_attempt_at),
        "sent_at": _iso(row.sent_at), "error": row.error,
    } for row in rows]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _finish(notification: Notification, status: NotificationStatus, error: str | None) -> None:
    notification.status = status.value
    notification.error = error
    notification.next_attempt_at = None


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
