"""Rate limits for the storefront's lookups, contact and return requests.

Counted per client and shop, and only once the shop is known from a
verified request (a forged request must not spend a real shopper's quota):
a burst from one client at one shop does not slow that client at another
shop, nor other clients. Storage is AFTERCARE_RATELIMIT_STORAGE_URL:
``memory://`` counts inside one process only; several web processes need a
shared store such as ``redis://``.
"""

from __future__ import annotations

from flask import Flask, g, jsonify, request
from flask_limiter import Limiter
from werkzeug.exceptions import TooManyRequests

LOOKUPS = "10 per minute;60 per hour"
CONTACTS = "3 per minute;10 per hour"
RETURNS = "10 per minute;30 per hour"

limiter = Limiter(key_func=lambda: request.remote_addr or "-", headers_enabled=True,
                  retry_after="delta-seconds", default_limits=[])


def client_and_shop() -> str:
    """The key of a request: its client's address and the shop it was for.
    Behind Shopify's app proxy the client is the first X-Forwarded-For entry
    (Shopify sets it; the request's own signature was checked)."""
    client = g.get("storefront_client") or request.remote_addr or "-"
    return f"{client}|{g.get('storefront_shop_domain', '-')}"


# The limits sit on storefront views only: every other request (POST /webhooks
# above all) skips the limiter's per-request bookkeeping.
STOREFRONT_BLUEPRINTS = frozenset({"widgets", "proxy"})
limiter.request_filter(lambda: request.blueprint not in STOREFRONT_BLUEPRINTS)

lookup_limit = limiter.shared_limit(LOOKUPS, scope="storefront-lookup", key_func=client_and_shop)
contact_limit = limiter.shared_limit(CONTACTS, scope="storefront-contact", key_func=client_and_shop)
returns_limit = limiter.shared_limit(RETURNS, scope="storefront-returns", key_func=client_and_shop)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("RATELIMIT_STORAGE_URL", "memory://"))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


def too_many(error: TooManyRequests):
    """429 with one message; Flask-Limiter adds Retry-After."""
    return jsonify(error="too_many_requests",
                   message="Too many attempts. Please wait a minute and try again."), 429
