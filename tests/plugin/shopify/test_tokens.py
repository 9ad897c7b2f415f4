"""plugin.shopify.tokens against the fake Shopify over real HTTP: the OAuth token
endpoint (code grant, refresh, token exchange, migration to expiring tokens)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests

from plugin.shopify import tokens
from plugin.shopify.tokens import (
    TokenEndpointError,
    exchange_code,
    exchange_session_token,
    migrate_to_expiring_token,
    refresh_token,
)
from ...conftest import API_KEY, SECRET as API_SECRET
from ...fake_shopify import closed_port_base_url


def token_kwargs(fake, **extra):
    return {"api_key": API_KEY, "api_secret": API_SECRET, "base_url_template": fake.base_url, "timeout": 2, **extra}


def test_code_exchange_expiring(fake, shop):
    code = fake.issue_code(shop, scopes="read_orders,write_orders")
    before = datetime.now(timezone.utc)

    grant = exchange_code(shop, code, **token_kwargs(fake))

    assert grant.scope == "read_orders,write_orders"
    assert grant.refresh_token and grant.refresh_token.startswith("shprt_")
    assert before + timedelta(seconds=3590) <= grant.expires_at <= before + timedelta(seconds=3601)
    assert grant.refresh_token_expires_at > before + timedelta(days=89)
    assert fake.token_live(shop, grant.access_token)
    assert grant.access_token not in repr(grant) and grant.refresh_token not in repr(grant)
    [call] = fake.calls(endpoint="token")
    assert call.path == f"/shops/{shop}/admin/oauth/access_token"
    assert call.params == {"client_id": API_KEY, "client_secret": API_SECRET, "code": code, "expiring": "1"}


def test_code_exchange_non_expiring(fake, shop):
    grant = exchange_code(shop, fake.issue_code(shop), **token_kwargs(fake, expiring=False))
    assert grant.expires_at is None and grant.refresh_token is None and grant.refresh_token_expires_at is None
    assert fake.token_live(shop, grant.access_token)


def test_fewer_scopes_granted_show_in_the_grant(fake, shop):
    fake.set_granted_scopes(shop, "read_orders")
    grant = exchange_code(shop, fake.issue_code(shop), **token_kwargs(fake))
    assert grant.scope == "read_orders"
    assert "write_orders" not in grant.scopes


def test_reused_code_is_rejected_and_not_retried(fake, shop):
    code = fake.issue_code(shop)
    exchange_code(shop, code, **token_kwargs(fake))

    with pytest.raises(TokenEndpointError, match="rejected the code: invalid_request") as exc:
        exchange_code(shop, code, **token_kwargs(fake))
    assert exc.value.status == 400 and exc.value.error == "invalid_request"
    assert code not in str(exc.value)
    assert len(fake.calls(endpoint="token")) == 2  # one request per exchange


@pytest.mark.parametrize("setup, message, status", [
    (lambda f: f.fail_next(1, status=500, endpoint="token"), "token endpoint answered 500", 500),
    (lambda f: f.fail_next(1, status=502, endpoint="token"), "token endpoint answered 502", 502),
    (lambda f: f.garbage_next(1, endpoint="token"), "token endpoint answered invalid JSON", 200),
])
def test_token_endpoint_failures_are_clear_and_not_retried(fake, shop, setup, message, status):
    setup(fake)
    code = fake.issue_code(shop)
    with pytest.raises(TokenEndpointError, match=message) as exc:
        exchange_code(shop, code, **token_kwargs(fake))
    assert exc.value.status == status
    assert len(fake.calls(endpoint="token")) == 1
    assert API_SECRET not in str(exc.value) and code not in str(exc.value)


def test_token_endpoint_down(fake, shop):
    with pytest.raises(TokenEndpointError, match="token endpoint unreachable") as exc:
        exchange_code(shop, "some-code", **token_kwargs(fake, base_url_template=closed_port_base_url()))
    assert exc.value.status is None
    assert API_SECRET not in str(exc.value)


def test_token_endpoint_too_slow_is_not_retried(fake, shop):
    grant = exchange_code(shop, fake.issue_code(shop), **token_kwargs(fake))
    fake.slow_next(1, 1.0, endpoint="token")
    with pytest.raises(TokenEndpointError, match="did not answer within 0.2s"):
        refresh_token(shop, grant.refresh_token, **token_kwargs(fake, timeout=0.2))
    assert len(fake.calls(endpoint="token")) == 2


def test_wrong_client_secret(fake, shop):
    wrong = "another-secret-that-is-long-enough-0123456789"
    with pytest.raises(TokenEndpointError, match="rejected the app's client credentials .*401") as exc:
        exchange_code(shop, fake.issue_code(shop), **token_kwargs(fake, api_secret=wrong))
    assert exc.value.status == 401
    assert wrong not in str(exc.value)


def test_refresh_returns_a_new_pair_and_kills_the_old_refresh_token(fake, shop):
    first = exchange_code(shop, fake.issue_code(shop, scopes="read_orders"), **token_kwargs(fake))

    second = refresh_token(shop, first.refresh_token, **token_kwargs(fake))

    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
    assert second.scope == "read_orders" and second.expires_at is not None
    assert fake.token_live(shop, second.access_token)
    assert fake.calls(endpoint="token")[-1].params["grant_type"] == "refresh_token"
    with pytest.raises(TokenEndpointError, match="rejected the refresh token: invalid_grant") as exc:
        refresh_token(shop, first.refresh_token, **token_kwargs(fake))
    assert first.refresh_token not in str(exc.value)
    third = refresh_token(shop, second.refresh_token, **token_kwargs(fake))
    assert fake.token_live(shop, third.access_token)


def test_refresh_retries_once_on_a_connection_error(fake, shop, monkeypatch):
    grant = exchange_code(shop, fake.issue_code(shop), **token_kwargs(fake))
    real_post = requests.post
    attempts = []

    def flaky_post(*args, **kwargs):
        attempts.append(args[0])
        if len(attempts) == 1:
            raise requests.ConnectionError("connection reset")
        return real_post(*args, **kwargs)

    monkeypatch.setattr(tokens.requests, "post", flaky_post)
    new = refresh_token(shop, grant.refresh_token, **token_kwargs(fake))
    assert len(attempts) == 2 and fake.token_live(shop, new.access_token)

    attempts.clear()
    code = fake.issue_code(shop)
    with pytest.raises(TokenEndpointError, match="unreachable"):
        exchange_code(shop, code, **token_kwargs(fake))
    assert len(attempts) == 1  # a code exchange never retries


def test_token_exchange_with_a_valid_session_token(fake, shop):
    now = int(time.time())
    session_token = jwt.encode({
        "iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": API_KEY, "sub": "42",
        "exp": now + 60, "nbf": now - 5, "iat": now - 5, "jti": str(uuid.uuid4()), "sid": "abc"},
        API_SECRET, algorithm="HS256")

    grant = exchange_session_token(shop, session_token, **token_kwargs(fake))

    assert fake.token_live(shop, grant.access_token)
    assert grant.expires_at is not None and grant.refresh_token
    params = fake.calls(endpoint="token")[0].params
    assert params["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert params["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert params["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"


@pytest.mark.parametrize("mint", [
    lambda fake, shop: fake.session_token(shop, secret="a-different-secret-0123456789abcdef"),
    lambda fake, shop: fake.session_token(shop, expires_in=-60),
    lambda fake, shop: fake.session_token("other-shop.myshopify.com"),
    lambda fake, shop: "not.a.jwt",
])
def test_token_exchange_with_an_invalid_session_token(fake, shop, mint):
    with pytest.raises(TokenEndpointError, match="rejected the session token: invalid_subject_token") as exc:
        exchange_session_token(shop, mint(fake, shop), **token_kwargs(fake))
    assert exc.value.status == 400 and exc.value.error == "invalid_subject_token"


def test_migrate_to_expiring_token(fake, shop):
    old = exchange_code(shop, fake.issue_code(shop), **token_kwargs(fake, expiring=False))
    new = migrate_to_expiring_token(shop, old.access_token, **token_kwargs(fake))
    assert new.expires_at is not None and new.refresh_token
    assert fake.token_live(shop, new.access_token) and not fake.token_live(shop, old.access_token)
