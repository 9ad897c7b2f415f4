"""Per-shop settings: the keys DESIGN.md names, their defaults and checks.

One row per shop and key holds a value the merchant changed; every other key
reads as its default, which lives here in code. The admin page, its JSON API
(`/api/admin/settings`) and `aftercare settings get/set` all go through
``load`` and ``update``, so they accept and refuse the same values.

``update`` checks every change before it writes any: a bad value raises
``Invalid`` naming the field, and nothing is half-saved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .db import batch_memo
from .locales import LOCALES
from .models import Setting, utcnow
from .notifications.kinds import Kind

# Shopify's return reasons (ReturnReason in the pinned Admin API version).
RETURN_REASONS = ("COLOR", "DEFECTIVE", "NOT_AS_DESCRIBED", "OTHER", "SIZE_TOO_LARGE",
                  "SIZE_TOO_SMALL", "STYLE", "UNWANTED", "WRONG_ITEM")
# The states of an order a help answer can fit (what the shopper sees).
ORDER_STATES = ("ordered", "shipped", "in_transit", "out_for_delivery", "delivered",
                "delayed", "failed", "returning")
SURVEY_KINDS = ("csat", "ces", "nps")
WINDOW_STARTS = ("delivered", "fulfilled", "ordered")

MAX_TEXT = 2000
MAX_TEMPLATE = 50_000
MAX_HELP_ANSWERS = 50


class Invalid(ValueError):
    """A setting's value (or its key) is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


Check = Callable[[str, Any], Any]  # (key, value) -> the value to store, or raise Invalid


# --- checks ------------------------------------------------------------------

def boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise Invalid(key, "must be true or false")


def integer(low: int, high: int) -> Check:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(key, f"must be a whole number from {low} to {high}")
        if not low <= value <= high:
            raise Invalid(key, f"must be from {low} to {high}")
        return value
    return check


def one_of(choices: tuple[str, ...]) -> Check:
    def check(key: str, value: Any) -> str:
        if value not in choices:
            raise Invalid(key, "must be one of " + ", ".join(choices))
        return value
    return check


def subset_of(choices: tuple[str, ...], *, allow_empty: bool) -> Check:
    def check(key: str, value: Any) -> list[str]:
        if not isinstance(value, list) or any(item not in choices for item in value):
            raise Invalid(key, "must be a list of " + ", ".join(choices))
        if not value and not allow_empty:
            raise Invalid(key, "must name at least one of " + ", ".join(choices))
        return [c for c in choices if c in value]  # canonical order, no repeats
    return check


