"""Configuration from the environment.

Every variable is read and checked here, once, at start-up. A missing or
malformed value raises ConfigError, whose message is one line naming the
variable; the CLI prints it and exits. Nothing outside the demo gets a default
secret: the demo puts its development values into the environment itself.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SCOPES = "read_orders,write_orders,read_fulfillments,read_customers,read_returns,write_returns"
DEFAULT_API_VERSION = "2026-07"
DEFAULT_APP_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "Aftercare <no-reply@localhost>"
DEFAULT_SHOPIFY_BASE_URL = "https://{shop}"
DEFAULT_RETENTION_DAYS = 30

MIN_SECRET_KEY_BYTES = 32

_SCOPE = re.compile(r"^[a-z_]+$")
_API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


class ConfigError(Exception):
    """A configuration variable is missing or malformed."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


def load_config(environ: Mapping[str, str], instance_path: str) -> dict:
    """Read the environment into Flask config keys, checking every value."""

    def get(name: str) -> str | None:
        value = environ.get(name)
        return value.strip() if value is not None and value.strip() != "" else None

    def required(name: str) -> str:
        value = get(name)
        if value is None:
            raise ConfigError(name, "is not set (the app's client id/secret from the Partner Dashboard)")
        return value

    return {
        "SHOPIFY_API_KEY": required("SHOPIFY_API_KEY"),
        "SHOPIFY_API_SECRET": required("SHOPIFY_API_SECRET"),
        "SHOPIFY_API_SECRET_PREVIOUS": get("SHOPIFY_API_SECRET_PREVIOUS"),
        "SECRET_KEY": _secret_key("AFTERCARE_SECRET_KEY",
                                  get("AFTERCARE_SECRET_KEY") or _instance_secret_key(instance_path)),
        "SECRET_KEY_PREVIOUS": _secret_key("AFTERCARE_SECRET_KEY_PREVIOUS", get("AFTERCARE_SECRET_KEY_PREVIOUS")),
        "DATABASE_URL": _database_url(get("AFTERCARE_DATABASE_URL"), instance_path),
        "DATABASE_REPLICA_URL": _replica_url(get("AFTERCARE_DATABASE_REPLICA_URL"), get("AFTERCARE_DATABASE_URL")),
        "APP_URL": _http_url("AFTERCARE_APP_URL", get("AFTERCARE_APP_URL") or DEFAULT_APP_URL),
        "SCOPES": _scopes(get("AFTERCARE_SCOPES") or DEFAULT_SCOPES),
        "SMTP_URL": _smtp_url(get("AFTERCARE_SMTP_URL")),
        "MAIL_FROM": _mail_from(get("AFTERCARE_MAIL_FROM") or DEFAULT_MAIL_FROM),
        **_sms(get("AFTERCARE_SMS_URL"), get("AFTERCARE_SMS_FROM")),
        "SHOPIFY_BASE_URL": _shopify_base_url(get("SHOPIFY_BASE_URL") or DEFAULT_SHOPIFY_BASE_URL),
        "SHOPIFY_API_VERSION": _api_version(get("SHOPIFY_API_VERSION") or DEFAULT_API_VERSION),
        # Flask-Limiter storage for storefront lookups; memory:// serves one process only.
        "RATELIMIT_STORAGE_URL": _storage_url(get("AFTERCARE_RATELIMIT_STORAGE_URL") or "memory://"),
        "RETENTION_DAYS": _retention_days(get("AFTERCARE_RETENTION_DAYS")),
    }


