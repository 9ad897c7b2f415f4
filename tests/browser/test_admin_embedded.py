"""The admin framed by the Shopify admin: App Bridge's session token on every
call, and no framing by anyone else. admin.shopify.com and App Bridge are
played by routes answered inside the browser. SQLite only, like every
browser test (see conftest)."""

from __future__ import annotations

import json
import re
import time

from playwright.sync_api import expect

from plugin import settings

from ..conftest import API_KEY, SECRET, SHOP, db
from ..fake_shopify import make_session_token

HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvdGVzdC1zaG9w"  # admin.shopify.com/store/test-shop


def frame_from(page, parent: str, src: str):
    """Open ``parent`` (answered here) holding the app in an iframe at ``src``."""
    html = f'<!doctype html><title>Shopify admin</title><iframe src="{src}" width="1200" height="800"></iframe>'
    page.route(f"{parent}**", lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page.goto(parent)
    page.wait_for_load_state("load")
    return page.frames[1]


def app_bridge_issuing(page, token: str):
    """App Bridge as seen from inside the admin: shopify.idToken() resolves to ``token``."""
    stub = f"window.shopify = {{ idToken: function () {{ return Promise.resolve({json.dumps(token)}); }} }};"
    page.route("https://cdn.shopify.com/**", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=stub))


def test_inside_the_shopify_admin_every_call_carries_app_bridges_token(page, live_server, shop):
    issued = make_session_token(API_KEY, SECRET, SHOP, expires_in=600)
    app_bridge_issuing(page, issued)
    sent = []
    page.on("request", lambda r: "/api/admin/" in r.url and sent.append(r.headers.get("authorization")))
    launch = make_session_token(API_KEY, SECRET, SHOP)
    frame = frame_from(page, "https://admin.shopify.com/store/test-shop/apps/aftercare",
                       f"{live_server}/app?shop={SHOP}&host={HOST}&embedded=1&id_token={launch}")
    frame.get_by_role("navigation").get_by_role("link", name="Branding").click()
    frame.wait_for_url(re.compile(r".*/app/settings/branding\?.*"))
    assert f"id_token={issued}" in frame.url
    frame.get_by_label("Sender name").fill("Framed Shop")
    frame.locator("form button[type=submit]").click()
    expect(frame.locator("[data-status]")).to_have_text("Saved")
    assert sent == [f"Bearer {issued}"]
    assert settings.get(db(), shop, "mail.from") == "Framed Shop"


def test_no_other_site_may_frame_the_admin(page, live_server, shop):
    launch = make_session_token(API_KEY, SECRET, SHOP)
    frame = frame_from(page, "https://evil.example/", f"{live_server}/app/home?id_token={launch}")
    # The parent's load event can come before the refused frame commits its error page.
    deadline = time.monotonic() + 10
    while not frame.url and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert frame.url.startswith("chrome-error://")
    assert frame.locator(".nav").count() == 0  # the error page, not the admin
