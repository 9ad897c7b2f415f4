"""/api/admin is for the store's admins only: App Bridge session tokens."""

from __future__ import annotations

import base64
import json
import time

import pytest

from ..conftest import API_KEY, PREVIOUS_SECRET, SHOP, load_payload
from ..fake_shopify import make_session_token


def token(**claims) -> str:
    secret = claims.pop("secret", None)
    from ..conftest import SECRET
    return make_session_token(API_KEY, secret or SECRET, SHOP, **claims)


def unsigned(**claims) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    now = int(time.time())
    body = {"iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}", "aud": API_KEY, "sub": "1",
            "exp": now + 60, "nbf": now - 1, "iat": now - 1, "jti": "x", "sid": "y", **claims}
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}."


@pytest.fixture
def order(app, shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()


def get(client, path, bearer):
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return client.get(path, headers=headers)


def test_valid_session_token_reads_the_shops_order(client, order):
    response = get(client, "/api/admin/orders/%231001", token())
    assert response.status_code == 200
    assert response.json["name"] == "#1001"


@pytest.mark.parametrize("name", ["²", "%231²", "١٠٠١", "1001\u00b2"])
def test_an_order_name_of_non_ascii_digits_is_404_not_500(client, order, name):
    response = get(client, f"/api/admin/orders/{name}", token())
    assert response.status_code == 404
    assert "no order" in response.json["error"]


@pytest.mark.parametrize("name", ["%00", "1001%00", "%231001%00x"])
def test_an_order_name_with_a_nul_is_404_not_500(client, order, name):
    """PostgreSQL refuses NUL in a text parameter (found by schemathesis)."""
    response = get(client, f"/api/admin/orders/{name}", token())
    assert response.status_code == 404 and "no order" in response.json["error"]
    preview = client.post("/api/admin/notifications/preview", headers={"Authorization": f"Bearer {token()}"},
                          json={"kind": "shipped", "order": "#1001\x00"})
    assert preview.status_code == 404 and preview.json["field"] == "order"


def test_token_signed_with_the_previous_secret_is_accepted(client, order):
    assert get(client, "/api/admin/orders/1001", token(secret=PREVIOUS_SECRET)).status_code == 200


@pytest.mark.parametrize("case", ["missing", "alg none", "wrong secret", "wrong aud", "expired",
                                  "dest of another shop", "garbage"])
def test_bad_session_tokens_get_401_with_the_retry_header(client, order, case):
    bearer = {
        "missing": None,
        "alg none": unsigned(),
        "wrong secret": token(secret="shpss_not_ours_000000000000000000000000"),
        "wrong aud": token(aud="someone-elses-app"),
        "expired": token(exp=int(time.time()) - 60, nbf=int(time.time()) - 120, iat=int(time.time()) - 120),
        "dest of another shop": token(dest="https://other-shop.myshopify.com"),
        "garbage": "not.a.jwt",
    }[case]
    response = get(client, "/api/admin/orders/1001", bearer)
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert "#1001" not in response.get_data(as_text=True)


def test_a_valid_token_for_a_shop_that_is_not_installed_is_403(client, app):
    response = get(client, "/api/admin/orders/1001", token())
    assert response.status_code == 403


def test_another_shops_token_cannot_read_this_shops_order(client, order, runner):
    runner("shops", "add", "other-shop.myshopify.com", "--token", "t")
    from ..conftest import SECRET
    other = make_session_token(API_KEY, SECRET, "other-shop.myshopify.com")
    assert get(client, "/api/admin/orders/1001", other).status_code == 404
