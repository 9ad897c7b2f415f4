"""Every admin page at 1280 and 360 px: screenshots to look at, and axe-core's
accessibility check with no serious or critical violations.

SQLite only, like every browser test (see conftest)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from plugin.models import Notification

from ..conftest import db
from .conftest import NARROW, WIDE, screenshot

PAGES = ["/app/home", "/app/settings/notifications", "/app/settings/surveys", "/app/settings/returns",
         "/app/settings/branding", "/app/outbox", "/app/orders", "/app/health"]


@pytest.fixture
def outbox_rows(shop):
    session = db()
    session.add_all([
        Notification(shop_id=shop, kind="shipped", channel="email", recipient="ada@example.com",
                     dedupe_key="a", status="sent", attempts=1),
        Notification(shop_id=shop, kind="delayed", channel="sms", recipient="+33612345678", dedupe_key="b",
                     status="failed", attempts=5, error="SMTP 550: mailbox unavailable <script>x</script>"),
    ])
    session.commit()


@pytest.mark.parametrize("path", PAGES)
def test_each_page_passes_axe_at_both_widths(open_admin, page, path, outbox_rows):
    open_admin(path)
    for name, size in (("1280", WIDE), ("360", NARROW)):
        page.set_viewport_size(size)
        screenshot(page, f"{path.strip('/').replace('/', '-')}-{name}")
        results = Axe().run(page)
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
                   for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{path} scrolls sideways at {name} px ({width} px wide)"
    assert page.errors == []
