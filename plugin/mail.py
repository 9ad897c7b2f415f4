"""Sending mail: one SMTP transport configured by AFTERCARE_SMTP_URL.

Errors are split in two: PermanentMailError (the server refused the message
or recipient for good: a 5xx) and anything else (connection trouble, 4xx),
which the outbox retries.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

TIMEOUT = 30


class PermanentMailError(Exception):
    """The SMTP server refused for good; retrying will not help."""


def send(smtp: dict, message: EmailMessage) -> None:
    """Deliver ``message`` through the server described by ``smtp`` (config["SMTP_URL"])."""
    context = ssl.create_default_context()
    connect = smtplib.SMTP_SSL if smtp["ssl"] else smtplib.SMTP
    kwargs = {"context": context} if smtp["ssl"] else {}
    try:
        with connect(smtp["host"], smtp["port"], timeout=TIMEOUT, **kwargs) as server:
            if smtp["starttls"]:
                server.starttls(context=context)
            if smtp["username"]:
                server.login(smtp["username"], smtp["password"] or "")
            server.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentMailError(f"recipient refused ({', '.join(map(str, codes))})") from None
        raise
    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
        if exc.smtp_code >= 500:
            raise PermanentMailError(f"message refused ({exc.smtp_code})") from None
        raise
