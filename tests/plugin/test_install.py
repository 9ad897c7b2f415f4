"""Installing, staying installed and leaving, against the fake Shopify over
real HTTP: authorization code grant, token exchange, refusals, uninstall,
reinstall and shop/redact."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from plugin import crypto, shops
from plugin.models import Shop, WebhookDelivery, utcnow

from ..conftest import API_KEY, SECRET, SHOP, database_dump, db, load_payload, signed_query

FULL_SCOPES = "read_orders,write_orders,read_fulfillments,read_customers,read_returns,write_returns"
HOST = base64.b64encode(b"admin.shopify.com/store/test-shop").decode().rstrip("=")


@pytest.fixture
def browser(live_server):
    """A client that keeps cookies, like the merchant's browser."""
    with requests.Session() as session:
        session.base = live_server
        yield session


def start_install(browser, shop=SHOP):
    response = browser.get(f"{browser.base}/auth/install", params=signed_query(shop=shop), allow_redirects=False)
    assert response.status_code == 302, response.text
    return response


def install(browser, fake, shop=SHOP, scopes=FULL_SCOPES):
    """The whole authorization code grant; returns the callback's response."""
    redirect = urlsplit(start_install(browser, shop).headers["Location"])
    state = parse_qs(redirect.query)["state"][0]
    code = fake.issue_code(shop, scopes=scopes)
    query = signed_query(code=code, shop=shop, state=state, host=HOST)
    return browser.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False), query


def shop_row(domain=SHOP) -> Shop | None:
    return db().scalar(select(Shop).where(Shop.domain == domain))


def test_install_redirects_to_the_shops_consent_screen_with_a_state_cookie(app, fake_shopify, browser):
    response = start_install(browser)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        fake_shopify.base_url.format(shop=SHOP) + "/admin/oauth/authorize"
    query = parse_qs(location.query)
    assert query["client_id"] == [API_KEY]
    assert query["scope"] == [FULL_SCOPES]
    assert query["redirect_uri"] == [f"{app.config['APP_URL']}/auth/callback"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=600" in cookie
    assert shop_row() is None  # nothing stored before the merchant consents


def test_full_install_uninstall_reinstall_and_shop_redact(app, fake_shopify, browser, webhooks, run_worker):
    # The id of Shopify's sample app/uninstalled body: webhook bodies must name this shop.
    fake_shopify.set_shop_info(SHOP, name="Test Shop", email="owner@test-shop.example",
                               id="gid://shopify/Shop/548380009",
                               primaryDomain={"url": "https://www.test-shop.example", "host": "www.test-shop.example"})
    response, _ = install(browser, fake_shopify)
    assert response.status_code == 302
    assert response.headers["Location"] == f"https://admin.shopify.com/store/test-shop/apps/{API_KEY}/"

    shop = shop_row()
    [token] = fake_shopify.live_tokens(SHOP)
    assert shop.installed and shop.access_token is not None
    assert token.encode() not in shop.access_token  # encrypted at rest
    assert crypto.decrypt(app.config["SECRET_KEY"], shop.access_token) == token
    assert shop.refresh_token is not None and shop.access_token_expires_at is not None  # expiring token
    assert (shop.name, shop.email, shop.shopify_id) == ("Test Shop", "owner@test-shop.example", 548380009)
    assert shop.primary_domain_url == "https://www.test-shop.example"  # the widget's CORS admits it
    subscribed = {s["topic"] for s in fake_shopify.webhook_subscriptions(SHOP)}
    assert {"ORDERS_CREATE", "FULFILLMENTS_UPDATE", "FULFILLMENT_EVENTS_CREATE", "APP_UNINSTALLED"} <= subscribed
    assert not any("REDACT" in t or "DATA_REQUEST" in t for t in subscribed)  # only the TOML can declare those

    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    shop = shop_row()
    assert not shop.installed and shop.access_token is None and shop.refresh_token is None
    assert webhooks.post("orders/create", load_payload("order_create")).json()["status"] == "ignored"

    with requests.Session() as again:  # reinstall, in a new browser session
        again.base = browser.base
        response, _ = install(again, fake_shopify)
    assert response.status_code == 302
    shop = shop_row()
    assert shop.installed
    assert crypto.decrypt(app.config["SECRET_KEY"], shop.access_token) != token  # a new token
    assert webhooks.post("orders/create", load_payload("order_create")).json()["status"] == "accepted"
    run_worker()

    shop_id = shop.id
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))  # shop/redact follows an uninstall
    run_worker()
    webhooks.post("shop/redact", {"shop_id": 548380009, "shop_domain": SHOP})
    run_worker()
    dump = database_dump(app)
    assert SHOP not in dump
    assert db().scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert shop_row() is None
    assert f"shop_id={shop_id}" not in dump


