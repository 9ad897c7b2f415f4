"""The returns queue, the email templates page and the outbox's Retry in a
real browser: deciding a return (mouse and keyboard only), a live preview
that follows what is typed, a broken template shown and not saved, and
axe-core with no serious or critical violations at 1280 and 360 px.
SQLite only, like every browser test (see conftest)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from plugin import settings
from plugin.models import Notification
from plugin.returns import ReturnAction, ReturnRequest, ReturnStatus

from ..conftest import SHOP, db
from ..plugin.returns.helpers import TOKEN, add_order, line_item_id, order_node, request
from .conftest import NARROW, WIDE, screenshot


@pytest.fixture
def made(app, shop, fake_shopify):
    """Two return requests waiting for a decision, one with markup in its notes."""
    fake_shopify.issue_token(SHOP, token=TOKEN)
    node = order_node(2)
    first = request(app, add_order(app, fake_shopify, node), [
        {"line_item_id": line_item_id(node, 1), "quantity": 1, "reason": "SIZE_TOO_SMALL",
         "note": "<img src=x onerror=alert(1)> too tight"},
    ], note="<b>please</b> hurry")
    other = order_node(6)
    second = request(app, add_order(app, fake_shopify, other),
                     [{"line_item_id": line_item_id(other, 0), "quantity": 1, "reason": "UNWANTED"}], key="k2")
    return {"#1002": first, "#1006": second}


def card(page, order: str):
    return page.locator("[data-return]").filter(has=page.get_by_role("heading", name=f"Order {order}"))


def stored(request_id: int) -> ReturnRequest:
    return db().get(ReturnRequest, request_id)


def test_approve_a_return_from_the_queue_and_see_its_status_change(open_admin, page, made):
    open_admin("/app/returns")
    first = card(page, "#1002")
    expect(first.locator("[data-status-badge]")).to_have_text("Requested")
    expect(first).to_contain_text("<img src=x onerror=alert(1)> too tight")  # shown as text
    expect(first).to_contain_text("<b>please</b> hurry")
    first.get_by_text("Approve…").click()
    first.get_by_label("Instructions for the customer (optional)").fill("Use the prepaid label.")
    first.get_by_role("button", name="Approve return").click()
    expect(first.locator("[data-status-badge]")).to_have_text("Approved")
    expect(first.locator("[data-return-status]")).to_have_text("Approved")
    expect(first.locator("[data-sync]")).to_have_text("Waiting to reach Shopify")
    expect(first.get_by_text("Approve…")).to_be_hidden()
    expect(first.get_by_role("button", name="Mark received")).to_be_visible()
    assert stored(made["#1002"]).state is ReturnStatus.APPROVED
    assert stored(made["#1002"]).instructions == "Use the prepaid label."
    assert [(a.action, a.actor) for a in db().scalars(select(ReturnAction))] == [("approve", "aftercare-link")]
    screenshot(page, "returns-approved")

    # After a reload the decision and its audit line are there.
    page.get_by_role("navigation", name="Filter by status").get_by_role("link", name="Approved").click()
    page.wait_for_url("**/app/returns?**status=approved**")
    expect(page.locator("[data-return]")).to_have_count(1)
    page.get_by_text("History").click()
    expect(page.locator(".history li")).to_contain_text("Approved · aftercare-link")
    assert page.errors == []


def test_decline_a_return_with_the_keyboard_only(open_admin, page, made):
    open_admin("/app/returns", status="requested")
    second = card(page, "#1006")
    summary = second.locator("summary", has_text="Decline…")
    summary.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the reason
    expect(second.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("ArrowDown")  # from Return period ended to Final sale
    page.keyboard.press("Tab")
    page.keyboard.type("Bought more than 30 days ago.")
    page.keyboard.press("Tab")
    expect(second.get_by_role("button", name="Decline return")).to_be_focused()
    page.keyboard.press("Enter")
    expect(second.locator("[data-status-badge]")).to_have_text("Declined")
    declined = stored(made["#1006"])
    assert (declined.state, declined.decline_note) == (ReturnStatus.DECLINED, "Bought more than 30 days ago.")
    assert declined.decline_reason == "FINAL_SALE"
    assert page.errors == []


def test_approving_a_return_already_approved_elsewhere_shows_the_error(open_admin, page, made, app):
    open_admin("/app/returns")
    from ..plugin.returns.helpers import act
    act(app, made["#1002"], "approve")  # another admin, a moment ago
    first = card(page, "#1002")
    first.get_by_text("Approve…").click()
    first.get_by_role("button", name="Approve return").click()
    expect(first.locator("[data-return-status]")).to_have_text(
        "Could not do it: The return request is already approved.")
    assert len(db().scalars(select(ReturnAction)).all()) == 1


def frame_text(page):
    return page.frame_locator("[data-preview-html]").locator("body")


def test_edit_a_template_see_the_preview_and_a_broken_one_is_not_saved(open_admin, page, shop):
    open_admin("/app/templates", kind="shipped", language="en")
    subject, body = page.get_by_label("Subject", exact=True), page.get_by_label("Text", exact=True)
    assert "{{ order_name }}" in subject.input_value()
    expect(frame_text(page)).to_contain_text("has shipped")

    subject.fill("Packed and sent: {{ order_name }}")
    body.fill("Dear {{ first_name }},\nyour parcel left {{ shop_name }} today.\n<script>document.title='x'</script>")
    expect(page.locator("[data-preview-subject]")).to_have_text("Packed and sent: #1001")
    expect(frame_text(page)).to_contain_text("your parcel left")
    expect(frame_text(page)).to_contain_text("<script>document.title='x'</script>")  # text, not a script
    page.get_by_role("button", name="Save").click()
    expect(page.locator("[data-status]")).to_have_text("Saved")
    assert settings.load(db(), shop)["templates.shipped.en"]["subject"] == "Packed and sent: {{ order_name }}"

    body.fill("Dear {{ first_name ")
    expect(page.locator("[data-template-error]")).to_contain_text("This template has an error")
    expect(page.locator("[data-preview-subject]")).to_have_text("Your order #1001 is on its way")  # the default
    screenshot(page, "template-error")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#err-t-body")).to_be_visible()
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(body).to_be_focused()
    assert settings.load(db(), shop)["templates.shipped.en"]["body"].startswith("Dear {{ first_name }},")  # unchanged

    page.get_by_role("button", name="Reset to default").click()
    expect(page.locator("[data-status]")).to_have_text("Default restored")
    assert "templates.shipped.en" not in settings.load(db(), shop)
    expect(page.locator("[data-preview-subject]")).to_have_text("Your order #1001 is on its way")
    assert [e for e in page.errors if "status of 422" not in e] == []  # the refused save is logged


def test_choose_another_message_and_language(open_admin, page, shop):
    open_admin("/app/templates")
    page.get_by_label("Message").select_option("delivered")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Open").click()
    page.wait_for_url("**kind=delivered**")
    expect(page.locator("h2#editor-title")).to_have_text("Delivered · German")
    assert "id_token=" in page.url
    assert page.errors == []


def test_retry_a_failed_message_in_the_outbox(open_admin, page, shop):
    session = db()
    failed = Notification(shop_id=shop, kind="shipped", channel="email", recipient="ada@example.com",
                          dedupe_key="f", status="failed", attempts=6, error="gave up")
    session.add(failed)
    session.commit()
    open_admin("/app/outbox")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator("[data-retry-status]")).to_have_text("Queued to be sent again")
    expect(page.locator(".badge").first).to_have_text("pending")
    assert db().get(Notification, failed.id).status == "pending"
    assert page.errors == []


@pytest.mark.parametrize("path", ["/app/returns", "/app/templates"])
def test_the_new_pages_pass_axe_at_both_widths(open_admin, page, made, path):
    open_admin(path)
    if path == "/app/returns":
        card(page, "#1002").get_by_text("Decline…").click()  # an open form too
    else:
        page.get_by_label("Text", exact=True).fill("{{ nope }}")
        expect(page.locator("[data-template-error]")).to_be_visible()
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
