"""`aftercare demo` as a newcomer runs it: the real command, its printed admin
link opened in Chromium, and a shopper's return worked to closed in the
returns queue, each decision reaching the demo's stand-in Shopify."""

from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import expect

from plugin.demo.scenario import DEMO_SHOP, MAYA

from ..plugin.test_demo import Demo, demo_env, free_port
from .conftest import WIDE, _route, screenshot


def in_shopify(page, card, shopify_status: str) -> None:
    """Reload until the worker has passed the decision to the stand-in, and
    the queue shows the status the stand-in answered (bounded)."""
    wanted = f"In Shopify ({shopify_status})"
    deadline = time.monotonic() + 15
    while card.locator("[data-sync]").inner_text().strip() != wanted and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    expect(card.locator("[data-sync]")).to_have_text(wanted)


def test_a_newcomer_works_a_return_to_closed_from_the_printed_admin_link(chromium, tmp_path):
    demo = Demo(free_port(), demo_env(tmp_path), cwd=tmp_path)
    context = chromium.new_context(viewport=WIDE, locale="en-US", timezone_id="UTC")
    try:
        with requests.Session() as http:
            demo.wait_for_final_states(http)
            # Maya asks, from the storefront's widget API, to return her two pairs of socks.
            query = f"?shop={DEMO_SHOP}"
            found = http.post(f"{demo.base}/widgets/api/lookup{query}", timeout=10,
                              json={"order": MAYA.name, "email": MAYA.customer.email})
            asked = http.post(f"{demo.base}/widgets/api/returns{query}", timeout=10, json={
                "token": found.json()["token"],
                "items": [{"line_item_id": str(MAYA.line_item_id(1)), "quantity": 2, "reason": "UNWANTED"}]})
            assert asked.status_code == 201, asked.text
        admin = re.search(r"Admin \(signed link\): (\S+)", demo.output).group(1)

        context.set_default_timeout(5000)
        context.route("**/*", _route)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(admin)
        page.get_by_role("link", name="Returns queue").click()
        card = page.locator("[data-return]").filter(has=page.get_by_role("heading", name=f"Order {MAYA.name}"))
        expect(card.locator("[data-status-badge]")).to_have_text("Requested")
        in_shopify(page, card, "REQUESTED")  # the request itself was created in the stand-in

        card.get_by_text("Approve…").click()
        card.get_by_role("button", name="Approve return").click()
        expect(card.locator("[data-status-badge]")).to_have_text("Approved")
        in_shopify(page, card, "OPEN")
        for button, status, shopify_status in (("Mark received", "Received", "OPEN"),
                                               (re.compile("refund", re.I), "Refunded", "OPEN"),
                                               ("Close", "Closed", "CLOSED")):
            card.get_by_role("button", name=button).click()
            expect(card.locator("[data-status-badge]")).to_have_text(status)
            in_shopify(page, card, shopify_status)
        screenshot(page, "demo-return-closed")
        assert errors == []
        assert not [line for line in demo.lines if line.startswith("  !")]  # no scenario step failed
        assert "not passed to Shopify" not in demo.output
    finally:
        context.close()
        demo.interrupt()
        demo.close()