def _secret_key(name: str, value: str | None) -> str | None:
    """At least 32 bytes of key material: it signs links and encrypts tokens."""
    if value is not None and len(value.encode()) < MIN_SECRET_KEY_BYTES:
        raise ConfigError(name, f"is too short: use at least {MIN_SECRET_KEY_BYTES} random bytes "
                          "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
    return value


def _instance_secret_key(instance_path: str) -> str:
    """The key generated into the instance folder on first run, reused after."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _database_url(value: str | None, instance_path: str, name: str = "AFTERCARE_DATABASE_URL") -> str:
    if value is None:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(instance_path) / 'aftercare.db'}"
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(name, "is not a database URL (e.g. postgresql+psycopg://user:pass@host/db)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(name, f"unsupported database {url.get_backend_name()!r} (use sqlite or postgresql)")
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver we ship; a bare postgresql:// URL would look for psycopg2.
        value = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return value


def _replica_url(value: str | None, primary: str | None) -> str | None:
    """A read replica of the primary (PostgreSQL streaming replication): the
    dashboard, the metrics and the CSV export read from it. Unset: they read
    the primary."""
    if value is None:
        return None
    url = make_url(_database_url(value, "", "AFTERCARE_DATABASE_REPLICA_URL"))
    if url.get_backend_name() != "postgresql" or primary is None or make_url(primary).get_backend_name() != "postgresql":
        raise ConfigError("AFTERCARE_DATABASE_REPLICA_URL",
                          "needs PostgreSQL for both it and AFTERCARE_DATABASE_URL (a replica of it)")
    return url.render_as_string(hide_password=False)


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _scopes(value: str) -> tuple[str, ...]:
    scopes = tuple(s.strip() for s in value.split(",") if s.strip())
    bad = [s for s in scopes if not _SCOPE.match(s)]
    if not scopes or bad:
        raise ConfigError("AFTERCARE_SCOPES", "must be a comma-separated list of scopes like read_orders")
    return scopes


def _smtp_url(value: str | None) -> dict | None:
    if value is None:
        return None
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("AFTERCARE_SMTP_URL", "has an invalid port") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("AFTERCARE_SMTP_URL", "must look like smtp://user:pass@host:port or smtps://host")
    query = parse_qs(parts.query)
    return {
        "host": parts.hostname,
        "port": port or (465 if parts.scheme == "smtps" else 25),
        "ssl": parts.scheme == "smtps",
        "starttls": query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        "username": parts.username,
        "password": parts.password,
    }


_SMS_FROM = re.compile(r"^(\+[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11})$")


def _sms(url: str | None, sender: str | None) -> dict:
    """AFTERCARE_SMS_URL (https://SID:TOKEN@host/.../Messages.json; plain http
    only on this machine, for a local stand-in) and AFTERCARE_SMS_FROM, both or neither."""
    if url is None:
        return {"SMS_URL": None, "SMS_FROM": None}
    parts = urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local) or not parts.username or not parts.password:
        raise ConfigError("AFTERCARE_SMS_URL", "must look like https://SID:TOKEN@host/.../Messages.json")
    if sender is None or not _SMS_FROM.match(sender):
        raise ConfigError("AFTERCARE_SMS_FROM", "must be a sender number in E.164 (+15551234567) or an id of up to 11 letters and digits")
    try:
        parts.port
    except ValueError:
        raise ConfigError("AFTERCARE_SMS_URL", "has an invalid port") from None
    netloc = parts.netloc.rpartition("@")[2]  # the credentials go in a header, not the URL
    return {"SMS_URL": {"url": parts._replace(netloc=netloc).geturl(), "username": unquote(parts.username),
                        "password": unquote(parts.password)},
            "SMS_FROM": sender}


def _mail_from(value: str) -> str:
    _, address = parseaddr(value)
    if "@" not in address:
        raise ConfigError("AFTERCARE_MAIL_FROM", f"is not an email address: {value!r}")
    return value


def _shopify_base_url(value: str) -> str:
    if "{shop}" not in value:
        raise ConfigError("SHOPIFY_BASE_URL", "must contain {shop}, e.g. https://{shop}")
    _http_url("SHOPIFY_BASE_URL", value.replace("{shop}", "shop.example"))
    return value.rstrip("/")


def _api_version(value: str) -> str:
    if not _API_VERSION.match(value):
        raise ConfigError("SHOPIFY_API_VERSION", f"must be a release like 2026-07, got {value!r}")
    return value


def _storage_url(value: str) -> str:
    if "://" not in value:
        raise ConfigError("AFTERCARE_RATELIMIT_STORAGE_URL", "must be a storage URL like memory:// or redis://host:6379")
    return value


def _retention_days(value: str | None) -> int:
    if value is None:
        return DEFAULT_RETENTION_DAYS
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 3650:
        raise ConfigError("AFTERCARE_RETENTION_DAYS", f"must be a whole number of days from 1 to 3650, got {value!r}")
    return int(value)
