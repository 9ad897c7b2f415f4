"""POST /webhooks over real HTTP: what is stored, what is refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from plugin.models import Order, WebhookDelivery

from ..conftest import db, PREVIOUS_SECRET, SHOP, load_payload, sign


def stored(app) -> list[WebhookDelivery]:
    session = db()
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_valid_delivery_is_stored_with_its_headers_and_exact_body(app, shop, webhooks):
    raw = json.dumps(load_payload("order_create")).encode()
    response = webhooks.post("orders/create", raw, webhook_id="wh-1",
                             headers={"X-Shopify-Event-Id": "ev-1", "X-Shopify-API-Version": "2026-07",
                                      "X-Shopify-Triggered-At": "2026-11-01T15:00:05.000000Z"})
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    [delivery] = stored(app)
    assert (delivery.shop_id, delivery.topic, delivery.webhook_id, delivery.event_id) == (shop, "orders/create", "wh-1", "ev-1")
    assert delivery.api_version == "2026-07"
    assert delivery.triggered_at == "2026-11-01T15:00:05.000000Z"
    assert delivery.payload == raw
    assert delivery.status == "pending"
    # Receiving does no work: the order appears only when the worker runs.
    assert db().scalar(select(func.count()).select_from(Order)) == 0


def test_previous_secret_is_accepted_during_rotation(app, shop, webhooks):
    response = webhooks.post("orders/create", load_payload("order_create"), secret=PREVIOUS_SECRET)
    assert response.status_code == 200
    assert len(stored(app)) == 1


def test_duplicate_webhook_id_is_answered_200_and_stored_once(app, shop, webhooks, run_worker):
    body = load_payload("order_create")
    answers = [webhooks.post("orders/create", body, webhook_id="same-id").json()["status"] for _ in range(3)]
    assert answers == ["accepted", "duplicate", "duplicate"]
    assert len(stored(app)) == 1
    assert run_worker() == 1


def test_same_webhook_id_in_two_shops_is_two_deliveries(app, shop, webhooks):
    from plugin import shops as shop_service
    session = db()
    shop_service.install(session, "other-shop.myshopify.com", shop_service.static_grant("token-2"))
    session.commit()
    webhooks.post("orders/create", load_payload("order_create"), webhook_id="shared")
    webhooks.post("orders/create", load_payload("order_create"), webhook_id="shared", shop="other-shop.myshopify.com")
    assert len(stored(app)) == 2


def _signature_cases():
    body = json.dumps(load_payload("order_create")).encode()
    return {
        "no signature": dict(drop=("X-Shopify-Hmac-Sha256",)),
        "wrong secret": dict(secret="not-the-secret"),
        "signature of a different body": dict(headers={"X-Shopify-Hmac-Sha256": sign(body + b" ")}),
        "not base64": dict(headers={"X-Shopify-Hmac-Sha256": "%%% not base64 %%%"}),
        "empty signature": dict(headers={"X-Shopify-Hmac-Sha256": ""}),
        "hex instead of base64": dict(headers={"X-Shopify-Hmac-Sha256": sign(body).encode().hex()}),
    }


@pytest.mark.parametrize("case", list(_signature_cases()))
def test_bad_signature_is_401_and_nothing_is_stored(app, shop, webhooks, case):
    response = webhooks.post("orders/create", load_payload("order_create"), **_signature_cases()[case])
    assert response.status_code == 401
    assert "X-Shopify-Hmac-Sha256" in response.json()["message"]
    assert stored(app) == []


def test_body_over_one_mebibyte_is_413_and_nothing_is_stored(app, shop, webhooks):
    raw = b'{"pad": "' + b"x" * (1024 * 1024 - 10) + b'"}'
    assert len(raw) == 1024 * 1024 + 1
    response = webhooks.post("orders/create", raw)
    assert response.status_code == 413
    assert stored(app) == []


def test_body_of_exactly_one_mebibyte_is_accepted(app, shop, webhooks):
    raw = b'{"pad": "' + b"x" * (1024 * 1024 - 11) + b'"}'
    assert len(raw) == 1024 * 1024
    assert webhooks.post("orders/create", raw).status_code == 200


def test_empty_body_is_400_and_nothing_is_stored(app, shop, webhooks):
    response = webhooks.post("orders/create", b"")
    assert response.status_code == 400
    assert response.json()["message"] == "empty body"
    assert stored(app) == []


@pytest.mark.parametrize("header", ["X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id"])
def test_missing_header_is_400_naming_it(app, shop, webhooks, header):
    response = webhooks.post("orders/create", load_payload("order_create"), drop=(header,))
    assert response.status_code == 400
    assert header in response.json()["message"]
    assert stored(app) == []


@pytest.mark.parametrize("domain", ["x.myshopify.com.evil.com", "evil.com", "%0ax.myshopify.com"])
def test_malformed_shop_domain_is_400(app, shop, webhooks, domain):
    response = webhooks.post("orders/create", load_payload("order_create"), shop=domain)
    assert response.status_code == 400
    assert stored(app) == []


def test_shop_domain_is_matched_case_insensitively(app, shop, webhooks):
    assert webhooks.post("orders/create", load_payload("order_create"), shop=SHOP.upper()).json()["status"] == "accepted"
    assert len(stored(app)) == 1


def test_unknown_shop_is_answered_200_and_dropped(app, shop, webhooks):
    response = webhooks.post("orders/create", load_payload("order_create"), shop="stranger.myshopify.com")
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert stored(app) == []


def test_uninstalled_shop_drops_ordinary_topics_but_keeps_compliance_ones(app, shop, webhooks, run_worker):
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    assert webhooks.post("orders/create", load_payload("order_create")).json()["status"] == "ignored"
    redact = {"shop_id": 954889, "shop_domain": SHOP}
    assert webhooks.post("shop/redact", redact).json()["status"] == "accepted"
    assert [d.topic for d in stored(app)] == ["app/uninstalled", "shop/redact"]


def test_valid_signature_over_invalid_json_is_stored_for_the_worker_to_fail(app, shop, webhooks, runner, run_worker):
    response = webhooks.post("orders/create", b"{not json")
    assert response.status_code == 200
    run_worker()
    [delivery] = stored(app)
    assert delivery.status == "failed"
    assert "not valid JSON" in delivery.error
    assert delivery.next_attempt_at is None  # retrying the same bytes cannot help
    listed = json.loads(runner("webhooks", "failed").output)
    assert [(row["id"], row["topic"]) for row in listed] == [(delivery.id, "orders/create")]
    assert "not valid JSON" in listed[0]["error"]


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok",
                             "worker": {"status": "none", "heartbeat_age_seconds": None}}


def _post_chunked(webhooks, raw: bytes):
    """The body sent without Content-Length, in chunks (Transfer-Encoding: chunked)."""
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
               "X-Shopify-Hmac-Sha256": sign(raw), "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": "chunked"}
    chunks = (raw[i:i + 64 * 1024] for i in range(0, len(raw), 64 * 1024))
    return webhooks.http.post(webhooks.url, data=chunks, headers=headers, timeout=10)


def test_chunked_body_over_one_mebibyte_is_413_and_nothing_is_stored(app, shop, webhooks):
    raw = b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = _post_chunked(webhooks, raw)
    assert response.status_code == 413
    assert "larger than" in response.json()["message"]
    assert stored(app) == []


def test_chunked_body_of_exactly_one_mebibyte_is_accepted(app, shop, webhooks):
    raw = b'{"pad": "' + b"x" * (1024 * 1024 - 11) + b'"}'
    response = _post_chunked(webhooks, raw)
    assert response.status_code == 200
    assert [d.payload for d in stored(app)] == [raw]


@pytest.mark.parametrize("header", ["X-Shopify-Webhook-Id", "X-Shopify-Topic", "X-Shopify-Event-Id",
                                    "X-Shopify-Triggered-At", "X-Shopify-API-Version"])
def test_header_longer_than_its_column_is_400_naming_it(app, shop, webhooks, header):
    response = webhooks.post("orders/create", load_payload("order_create"), headers={header: "x" * 300})
    assert response.status_code == 400
    assert header in response.json()["message"]
    assert stored(app) == []
    assert webhooks.post("orders/create", load_payload("order_create")).status_code == 200  # and all is well
