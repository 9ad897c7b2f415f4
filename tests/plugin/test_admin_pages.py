"""The admin pages over HTTP: who may open them, what they send with them
(frame-ancestors, script nonces, a session token), the signed link of the
demo and the renewal of the page's own session token."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from plugin import settings
from plugin.admin import admin_url, tokens
from plugin.models import Notification

from ..conftest import API_KEY, SECRET, SHOP, db
from ..fake_shopify import make_session_token
from .test_admin_api import token, unsigned

OTHER = "other-shop.myshopify.com"
PAGES = ["/app/home", "/app/settings/notifications", "/app/settings/surveys", "/app/settings/returns",
         "/app/settings/branding", "/app/outbox", "/app/orders", "/app/health"]


def link_path(shop=SHOP, page="/app/home") -> str:
    parts = urlsplit(admin_url(shop, page))
    return f"{parts.path}?{parts.query}"


def page_token(html: str) -> str:
    return re.search(r'"token": "([^"]+)"', html).group(1)


def call(client, settings_change):
    """Change the shop's settings through the API."""
    client.put("/api/admin/settings", json=settings_change, headers={"Authorization": f"Bearer {token()}"})


def test_admin_url_is_a_link_to_this_app(app, shop):
    url = admin_url(SHOP)
    assert url.startswith(f"{app.config['APP_URL']}/app/home?")
    assert parse_qs(urlsplit(url).query)["shop"] == [SHOP]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_opens_from_the_signed_link_with_its_security_headers(client, shop, path):
    response = client.get(link_path(page=path))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    policy = [d.strip() for d in response.headers["Content-Security-Policy"].split(";")]
    assert f"frame-ancestors https://{SHOP} https://admin.shopify.com" in policy
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    scripts = re.findall(r"<script\b[^>]*>", html)
    executable = [s for s in scripts if 'type="application/json"' not in s]
    assert executable and all(f'nonce="{nonce}"' in s for s in executable)
    # App Bridge: the api key, then its script before any other.
    assert html.index(f'<meta name="shopify-api-key" content="{API_KEY}">') < html.index("<script")
    assert 'src="https://cdn.shopify.com/shopifycloud/app-bridge.js"' in scripts[0]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    claims = tokens.decode(page_token(html))
    assert claims["shop"] == SHOP and claims["exp"] - time.time() <= tokens.TOKEN_LIFETIME


