"""POST /webhooks: verify, store, answer. Nothing else happens in the request,
so Shopify gets its 200 in milliseconds whatever the worker is doing."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from plugin.db import write_connection
from plugin.models import WebhookDelivery
from plugin.signatures import normalize_shop_domain, verify_webhook

from .inbox import Received, store

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__)

MAX_BODY = 1024 * 1024

# Stored headers, each as long as its column may hold (a longer one would fail
# the INSERT on PostgreSQL): a header over it is refused before the database.
HEADER_LIMITS = {
    f"X-Shopify-{name}": WebhookDelivery.__table__.c[column].type.length
    for name, column in (("Topic", "topic"), ("Webhook-Id", "webhook_id"), ("Event-Id", "event_id"),
                         ("Triggered-At", "triggered_at"), ("API-Version", "api_version"))
}


def _answer(status: int, message: str):
    return jsonify({"status": "error" if status >= 400 else message, "message": message}), status


@bp.post("/webhooks")
def receive():
    # One byte more than allowed is read, so that a body without Content-Length
    # (chunked) that is too long is told apart from one of exactly MAX_BODY:
    # werkzeug would otherwise cut it at the limit, and the HMAC would fail.
    request.max_content_length = MAX_BODY + 1
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        body = None
    if body is None or len(body) > MAX_BODY:
        response = _answer(413, f"body larger than {MAX_BODY} bytes")
        response[0].headers["Connection"] = "close"  # the rest of the body is never read
        return response

    headers = request.headers
    if not verify_webhook(body, headers.get("X-Shopify-Hmac-Sha256"), current_app.config["SHOPIFY_SECRETS"]):
        return _answer(401, "invalid or missing X-Shopify-Hmac-Sha256")

    for name in ("X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id"):
        if not headers.get(name, "").strip():
            return _answer(400, f"missing {name} header")
    for name, limit in HEADER_LIMITS.items():
        if len(headers.get(name, "").strip()) > limit:
            return _answer(400, f"{name} header longer than {limit} characters")
    domain = normalize_shop_domain(headers["X-Shopify-Shop-Domain"])
    if domain is None:
        return _answer(400, "X-Shopify-Shop-Domain is not a myshopify.com domain")
    if not body.strip():
        return _answer(400, "empty body")

    received = Received(
        topic=headers["X-Shopify-Topic"].strip(),
        webhook_id=headers["X-Shopify-Webhook-Id"].strip(),
        event_id=headers.get("X-Shopify-Event-Id"),
        triggered_at=headers.get("X-Shopify-Triggered-At"),
        api_version=headers.get("X-Shopify-API-Version"),
        payload=body,
    )
    with write_connection() as connection:
        outcome = store(connection, domain, received)
    if outcome == "ignored":
        log.info("webhook %s for %s dropped: shop unknown or uninstalled", received.topic, domain)
    return _answer(200, outcome)
