"""Storefront fixtures: app-proxy queries signed as Shopify signs them, a
second shop, and rate limits emptied between tests."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from plugin import shops
from plugin.db import worker_session
from plugin.signatures import proxy_signature
from tests.conftest import SECRET, SHOP
from widgets.limits import limiter

OTHER_SHOP = "other-shop.myshopify.com"


def proxy_query(secret: str = SECRET, *, shop: str = SHOP, customer: str = "", extra: list | None = None,
                timestamp: int | None = None, **params) -> str:
    """The query string Shopify's app proxy adds (signed last), as a string."""
    pairs = [("shop", shop), ("logged_in_customer_id", customer), ("path_prefix", "/apps/aftercare"),
             ("timestamp", str(int(time.time()) if timestamp is None else timestamp))]
    pairs += list(params.items()) + list(extra or [])
    return urlencode(pairs + [("signature", proxy_signature(secret, pairs))])


@pytest.fixture(autouse=True)
def _fresh_limits(request):
    if "app" not in request.fixturenames:
        yield  # a test without the app (and its two databases)
        return
    app = request.getfixturevalue("app")
    app.config["LOOKUP_SECONDS"] = 0.01  # the timing floor has its own test
    limiter.reset()
    yield
    limiter.reset()
    app.config.pop("LOOKUP_SECONDS", None)


@pytest.fixture
def other_shop(app):
    with worker_session(app) as session, session.begin():
        other = shops.install(session, OTHER_SHOP, shops.static_grant("shpat_other", "read_orders"))
        session.flush()
        return other.id
