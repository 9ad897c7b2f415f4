"""Browser fixtures for the storefront widget: Debian's Chromium through
Playwright (nothing downloaded, `playwright install` never run), and a
stand-in for the store's site at https://test-shop.myshopify.com, answered
inside the browser:

- ``/pages/track`` is a page of the store embedding the widget by script tag;
- ``/apps/aftercare/…`` is Shopify's app proxy: the request is forwarded to
  the app's ``/proxy/…`` with the signed query Shopify adds (shop,
  logged_in_customer_id, path_prefix, timestamp, signature), cookies
  dropped, and an ``application/liquid`` answer is wrapped in the theme's
  layout as Shopify would render it.

Everything else leaving 127.0.0.1 is aborted. A screenshot of each test's
last page is kept under test-artifacts/browser/ (gitignored). SQLite only,
one browser per session: the fixtures of tests/browser/conftest.py.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tests.conftest import SHOP
from tests.widgets.conftest import proxy_query
from widgets.limits import limiter

from ..conftest import ARTIFACTS  # its chromium and backend fixtures apply here too

STORE = f"https://{SHOP}"
THEME = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Test shop</title>
<style>body{{margin:0;font:16px/1.5 Georgia,serif;color:#222}} header{{padding:16px 24px;border-bottom:1px solid #ddd;font-weight:700}}
main{{padding:16px 24px}}</style></head>
<body><header>Test shop</header><main>{body}</main></body></html>"""


class Storefront:
    """The store's site as the browser sees it (see the module docstring)."""

    def __init__(self, app_url: str, lang: str = "en"):
        self.app_url = app_url
        self.lang = lang
        self.customer = ""
        self.http = requests.Session()

    def route(self, route):
        url = urlsplit(route.request.url)
        if url.hostname == "127.0.0.1":
            return route.continue_()
        if url.netloc != SHOP:
            return route.abort()
        if url.path == "/pages/track":
            body = (f'<script src="{self.app_url}/widgets/aftercare.js" data-shop="{SHOP}" defer></script>'
                    "<h1>Track your order</h1><aftercare-widget></aftercare-widget>")
            return route.fulfill(status=200, content_type="text/html", body=THEME.format(lang=self.lang, body=body))
        if url.path.startswith("/apps/aftercare"):
            return self.proxy(route, url)
        return route.fulfill(status=404, body="not found")

    def proxy(self, route, url):
        request = route.request
        path = "/proxy" + (url.path[len("/apps/aftercare"):] or "/")
        query = proxy_query(customer=self.customer, extra=parse_qsl(url.query))
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "accept", "accept-language")}
        headers["X-Forwarded-For"] = "198.51.100.7"
        answer = self.http.request(request.method, f"{self.app_url}{path}?{query}", data=request.post_data_buffer,
                                   headers=headers, allow_redirects=False, timeout=10)
        content_type = answer.headers.get("Content-Type", "")
        body = answer.content
        if content_type.startswith("application/liquid"):
            body = THEME.format(lang=self.lang, body=answer.text).encode()
            content_type = "text/html; charset=utf-8"
        return route.fulfill(status=answer.status_code, body=body, content_type=content_type)


@pytest.fixture
def storefront(app, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "APP_URL", live_server)  # where the proxy page loads the script from
    return Storefront(live_server)


def _context(chromium, storefront, **options):
    context = chromium.new_context(viewport={"width": 1024, "height": 900}, locale="en-US", timezone_id="UTC",
                                   **options)
    context.set_default_timeout(5000)
    context.route("**/*", storefront.route)
    return context


def _page(context):
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


@pytest.fixture
def page(app, chromium, storefront, request):
    """A fresh page (English, UTC) whose console errors land in ``page.errors``."""
    limiter.reset()
    context = _context(chromium, storefront)
    page = _page(context)
    yield page
    screenshot(page, request.node.name)
    context.close()


@pytest.fixture
def page_without_js(app, chromium, storefront, request):
    context = _context(chromium, storefront, java_script_enabled=False)
    page = _page(context)
    yield page
    screenshot(page, request.node.name)
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.joinpath("browser").mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "browser" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