@pytest.mark.parametrize("change,status", [
    ({"hmac": "0" * 64}, 401),
    ({"hmac": None}, 401),
    ({"timestamp": str(int(time.time()) - 3600)}, 401),
    ({"timestamp": str(int(time.time()) + 3600)}, 401),
    ({"shop": "x.myshopify.com.evil.com"}, 400),
    ({"shop": "myshopify.com"}, 400),
    ({"shop": "x.myshopify.io"}, 400),
    ({"shop": "%0ax.myshopify.com"}, 400),
    ({"shop": None}, 400),
])
def test_install_refuses_bad_launch_queries_and_stores_nothing(app, browser, change, status):
    params = signed_query(shop=SHOP)
    for key, value in change.items():
        if value is None:
            params.pop(key)
        elif key == "shop":
            params = signed_query(shop=value)  # correctly signed, but not a shop
        else:
            params[key] = value
    response = browser.get(f"{browser.base}/auth/install", params=params, allow_redirects=False)
    assert response.status_code == status
    assert "<h1>" in response.text and "Set-Cookie" not in response.headers
    assert db().scalar(select(func.count()).select_from(Shop)) == 0


@pytest.mark.parametrize("domain,normalised", [("TEST-SHOP.myshopify.com", SHOP), ("https://test-shop.myshopify.com/", SHOP)])
def test_legitimate_shop_forms_are_normalised(app, browser, domain, normalised):
    response = browser.get(f"{browser.base}/auth/install", params=signed_query(shop=domain), allow_redirects=False)
    assert response.status_code == 302
    assert f"/shops/{normalised}/admin/oauth/authorize" in response.headers["Location"]


def test_callback_without_the_state_cookie_is_refused(app, fake_shopify, browser):
    code = fake_shopify.issue_code(SHOP, scopes=FULL_SCOPES)
    query = signed_query(code=code, shop=SHOP, state="made-up")
    response = browser.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False)
    assert response.status_code == 403
    assert shop_row() is None
    assert fake_shopify.calls(endpoint="token") == []  # the code was never spent


def test_callback_with_a_mismatched_state_is_refused(app, fake_shopify, browser):
    start_install(browser)
    code = fake_shopify.issue_code(SHOP, scopes=FULL_SCOPES)
    query = signed_query(code=code, shop=SHOP, state="not-the-nonce")
    assert browser.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False).status_code == 403
    assert shop_row() is None


@pytest.mark.parametrize("state", [None, ""])
def test_callback_without_a_state_parameter_is_refused(app, fake_shopify, browser, state):
    start_install(browser)  # the cookie is there; the callback's state is not
    params = {"code": fake_shopify.issue_code(SHOP, scopes=FULL_SCOPES), "shop": SHOP}
    if state is not None:
        params["state"] = state
    response = browser.get(f"{browser.base}/auth/callback", params=signed_query(**params), allow_redirects=False)
    assert response.status_code == 403
    assert shop_row() is None
    assert fake_shopify.calls(endpoint="token") == []


def test_callback_for_another_shop_than_the_cookies_is_refused(app, fake_shopify, browser):
    state = parse_qs(urlsplit(start_install(browser).headers["Location"]).query)["state"][0]
    other = "other-shop.myshopify.com"
    query = signed_query(code=fake_shopify.issue_code(other, scopes=FULL_SCOPES), shop=other, state=state)
    assert browser.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False).status_code == 403
    assert shop_row(other) is None


def test_callback_with_a_forged_hmac_is_refused(app, fake_shopify, browser):
    state = parse_qs(urlsplit(start_install(browser).headers["Location"]).query)["state"][0]
    query = signed_query(code=fake_shopify.issue_code(SHOP), shop=SHOP, state=state)
    query["code"] = "swapped-code"
    assert browser.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False).status_code == 401
    assert shop_row() is None


def test_a_replayed_callback_is_refused_and_spends_no_code(app, fake_shopify, browser):
    state = parse_qs(urlsplit(start_install(browser).headers["Location"]).query)["state"][0]
    cookie = browser.cookies.get("aftercare_oauth_state")
    query = signed_query(code=fake_shopify.issue_code(SHOP, scopes=FULL_SCOPES), shop=SHOP, state=state, host=HOST)
    first = browser.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False)
    assert first.status_code == 302
    token_calls = len(fake_shopify.calls(endpoint="token"))
    # The very same request again, state cookie included.
    replay = requests.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False,
                          cookies={"aftercare_oauth_state": cookie})
    assert replay.status_code == 403
    assert "already used" in replay.text
    assert len(fake_shopify.calls(endpoint="token")) == token_calls


