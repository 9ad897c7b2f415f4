"""The Order timeline and Health pages in a real browser, by keyboard alone:
search an order and read its timeline; replay a failed webhook delivery and
see it processed; axe-core at 1280 and 360 px. SQLite only (see conftest)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from plugin import visits
from plugin.models import Notification, Order, WebhookDelivery

from ..conftest import db, load_payload
from ..plugin.test_admin_health import fail_once
from .conftest import NARROW, WIDE, screenshot


def tab_to(page, selector: str, limit: int = 40):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.fixture
def order(shop, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
    event = load_payload("fulfillment_event_create")
    event["message"] = "Departed facility <b>bold?</b>"
    webhooks.post("fulfillment_events/create", event)
    run_worker()
    session = db()
    order_id = session.scalar(select(Order.id).where(Order.shop_id == shop))
    session.add(Notification(shop_id=shop, order_id=order_id, kind="shipped", channel="email",
                             recipient="ada@example.com", dedupe_key="b1", status="failed", attempts=5,
                             error="SMTP 550: mailbox unavailable"))
    session.commit()
    visits.record(db(), shop, order_id, visits.Surface.TRACKING_PAGE)  # the shopper tapped the tracking link


def test_an_order_is_searched_and_its_timeline_read_by_keyboard(open_admin, page, order):
    open_admin("/app/orders")
    tab_to(page, "#order-query")
    page.keyboard.type(" # 1001 ")
    page.keyboard.press("Enter")
    page.wait_for_url("**/app/orders?**q=**")
    assert "id_token=" in page.url and "link=" not in page.url
    expect(page.locator("#order-title")).to_contain_text("#1001")
    entries = page.locator(".timeline > li")
    texts = entries.all_text_contents()
    assert "Order placed" in texts[0]
    assert any("In transit" in t and "Departed facility <b>bold?</b>" in t for t in texts)
    assert any("orders/create" in t and "processed" in t for t in texts)
    assert any("Shipped · Email" in t and "SMTP 550" in t for t in texts)
    assert "Viewed on the tracking page" in texts[-1]  # the newest: the shopper's visit a moment ago
    screenshot(page, "order-timeline-1001")

    tab_to(page, "#order-query")
    page.keyboard.press("Control+A")
    page.keyboard.type("1234")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=1234**")
    expect(page.locator("#not-found")).to_have_text("No order #1234")
    assert page.errors == []


def test_a_failed_delivery_is_replayed_and_processed(open_admin, page, client, shop, webhooks, run_worker,
                                                     monkeypatch):
    delivery = fail_once(monkeypatch, webhooks, run_worker)
    open_admin("/app/health")
    row = page.locator(f"tr[data-delivery='{delivery.id}']")
    expect(row.locator("[data-delivery-status]")).to_have_text("failed")
    screenshot(page, "health-failed")
    tab_to(page, f"button[data-replay='{delivery.id}']")
    page.keyboard.press("Enter")
    expect(page.locator("[data-status]")).to_have_text(f"Delivery {delivery.id}: processed")
    expect(row.locator("[data-delivery-status]")).to_have_text("processed")
    assert row.locator("[data-delivery-error]").text_content() == ""
    assert db().get(WebhookDelivery, delivery.id).status == "processed"

    run_worker()  # drains whatever the replay queued; nothing is left failed or waiting
    page.reload()
    expect(page.locator(".empty")).to_have_text("No failed deliveries.")
    assert "0 pending" in page.locator("#inbox-title + .state").text_content()
    screenshot(page, "health-after-replay")
    open_admin("/app/orders", q="1001")
    expect(page.locator(".entry-webhook")).to_contain_text("processed")
    assert page.errors == []


@pytest.mark.parametrize("path, query", [("/app/orders", {"q": "1001"}), ("/app/orders", {"q": "1234"}),
                                         ("/app/health", {})])
def test_the_pages_pass_axe_at_both_widths(open_admin, page, order, shop, webhooks, run_worker, monkeypatch,
                                           path, query):
    fail_once(monkeypatch, webhooks, run_worker, topic="fulfillments/create", payload="fulfillment_create",
              error="KeyError: 'tracking_numbers' — a very long error message that must wrap on a narrow screen")
    open_admin(path, **query)
    for name, size in (("1280", WIDE), ("360", NARROW)):
        page.set_viewport_size(size)
        screenshot(page, f"{path.strip('/').replace('/', '-')}-{'-'.join(query.values()) or 'page'}-{name}")
        results = Axe().run(page)
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
                   for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{path} scrolls sideways at {name} px ({width} px wide)"
