"""Mail: writing a message as bytes, and SMTP sessions configured by AFTERCARE_SMTP_URL.

``alternative`` writes a text + HTML message straight to the bytes that go on
the wire. The customer messages go out this way because the standard
library's EmailMessage costs about 2 ms per message to build and flatten
(parsing, then refolding, every header), more than the mail server's own
time (see bench/README.md); ``parse`` turns those bytes into an EmailMessage
for previews and tests, so what they inspect is what is sent.

A ``Connection`` is one SMTP session reused for a batch of messages (TLS or
STARTTLS, login, timeouts). Errors are split in two: PermanentMailError (the
server refused the message or recipient for good: a 5xx, or an address that
cannot be one) and TransientMailError (connection refused or dropped, a
timeout, a 4xx), which the outbox retries. When the server cannot be reached,
the rest of the batch fails at once with the same error instead of knocking
again for every message.
"""

from __future__ import annotations

import binascii
import secrets
import smtplib
import ssl
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.parser import BytesParser
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


# --- writing ---------------------------------------------------------------------

def alternative(headers: list[tuple[str, str]], text: str, html: str) -> bytes:
    """A multipart/alternative message (text, then HTML; UTF-8, quoted-printable)
    with ``headers`` in front, as CRLF bytes. A header value that is not ASCII
    is written as RFC 2047 encoded words (pass addresses with display names
    already through ``formataddr(..., charset="utf-8")``)."""
    boundary = f"=_aftercare_{secrets.token_hex(12)}"  # "=_" never appears in quoted-printable text
    lines = [_header(name, value) for name, value in headers]
    lines += ["MIME-Version: 1.0", f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    head = "\r\n".join(lines).encode("ascii")
    parts = b"".join(
        b"\r\n--" + boundary.encode() + b"\r\nContent-Type: text/" + subtype
        + b'; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' + _qp(body)
        for subtype, body in ((b"plain", text), (b"html", html)))
    return head + parts + b"\r\n--" + boundary.encode() + b"--\r\n"


def _header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"a line break in the {name} header")  # header injection
    if value.isascii() and len(name) + len(value) < 996:
        return f"{name}: {value}"
    return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _qp(body: str) -> bytes:
    data = "\r\n".join(body.splitlines()).encode("utf-8") + b"\r\n"
    return binascii.b2a_qp(data, istext=True)


def parse(data: bytes) -> EmailMessage:
    """The message ``data`` as an EmailMessage, with local line endings (as a
    mail client shows it)."""
    return BytesParser(policy=policy.default).parsebytes(data.replace(b"\r\n", b"\n"))


# --- sending ----------------------------------------------------------------------

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
        context = ssl.create_default_context() if smtp["ssl"] or smtp["starttls"] else None
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
        self._deliver(lambda server: server.send_message(message))

    def send_bytes(self, sender: str, recipient: str, data: bytes) -> None:
        """Send a message already written (``alternative``) from the envelope
        address ``sender`` to ``recipient``; raises as ``send`` does."""
        if not valid_address(recipient):
            raise PermanentMailError("invalid recipient address")

        def deliver(server: smtplib.SMTP) -> None:
            options: tuple[str, ...] = ()
            if not (sender.isascii() and recipient.isascii()):  # as send_message does
                if not server.has_extn("smtputf8"):
                    raise smtplib.SMTPNotSupportedError("the address needs SMTPUTF8, which the server lacks")
                options = ("SMTPUTF8", "BODY=8BITMIME")
            server.sendmail(sender, [recipient], data, mail_options=options)
        self._deliver(deliver)

    def _deliver(self, send) -> None:
        if self._down:
            raise TransientMailError(self._down)
        if self._server is None:
            self._server = self._connect()
        try:
            send(self._server)
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