def test_fewer_scopes_granted_than_needed_is_refused_naming_them(app, fake_shopify, browser):
    response, _ = install(browser, fake_shopify, scopes="read_orders,read_fulfillments")
    assert response.status_code == 403
    assert "write_orders" in response.text and "write_returns" in response.text
    assert shop_row() is None


@pytest.mark.parametrize("fault", ["fail", "garbage", "slow", "down"])
def test_token_endpoint_trouble_is_a_clear_error_and_stores_nothing(app, fake_shopify, browser, monkeypatch, fault):
    monkeypatch.setitem(app.config, "SHOPIFY_TIMEOUT", 0.5)
    redirect = urlsplit(start_install(browser).headers["Location"])
    state = parse_qs(redirect.query)["state"][0]
    query = signed_query(code=fake_shopify.issue_code(SHOP, scopes=FULL_SCOPES), shop=SHOP, state=state)
    if fault == "fail":
        fake_shopify.fail_next(1, status=500, endpoint="token")
    elif fault == "garbage":
        fake_shopify.garbage_next(1, endpoint="token")
    elif fault == "slow":
        fake_shopify.slow_next(1, seconds=1.5, endpoint="token")
    else:
        fake_shopify.stop()
    try:
        response = browser.get(f"{browser.base}/auth/callback", params=query, allow_redirects=False)
    finally:
        if fault == "down":
            fake_shopify.start()
    assert response.status_code == 502
    assert "try again" in response.text
    assert SECRET not in response.text
    assert shop_row() is None


def test_embedded_launch_without_a_token_gets_one_by_token_exchange(app, fake_shopify, browser):
    id_token = fake_shopify.session_token(SHOP)
    response = browser.get(f"{browser.base}/app", params={"shop": SHOP, "host": HOST, "embedded": "1", "id_token": id_token})
    assert response.status_code == 200
    assert f'<meta name="shopify-api-key" content="{API_KEY}">' in response.text
    assert "cdn.shopify.com/shopifycloud/app-bridge.js" in response.text
    policy = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert f"frame-ancestors https://{SHOP} https://admin.shopify.com" in policy
    shop = shop_row()
    assert shop.installed and shops.access_token(shop) in fake_shopify.live_tokens(SHOP)
    assert [c.params.get("grant_type") for c in fake_shopify.calls(endpoint="token")] == [
        "urn:ietf:params:oauth:grant-type:token-exchange"]


def test_embedded_launch_with_a_usable_token_exchanges_nothing(app, fake_shopify, shop, browser):
    response = browser.get(f"{browser.base}/app", params=signed_query(shop=SHOP, host=HOST, embedded="1"))
    assert response.status_code == 200
    assert fake_shopify.calls(endpoint="token") == []


def test_launch_without_session_token_and_without_install_goes_through_oauth(app, fake_shopify, browser):
    params = signed_query(shop=SHOP, host=HOST)
    response = browser.get(f"{browser.base}/app", params=params, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/install?")
    followed = browser.get(f"{browser.base}{response.headers['Location']}", allow_redirects=False)
    assert followed.status_code == 302 and "/admin/oauth/authorize" in followed.headers["Location"]


def test_launch_with_a_bad_session_token_is_refused(app, fake_shopify, browser):
    token = fake_shopify.session_token(SHOP, secret="shpss_someone_else_entirely_0000000000")
    response = browser.get(f"{browser.base}/app", params={"shop": SHOP, "id_token": token})
    assert response.status_code == 401
    assert shop_row() is None


def test_expiring_token_is_refreshed_before_it_lapses_and_the_new_refresh_token_kept(app, fake_shopify, browser):
    install(browser, fake_shopify)
    session = db()
    shop = shop_row()
    old_refresh = crypto.decrypt(app.config["SECRET_KEY"], shop.refresh_token)
    shop.access_token_expires_at = utcnow() + timedelta(minutes=1)  # inside the refresh margin
    session.commit()

    answer = shops.call_admin_api(session, shop, lambda client: client.graphql("query { shop { name } }"))
    assert "shop" in answer
    shop = shop_row()
    assert crypto.decrypt(app.config["SECRET_KEY"], shop.refresh_token) != old_refresh
    assert shop.access_token_expires_at > utcnow() + timedelta(minutes=30)
    assert [c.params.get("grant_type") for c in fake_shopify.calls(endpoint="token")][-1] == "refresh_token"


def test_a_revoked_token_is_refreshed_once_on_401(app, fake_shopify, browser):
    install(browser, fake_shopify)
    session = db()
    shop = shop_row()
    fake_shopify.revoke_token(shops.access_token(shop))
    answer = shops.call_admin_api(session, shop, lambda client: client.graphql("query { shop { name } }"))
    assert "shop" in answer
    assert shops.access_token(shop_row()) in fake_shopify.live_tokens(SHOP)
