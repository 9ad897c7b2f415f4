"""Signed links for shoppers: tracking pages, unsubscribing, surveys, orders.

A link is a token signed with itsdangerous under AFTERCARE_SECRET_KEY, with
one salt per purpose, so a token made for one purpose is refused by every
other, and a lifetime per purpose. During a key rotation tokens signed with
AFTERCARE_SECRET_KEY_PREVIOUS are still accepted (new ones use the current
key). A token names the shop and the object it is about, e.g.
``url("track", shop_id=1, order_id=7)``; the caller must still check that the
object belongs to that shop.

Tokens are signed, not encrypted: put in them only ids and what the link's
own recipient already knows (their address, for unsubscribing).
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class BadLink(Exception):
    """The token is not one of ours for this purpose (``reason`` "invalid"),
    or it was but has expired (``reason`` "expired")."""

    def __init__(self, reason: str):
        super().__init__(f"link {reason}")
        self.reason = reason


# purpose: (how long a link works, its path on the app, what the token names)
PURPOSES: dict[str, tuple[timedelta, str | None, tuple[str, ...]]] = {
    "track": (timedelta(days=365), "/t/", ("shop_id", "order_id")),
    "unsubscribe": (timedelta(days=3 * 365), "/u/", ("shop_id", "address", "category")),
    # One link per point of a scale (score None: the page without a choice).
    "survey": (timedelta(days=30), "/s/", ("shop_id", "invitation_id", "question", "score")),
    "order": (timedelta(days=365), "/proxy/api/orders/", ("shop_id", "order_id")),
}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"no link purpose {purpose!r}")
    config = current_app.config
    return _made(purpose, config.get("SECRET_KEY_PREVIOUS"), config["SECRET_KEY"])


@lru_cache(maxsize=32)
def _made(purpose: str, previous: str | None, current: str) -> URLSafeTimedSerializer:
    """One serializer per purpose and keys (an email carries two links)."""
    # itsdangerous signs with the last key and accepts every key in the list.
    return URLSafeTimedSerializer([key for key in (previous, current) if key], salt=f"aftercare.link.{purpose}")


def dumps(purpose: str, **fields) -> str:
    """A token for ``purpose`` carrying exactly the fields the purpose names."""
    expected = PURPOSES[purpose][2] if purpose in PURPOSES else ()
    if set(fields) != set(expected):
        raise ValueError(f"a {purpose!r} link names {', '.join(expected)}")
    return _serializer(purpose).dumps(fields)


def url(purpose: str, **fields) -> str:
    """The absolute URL (under AFTERCARE_APP_URL) of a new link for ``purpose``."""
    token = dumps(purpose, **fields)
    return f"{current_app.config['APP_URL']}{PURPOSES[purpose][1]}{token}"


def load(purpose: str, token: str) -> dict:
    """The fields of a token made for ``purpose``; raises BadLink."""
    serializer = _serializer(purpose)
    max_age = PURPOSES[purpose][0].total_seconds()
    try:
        fields = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadLink("expired") from None
    except BadSignature:
        raise BadLink("invalid") from None
    if not isinstance(fields, dict) or set(fields) != set(PURPOSES[purpose][2]):
        raise BadLink("invalid")
    return fields
