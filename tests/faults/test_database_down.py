"""With no database to reach, every route answers 503 with a JSON message and
Retry-After (Shopify retries a webhook not answered 2xx), never a 500. Runs
anywhere: the database URL names a port where nothing listens. The restart
of a real server under real processes is test_postgres_restart.py."""

from __future__ import annotations

import pytest

from plugin import create_app

from ..conftest import SHOP, environ, sign, signed_query
from .private_postgres import _free_port


@pytest.fixture
def unreachable(tmp_path):
    url = f"postgresql+psycopg://aftercare:aftercare@127.0.0.1:{_free_port()}/aftercare"
    app = create_app({"TESTING": True}, environ=environ(url), instance_path=str(tmp_path))
    return app.test_client()


def test_a_webhook_is_answered_503_when_the_database_is_unreachable(unreachable):
    body = b'{"id": 1}'
    response = unreachable.post("/webhooks", data=body, headers={
        "X-Shopify-Hmac-Sha256": sign(body), "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": "down-1"})
    assert response.status_code == 503
    assert response.json == {"status": "error", "message": "database unavailable; try again shortly"}
    assert response.headers["Retry-After"] == "5"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_and_health_answer_503_too(unreachable):
    assert unreachable.get("/healthz").status_code == 503
    launch = unreachable.get("/app", query_string=signed_query(shop=SHOP, host="x", embedded="1"))
    assert launch.status_code == 503 and launch.json["message"] == "database unavailable; try again shortly"