def text(max_length: int, *, single_line: bool = True) -> Check:
    def check(key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(key, "must be text")
        value = value.strip()
        if len(value) > max_length:
            raise Invalid(key, f"must be at most {max_length} characters")
        if single_line and any(c in value for c in "\r\n"):
            raise Invalid(key, "must be one line")
        return value
    return check


def optional(check: Check) -> Check:
    """``None`` (or empty text) means unset."""
    def wrapped(key: str, value: Any) -> Any:
        if value is None or value == "":
            return None
        return check(key, value)
    return wrapped


_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+$")


def email(key: str, value: Any) -> str:
    value = text(320)(key, value)
    name, address = parseaddr(value)
    if name or address != value or not _EMAIL.match(value):
        raise Invalid(key, "must be an email address like support@example.com")
    return value


def https_url(key: str, value: Any) -> str:
    value = text(2000)(key, value)
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise Invalid(key, "must be an https:// URL")
    return value


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def color(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value):
        raise Invalid(key, "must be a colour like #008060")
    return value.lower()


_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def quiet_hours(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _HOURS.match(value.replace(" ", "")):
        raise Invalid(key, "must be a time range like 21:00-08:00")
    value = value.replace(" ", "")
    start, end = value.split("-")
    if start == end:
        raise Invalid(key, "must not start and end at the same time")
    return value


def help_answers(key: str, value: Any) -> list[dict]:
    if not isinstance(value, list):
        raise Invalid(key, "must be a list of answers")
    if len(value) > MAX_HELP_ANSWERS:
        raise Invalid(key, f"must hold at most {MAX_HELP_ANSWERS} answers")
    answers = []
    for i, item in enumerate(value):
        field = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise Invalid(field, "must be an object with question, answer, states and locale")
        unknown = set(item) - {"question", "answer", "states", "locale"}
        if unknown:
            raise Invalid(f"{field}.{sorted(unknown)[0]}", "is not a field of a help answer")
        question = text(200)(f"{field}.question", item.get("question"))
        answer = text(MAX_TEXT, single_line=False)(f"{field}.answer", item.get("answer"))
        if not question or not answer:
            raise Invalid(f"{field}.{'question' if not question else 'answer'}", "must not be empty")
        answers.append({
            "question": question,
            "answer": answer,
            "states": subset_of(ORDER_STATES, allow_empty=True)(f"{field}.states", item.get("states", [])),
            "locale": optional(one_of(LOCALES))(f"{field}.locale", item.get("locale")),
        })
    return answers


def template(key: str, value: Any) -> dict:
    """A merchant's subject and body for one kind and locale: the shape here,
    then the notifications sandbox compiles and tries them, so a template that
    could not be rendered is refused when saved, naming subject or body."""
    if not isinstance(value, dict) or set(value) != {"subject", "body"}:
        raise Invalid(key, "must be an object with subject and body")
    checked = {
        "subject": text(500)(f"{key}.subject", value["subject"]),
        "body": text(MAX_TEMPLATE, single_line=False)(f"{key}.body", value["body"]),
    }
    from .notifications import sandbox  # imported here: notifications imports this module
    try:
        sandbox.check(checked)
    except sandbox.TemplateFailed as exc:
        raise Invalid(f"{key}.{exc.part}", exc.message) from None
    return checked


# --- the keys ------------------------------------------------------------------

def _schema() -> dict[str, tuple[Check, Any]]:
    schema: dict[str, tuple[Check, Any]] = {}
    for kind in Kind:
        schema[f"notifications.{kind.value}.email"] = (boolean, kind.default_on)
        schema[f"notifications.{kind.value}.sms"] = (boolean, False)
    schema.update({
        "notifications.quiet_hours": (optional(quiet_hours), None),
        "notifications.delay_grace_hours": (integer(0, 720), 24),
        "notifications.stalled_days": (integer(1, 60), 4),
        "survey.delay_hours": (integer(1, 720), 48),
        "survey.kinds": (subset_of(SURVEY_KINDS, allow_empty=True), ["csat", "ces"]),
        "survey.after_return": (boolean, True),
        "survey.cap_days": (integer(0, 365), 7),
        "returns.window_days": (integer(0, 365), 30),
        "returns.window_starts": (one_of(WINDOW_STARTS), "delivered"),
        "returns.reasons": (subset_of(RETURN_REASONS, allow_empty=False),
                            ["SIZE_TOO_SMALL", "SIZE_TOO_LARGE", "UNWANTED", "NOT_AS_DESCRIBED",
                             "WRONG_ITEM", "DEFECTIVE", "OTHER"]),
        "returns.final_sale_tag": (optional(text(255)), "final-sale"),
        "help.answers": (help_answers, []),
        "help.support_email": (optional(email), None),
        "branding.color": (color, "#008060"),
        "branding.logo_url": (optional(https_url), None),
        "mail.from": (optional(text(100)), None),
        "mail.reply_to": (optional(email), None),
        "alerts.low_score_email": (optional(email), None),
    })
    return schema


SCHEMA = _schema()
DEFAULTS: dict[str, Any] = {key: default for key, (_check, default) in SCHEMA.items()}

_TEMPLATE_KEY = re.compile(r"^templates\.([a-z_]+)\.([a-z]{2})$")


def check(key: str, value: Any) -> Any:
    """The value to store for ``key``, or ``None`` to go back to the default."""
    if key in SCHEMA:
        if value is None:
            return None
        return SCHEMA[key][0](key, value)
    match = _TEMPLATE_KEY.match(key)
    if match:
        kind, locale = match.groups()
        if kind not in Kind._value2member_map_:
            raise Invalid(key, "no such notification kind")
        if locale not in LOCALES:
            raise Invalid(key, "no such locale (" + ", ".join(LOCALES) + ")")
        return None if value is None else template(key, value)
    raise Invalid(key, "is not a setting")


def template_keys() -> list[str]:
    return [f"templates.{kind.value}.{locale}" for kind in Kind for locale in LOCALES]


# --- reading and writing -------------------------------------------------------

def load(session: Session, shop_id: int) -> dict[str, Any]:
    """Every setting of the shop: its own values over the defaults, then the
    templates it has (a kind and locale without one uses the default template).
    Read once per worker batch (plugin.db.batch): no delivery changes settings."""
    memo = batch_memo(session)
    if memo is None:
        return _load(session, shop_id)
    if ("settings", shop_id) not in memo:
        memo["settings", shop_id] = _load(session, shop_id)
    return memo["settings", shop_id]


def _load(session: Session, shop_id: int) -> dict[str, Any]:
    stored = dict(session.execute(
        select(Setting.key, Setting.value).where(Setting.shop_id == shop_id)
    ).all())
    values = {key: stored.get(key, default) for key, default in DEFAULTS.items()}
    values.update(sorted((k, v) for k, v in stored.items() if _TEMPLATE_KEY.match(k)))
    return values


def get(session: Session, shop_id: int, key: str) -> Any:
    check(key, None)  # refuses unknown keys
    value = session.scalar(select(Setting.value).where(Setting.shop_id == shop_id, Setting.key == key))
    return DEFAULTS.get(key) if value is None else value


def update(session: Session, shop_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Check every change, then write them all (``None`` resets to the
    default); returns the shop's settings after. Raises Invalid before any
    write when one value is bad. The caller commits."""
    checked = {key: check(key, value) for key, value in changes.items()}
    for key, value in checked.items():
        session.execute(delete(Setting).where(Setting.shop_id == shop_id, Setting.key == key))
        if value is not None and value != DEFAULTS.get(key, ...):
            session.add(Setting(shop_id=shop_id, key=key, value=value, updated_at=utcnow()))
    session.flush()
    return load(session, shop_id)


def parse_text(key: str, raw: str) -> Any:
    """A value typed on the command line (`aftercare settings set K=V`): JSON
    when it parses (true, 24, ["csat"], null), on/off for switches, else text."""
    if key in SCHEMA and SCHEMA[key][0] is boolean and raw.strip().lower() in ("on", "off", "yes", "no"):
        return raw.strip().lower() in ("on", "yes")
    try:
        return json.loads(raw)
    except ValueError:
        return raw
