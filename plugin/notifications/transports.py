"""How a rendered message leaves: email over SMTP, SMS over a Twilio-style API.

Each transport is used for a batch of messages and then closed: the email one
keeps one SMTP session open for the batch (plugin/mail.py), the SMS one one
HTTP session. Both raise an error from PERMANENT when retrying cannot help (a
5xx, an invalid address or number) and any other exception when it may.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr

import phonenumbers
import requests

from .. import mail

SMS_TIMEOUT = (5, 15)  # seconds to connect, to read


class PermanentSmsError(Exception):
    """The SMS API refused the message for good (a 4xx: bad number, bad sender)."""


class TransientSmsError(Exception):
    """The SMS API could not take the message now (connection, 5xx, 429)."""


PERMANENT = (mail.PermanentMailError, PermanentSmsError)


def e164(phone: str | None) -> str | None:
    """The number in E.164 if it is a valid international one, else None.
    Numbers without a country code are not guessed at."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class EmailTransport:
    def __init__(self, config: dict):
        self.config = config
        self.sender = parseaddr(config["MAIL_FROM"])[1]  # the envelope's, as send_message takes it from From
        self.connection = mail.Connection(config["SMTP_URL"])

    def __enter__(self) -> EmailTransport:
        return self

    def __exit__(self, *_exc) -> None:
        self.connection.close()

    def send(self, recipient: str, kind: str, message: EmailMessage | bytes) -> None:
        """``message`` as EmailMessage (without To), or as the bytes mail.alternative wrote."""
        if not mail.valid_address(recipient):
            raise mail.PermanentMailError("invalid recipient address")
        if isinstance(message, bytes):
            # X-Aftercare-Kind: for support and tests, which message this is.
            head = f"To: {recipient}\r\nX-Aftercare-Kind: {kind}\r\n".encode()
            self.connection.send_bytes(self.sender, recipient, head + message)
            return
        del message["To"]
        message["To"] = recipient
        if message["From"] is None:
            message["From"] = self.config["MAIL_FROM"]
        message["X-Aftercare-Kind"] = kind
        self.connection.send(message)


class SmsTransport:
    def __init__(self, config: dict):
        self.api = config["SMS_URL"]
        self.sender = config["SMS_FROM"]
        self.http = requests.Session()
        self.http.auth = (self.api["username"], self.api["password"])

    def __enter__(self) -> SmsTransport:
        return self

    def __exit__(self, *_exc) -> None:
        self.http.close()

    def send(self, recipient: str, kind: str, body: str) -> None:
        to = e164(recipient)
        if to is None:
            raise PermanentSmsError("invalid phone number")
        try:
            response = self.http.post(self.api["url"], data={"To": to, "From": self.sender, "Body": body},
                                      timeout=SMS_TIMEOUT)
        except requests.RequestException as exc:
            raise TransientSmsError(f"cannot reach the SMS API: {type(exc).__name__}") from None
        if response.status_code < 300:
            return
        # Only the status and the API's error code: its message may quote the number.
        code = _error_code(response)
        detail = f"{response.status_code}" + (f", code {code}" if code is not None else "")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientSmsError(f"SMS API deferred ({detail})")
        raise PermanentSmsError(f"SMS API refused ({detail})")


def _error_code(response: requests.Response):
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, (int, str)) and len(str(code)) < 20 else None
