"""The outbox: notifications are rows first, mail second.

Whatever decides that a message is due inserts a Notification (with a dedupe
key). This worker job claims due rows one transaction at a time
(plugin.worker.process_due_rows), renders the message for its kind, sends it
and records the result. Failures are retried with backoff
and end as `failed` with their error. Without AFTERCARE_SMTP_URL nothing is
sent: messages wait in the outbox, visible to the admin.

A row is marked sent only after the server accepted the message; a crash
between the two may send a message twice, never lose one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import help, mail
from .models import DataExport, Notification, NotificationStatus, Shop, utcnow
from .worker import process_due_rows

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6))

# Messages to the store owner that must go out even after uninstall (privacy law).
OWNER_KINDS = frozenset({"data_export"})

Renderer = Callable[[Session, Shop, Notification, dict], EmailMessage]


def render_data_export(session: Session, shop: Shop, notification: Notification, config: dict) -> EmailMessage:
    export = session.scalar(
        select(DataExport).where(DataExport.shop_id == shop.id, DataExport.id == notification.context["export_id"])
    )
    if export is None:
        raise LookupError("the export was erased before it could be sent")
    message = EmailMessage()
    message["Subject"] = f"Customer data request {export.request_id or export.id} for {shop.name or shop.domain}"
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
}


def process_due(app: Flask, limit: int = 50) -> int:
    if app.config["SMTP_URL"] is None:
        return 0  # no mail server: messages stay in the outbox
    return process_due_rows(app, Notification, lambda session, row: _deliver(session, row, app.config), limit)


def _deliver(session: Session, notification: Notification, config: dict) -> None:
    shop = session.get(Shop, notification.shop_id)
    if not shop.installed and notification.kind not in OWNER_KINDS:
        _finish(notification, NotificationStatus.SKIPPED, "shop uninstalled")
        return
    renderer = RENDERERS.get(notification.kind)
    if renderer is None:
        _finish(notification, NotificationStatus.FAILED, f"no renderer for kind {notification.kind!r}")
        return
    notification.attempts += 1
    try:
        message = renderer(session, shop, notification, config)
        message["From"] = config["MAIL_FROM"]
        message["To"] = notification.recipient
        mail.send(config["SMTP_URL"], message)
    except (mail.PermanentMailError, LookupError) as exc:
        _finish(notification, NotificationStatus.FAILED, _describe(exc))
    except Exception as exc:  # noqa: BLE001 - connection trouble and 4xx: try again later
        notification.error = _describe(exc)
        notification.next_attempt_at = _retry_at(notification.attempts, utcnow())
        if notification.next_attempt_at is None:
            notification.status = NotificationStatus.FAILED.value
        log.warning("notification %s (%s) not sent, attempt %s: %s",
                    notification.id, notification.kind, notification.attempts, notification.error)
    else:
        _finish(notification, NotificationStatus.SENT, None)
        notification.sent_at = utcnow()


def _finish(notification: Notification, status: NotificationStatus, error: str | None) -> None:
    notification.status = status.value
    notification.error = error
    notification.next_attempt_at = None


def _retry_at(attempts: int, now: datetime) -> datetime | None:
    return now + RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else None


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