def test_the_pages_token_calls_the_api(client, shop):
    bearer = page_token(client.get(link_path()).get_data(as_text=True))
    response = client.get("/api/admin/settings", headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200


@pytest.mark.parametrize("case", ["no credentials", "forged link", "expired link", "link of another shop",
                                  "alg none id_token", "expired id_token", "bad hmac"])
def test_a_page_without_valid_credentials_is_refused(client, shop, monkeypatch, case):
    now = int(time.time())
    good = parse_qs(urlsplit(admin_url(SHOP)).query)["link"][0]
    query = {
        "no credentials": f"shop={SHOP}",
        "forged link": f"shop={SHOP}&link={good[:-3]}abc",
        "expired link": f"shop={SHOP}&link={good}",
        "link of another shop": f"shop={OTHER}&link={good}",
        "alg none id_token": f"id_token={unsigned()}",
        "expired id_token": f"id_token={token(exp=now - 60, nbf=now - 120, iat=now - 120)}",
        "bad hmac": f"shop={SHOP}&timestamp={now}&hmac={'0' * 64}",
    }[case]
    if case == "expired link":
        monkeypatch.setattr(tokens, "LINK_MAX_AGE", -1)
    call(client, settings_change={"mail.from": "Secret Sender"})
    response = client.get(f"/app/settings/branding?{query}")
    assert response.status_code == 401
    assert "Secret Sender" not in response.get_data(as_text=True)
    assert "Content-Security-Policy" not in response.headers or "nonce" not in response.headers["Content-Security-Policy"]


def test_another_shops_id_token_shows_that_shops_settings_only(client, shop, runner):
    runner("shops", "add", OTHER, "--token", "t")
    call(client, {"mail.from": "Test Shop Sender"})
    other = make_session_token(API_KEY, SECRET, OTHER)
    html = client.get(f"/app/settings/branding?id_token={other}").get_data(as_text=True)
    assert "Test Shop Sender" not in html
    assert tokens.decode(page_token(html))["shop"] == OTHER


def test_a_page_of_a_shop_that_is_not_installed_is_403(client, app):
    assert client.get(f"/app/home?id_token={token()}").status_code == 403


def test_an_unknown_settings_page_is_404(client, shop):
    assert client.get(link_path(page="/app/settings/nope")).status_code == 404


def test_markup_in_settings_and_outbox_errors_is_shown_escaped(client, shop):
    call(client, {"mail.from": '<img src=x onerror="alert(1)">Shop'})
    html = client.get(link_path(page="/app/settings/branding")).get_data(as_text=True)
    assert 'value="&lt;img src=x onerror=&#34;alert(1)&#34;&gt;Shop"' in html
    assert "<img src=x" not in html
    session = db()
    session.add(Notification(shop_id=shop, kind="shipped", channel="email", recipient="<b>ada</b>@example.com",
                             dedupe_key="k", status="failed", error="<script>alert(1)</script>"))
    session.commit()
    html = client.get(link_path(page="/app/outbox")).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "&lt;b&gt;ada&lt;/b&gt;" in html


def test_pages_speak_the_admin_users_locale(client, shop):
    html = client.get(link_path(page="/app/settings/notifications") + "&locale=fr").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Enregistrer" in html and "Heures calmes" in html
    html = client.get(link_path(page="/app/settings/surveys") + "&locale=de-AT").get_data(as_text=True)
    assert "Speichern" in html and "Umfragearten" in html
    html = client.get(link_path(page="/app/settings/returns") + "&locale=pt-BR").get_data(as_text=True)
    assert '<html lang="en">' in html and "Save" in html


def test_settings_pages_show_the_shops_values(client, shop):
    call(client, {"notifications.delay_grace_hours": 36, "returns.window_starts": "fulfilled",
                  "survey.kinds": ["nps"]})
    html = client.get(link_path(page="/app/settings/notifications")).get_data(as_text=True)
    assert re.search(r'id="f-notifications-delay-grace-hours"[^>]*value="36"', html, re.S)
    html = client.get(link_path(page="/app/settings/returns")).get_data(as_text=True)
    assert '<option value="fulfilled" selected>' in html


def test_the_outbox_page_is_paginated(client, shop):
    session = db()
    session.add_all([Notification(shop_id=shop, kind="shipped", channel="email", recipient=f"c{i}@example.com",
                                  dedupe_key=str(i)) for i in range(51)])
    session.commit()
    first = client.get(link_path(page="/app/outbox")).get_data(as_text=True)
    assert "c50@example.com" in first and "c0@example.com" not in first and "Page 1 of 2" in first
    second = client.get(link_path(page="/app/outbox") + "&page=2").get_data(as_text=True)
    assert "c0@example.com" in second and "c50@example.com" not in second


# --- the page's own session token -------------------------------------------

def refresh(client, bearer):
    return client.post("/api/admin/session-token", headers={"Authorization": f"Bearer {bearer}"})


def test_a_minted_token_is_renewed_while_it_is_valid(client, shop):
    bearer = page_token(client.get(link_path()).get_data(as_text=True))
    response = refresh(client, bearer)
    assert response.status_code == 200
    renewed = response.json["token"]
    assert renewed != bearer and tokens.decode(renewed)["shop"] == SHOP
    assert tokens.decode(renewed)["link_iat"] == tokens.decode(bearer)["link_iat"]
    assert client.get("/api/admin/settings", headers={"Authorization": f"Bearer {renewed}"}).status_code == 200


def test_a_session_that_began_too_long_ago_is_not_renewed(client, shop):
    with client.application.test_request_context():
        old = tokens.mint(SHOP, session_started=int(time.time()) - tokens.LINK_SESSION_MAX_AGE - 60)
    assert refresh(client, old).status_code == 401


def test_app_bridge_tokens_are_not_renewed_here(client, shop):
    assert refresh(client, token()).status_code == 401
