"""Browser tests: the admin pages in a real headless Chromium (Playwright).

Debian's chromium (`apt-get install chromium`) is launched directly; nothing
is downloaded (`playwright install` is never run). One browser serves the
whole session, each test gets a fresh context and page. There is no network:
App Bridge's CDN script is answered by a small local stub, and every other
request that leaves 127.0.0.1 is aborted. A screenshot of each test's last
page is saved under ``test-artifacts/browser/`` (gitignored; CI can keep it).

These tests run on SQLite only: the pages read and write through the same
functions the HTTP tests exercise on both databases, and one browser run is
what keeps them fast.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("AFTERCARE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 # The admin.shopify.com of the tests is answered inside the browser but framing
                 # 127.0.0.1 from it counts as a public site reaching the local network.
                 "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
                 "PrivateNetworkAccessForNavigations"]
ARTIFACTS = Path(os.environ.get("AFTERCARE_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 360, "height": 780}

# What the page needs of App Bridge outside the Shopify admin: nothing but
# its presence (the page uses shopify.idToken() only when framed by Shopify).
APP_BRIDGE_STUB = "window.shopify = window.shopify || { idToken: function () { return Promise.reject(new Error('not embedded')); } };"


def pytest_collection_modifyitems(config, items):
    """Browser tests run on SQLite only (see the module docstring): their
    PostgreSQL runs are deselected here. Overriding the session-scoped
    ``backend`` fixture instead would leave its SQLite app cached for the
    PostgreSQL tests collected after this folder."""
    here = Path(__file__).parent
    dropped = [item for item in items
               if here in item.path.parents and getattr(item, "callspec", None) is not None
               and item.callspec.params.get("backend") == "postgresql"]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        # As with PostgreSQL: skipped on a machine without it, an error under CI.
        message = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _route(route):
    url = route.request.url
    if url.startswith("https://cdn.shopify.com/shopifycloud/app-bridge.js"):
        route.fulfill(status=200, content_type="text/javascript", body=APP_BRIDGE_STUB)
    elif urlsplit(url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(app, chromium, live_server, request):
    """A fresh page (1280 px wide, English, UTC) that records console errors
    in ``page.errors``; a screenshot of where it ended is saved after the test."""
    context = chromium.new_context(viewport=WIDE, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(5000)
    context.route("**/*", _route)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    screenshot(page, request.node.name)
    context.close()


def screenshot(page, name: str) -> Path:
    """Save the whole page as test-artifacts/browser/<name>.png."""
    ARTIFACTS.joinpath("browser").mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "browser" / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def open_admin(page, live_server, shop):
    """Opens an admin page through the signed link `aftercare demo` prints."""
    from plugin.admin import admin_url

    def go(path: str = "/app/home", **query: str):
        parts = urlsplit(admin_url("test-shop.myshopify.com", path))
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        page.goto(f"{live_server}{parts.path}?{parts.query}{extra}")
        page.wait_for_load_state("load")
        return page

    return go
