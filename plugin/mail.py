"""Sending mail: SMTP sessions configured by AFTERCARE_SMTP_URL.

A ``Connection`` is one SMTP session reused for a batch of messages (TLS or
STARTTLS, login, timeouts). Errors are split in two: PermanentMailError (the
server refused the message or recipient for good: a 5xx, or an address that
cannot be one) and TransientMailError (connection refused or dropped, a
timeout, a 4xx), which the outbox retries. When the server cannot be reached,
the rest of the batch fails at once with the same error instead of knocking
again for every message.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import parseaddr

TIMEOUT = 30


class PermanentMailError(Exception):
    """The SMTP server refused for good; retrying will not help."""


class TransientMailError(Exception):
    """The message did not go this time (connection trouble, a 4xx); try later."""


def valid_address(address: str | None) -> bool:
    if not address or any(c.isspace() for c in address):
        return False
    _, parsed = parseaddr(address)
    local, _, domain = parsed.rpartition("@")
    return parsed == address and bool(local) and "." in domain


class Connection:
    """One SMTP session, opened on the first message, closed on exit."""

    def __init__(self, smtp: dict, timeout: float = TIMEOUT):
        self.smtp = smtp
        self.timeout = timeout
        self._server: smtplib.SMTP | None = None
        self._down: str | None = None  # why the server could not be reached

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            try:
                server.quit()
            except (smtplib.SMTPException, OSError):
                server.close()

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        context = ssl.create_default_context()
        try:
            if smtp["ssl"]:
                server = smtplib.SMTP_SSL(smtp["host"], smtp["port"], timeout=self.timeout, context=context)
            else:
                server = smtplib.SMTP(smtp["host"], smtp["port"], timeout=self.timeout)
            try:
                if smtp["starttls"]:
                    server.starttls(context=context)
                if smtp["username"]:
                    server.login(smtp["username"], smtp["password"] or "")
            except BaseException:
                server.close()
                raise
        except (smtplib.SMTPException, OSError) as exc:
            self._down = f"cannot reach the mail server: {_describe(exc)}"
            raise TransientMailError(self._down) from None
        return server

    def send(self, message: EmailMessage) -> None:
        """Send one message; raises PermanentMailError or TransientMailError."""
        if not valid_address(message["To"]):
            raise PermanentMailError("invalid recipient address")
        if self._down:
            raise TransientMailError(self._down)
        if self._server is None:
            self._server = self._connect()
        try:
            self._server.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentMailError(f"recipient refused ({', '.join(map(str, codes))})") from None
            raise TransientMailError(f"recipient deferred ({', '.join(map(str, codes))})") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentMailError(f"message refused ({exc.smtp_code})") from None
            if not isinstance(exc, (smtplib.SMTPDataError, smtplib.SMTPSenderRefused)):
                self._drop()  # e.g. 421: the server is closing the session
            raise TransientMailError(f"message deferred ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()  # dropped mid-message: the next one opens a new session
            raise TransientMailError(_describe(exc)) from None

    def _drop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()


def send(smtp: dict, message: EmailMessage) -> None:
    """Deliver one ``message`` through the server described by ``smtp`` (config["SMTP_URL"])."""
    with Connection(smtp) as connection:
        connection.send(message)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
