"""Asking for a return in a real headless Chromium: with the widget embedded
by script tag, with the keyboard only inside the theme, without JavaScript,
in French, and checked by axe-core. Screenshots of each step are kept under
test-artifacts/browser/."""

from __future__ import annotations

from sqlalchemy import select

from plugin import settings
from plugin.returns import ReturnRequest
from tests.conftest import db

from .conftest import STORE, screenshot
from .test_widget import _find, _serious, _shop_with_order


def _stored() -> list[tuple[str, list[tuple[int, str, str | None]]]]:
    return [(r.status, [(i.quantity, i.reason, i.note) for i in r.items])
            for r in db().scalars(select(ReturnRequest).order_by(ReturnRequest.id))]


def _tote(page):
    """The Canvas tote's entry in the widget's returns section (bought 2)."""
    return page.locator(".aftercare-returnable > li").filter(has_text="Canvas tote")


def test_look_up_ask_for_a_return_and_see_its_status(app, shop, page):
    _shop_with_order(app, shop, status="delivered")
    page.goto(f"{STORE}/pages/track")
    page.evaluate("""window.heard = []; document.addEventListener('aftercare-return',
        (e) => heard.push([e.bubbles, e.composed, e.detail.order, e.detail.status]))""")
    _find(page)
    returns = page.locator(".aftercare-returns")
    returns.get_by_role("heading", name="Returns").wait_for()
    assert "Returnable until" in _tote(page).text_content()
    screenshot(page, "returns-1-order")
    tote = _tote(page)
    tote.get_by_text("Request a return").click()
    tote.get_by_label("Quantity").select_option("2")
    tote.get_by_label("Reason").select_option(label="Damaged or defective")
    tote.get_by_label("Note (optional)").fill("The strap tore on the first day. <b>not bold</b>")
    screenshot(page, "returns-2-form")
    tote.get_by_role("button", name="Send return request").click()
    badge = returns.locator(".aftercare-badge")
    badge.wait_for()
    assert badge.text_content() == "Requested"
    request = returns.locator(".aftercare-request")
    assert "2 × Canvas tote · Damaged or defective" in request.text_content()
    assert request.locator(".aftercare-muted").text_content() == "The strap tore on the first day. <b>not bold</b>"
    assert "The store will review your request and email you its answer." in request.text_content()
    assert page.locator(".aftercare-live").text_content() == (
        "Your return request was sent. Status: Requested. The store will review your request and email you its answer.")
    assert page.evaluate("document.activeElement.className") == "aftercare-request-title"
    assert "Already in a return request or refunded." in _tote(page).text_content()
    assert _tote(page).get_by_text("Request a return").count() == 0
    assert _stored() == [("requested", [(2, "DEFECTIVE", "The strap tore on the first day. <b>not bold</b>")])]
    assert page.evaluate("heard") == [[True, True, "#1001", "requested"]]
    screenshot(page, "returns-3-requested")
    # A later visit shows it with its status.
    page.goto(f"{STORE}/pages/track")
    _find(page)
    page.locator(".aftercare-badge").wait_for()
    assert page.locator(".aftercare-badge").text_content() == "Requested"
    assert page.errors == []


def test_a_refusal_says_what_to_fix_and_keeps_the_form(app, shop, page):
    _shop_with_order(app, shop)
    page.goto(f"{STORE}/pages/track")
    _find(page)
    tote = _tote(page)
    tote.get_by_text("Request a return").click()
    tote.get_by_label("Reason").select_option(label="Wrong item received")
    session = db()  # meanwhile the merchant stops offering that reason
    settings.update(session, shop, {"returns.reasons": ["SIZE_TOO_SMALL", "OTHER"]})
    session.commit()
    tote.get_by_role("button", name="Send return request").click()
    alert = tote.get_by_role("alert")
    alert.wait_for()
    assert alert.text_content() == "Choose a reason from the list."
    assert page.evaluate("document.activeElement.id").endswith("-reason")
    assert _stored() == []
    # Fresh reasons come with the order's view; the widget never offers what the shop does not.
    page.get_by_role("button", name="Look up another order").click()
    _find(page)
    _tote(page).get_by_text("Request a return").click()
    assert sorted(_tote(page).get_by_label("Reason").locator("option").all_text_contents()) == ["Other", "Too small"]


def test_asking_for_a_return_with_the_keyboard_only(app, shop, page):
    _shop_with_order(app, shop)
    page.goto(f"{STORE}/apps/aftercare/")
    page.locator("aftercare-widget form").wait_for()
    page.keyboard.press("Tab")
    page.keyboard.type("1001")
    page.keyboard.press("Tab")
    page.keyboard.type("ana@example.com")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Order #1001").wait_for()
    for expected in ("1Z999AA10123456780", "Tracking history", "Request a return"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == expected
    page.keyboard.press("Tab")  # the tote's
    assert page.evaluate("document.activeElement.textContent") == "Request a return"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.labels[0].textContent") == "Quantity"
    page.keyboard.press("ArrowDown")  # 2
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.labels[0].textContent") == "Reason"
    page.keyboard.press("ArrowDown")  # Too large
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.labels[0].textContent") == "Note (optional)"
    page.keyboard.type("Both too large.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Send return request"
    page.keyboard.press("Enter")
    page.locator(".aftercare-badge").wait_for()
    assert page.evaluate("document.activeElement.className") == "aftercare-request-title"
    assert _stored() == [("requested", [(2, "SIZE_TOO_LARGE", "Both too large.")])]
    # Focus goes on from the new request to what is still returnable.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Request a return"
    assert page.errors == []


def test_asking_for_a_return_without_javascript(app, shop, page_without_js):
    page = page_without_js
    _shop_with_order(app, shop, status="delivered")
    page.goto(f"{STORE}/apps/aftercare/")
    _find(page)
    page.get_by_role("heading", name="Returns").wait_for()
    tote = page.locator(".aftercare-returnable > li").filter(has_text="Canvas tote")
    tote.get_by_text("Request a return").click()
    tote.get_by_label("Quantity").select_option("1")
    tote.get_by_label("Reason").select_option(label="No longer wanted")
    tote.get_by_role("button", name="Send return request").click()
    page.get_by_role("status").wait_for()
    assert page.get_by_role("status").text_content() == "Your return request was sent."
    assert page.url == f"{STORE}/apps/aftercare/returns#aftercare-returns"  # scrolled to the answer
    request = page.locator(".aftercare-request")
    assert "Requested" in request.text_content() and "1 × Canvas tote · No longer wanted" in request.text_content()
    assert _stored() == [("requested", [(1, "UNWANTED", None)])]
    # The one left can still be asked for; the page says until when.
    assert "Returnable until" in page.locator(".aftercare-returnable > li").filter(has_text="Canvas tote").text_content()


def test_axe_finds_no_serious_violations_in_the_returns(app, shop, page):
    _shop_with_order(app, shop, status="delivered")
    page.goto(f"{STORE}/pages/track")
    _find(page)
    _tote(page).get_by_text("Request a return").click()
    assert _serious(page) == []
    _tote(page).get_by_role("button", name="Send return request").click()
    page.locator(".aftercare-badge").wait_for()
    assert _serious(page) == []


def test_the_returns_speak_the_pages_language(app, shop, page, storefront):
    storefront.lang = "fr"
    _shop_with_order(app, shop, locale="fr")
    page.goto(f"{STORE}/pages/track")
    page.get_by_label("Numéro de commande").fill("1001")
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_role("button", name="Trouver ma commande").click()
    page.get_by_role("heading", name="Retours").wait_for()
    tote = _tote(page)
    tote.get_by_text("Demander un retour").click()
    tote.get_by_label("Motif").select_option(label="Trop petit")
    tote.get_by_role("button", name="Envoyer la demande de retour").click()
    page.locator(".aftercare-badge").wait_for()
    assert page.locator(".aftercare-badge").text_content() == "Demandée"
    assert "Retour demandé le" in page.locator(".aftercare-request").text_content()


def test_on_a_returns_page_the_returns_come_first(app, shop, page):
    _shop_with_order(app, shop, status="delivered")
    page.goto(f"{STORE}/apps/aftercare/")
    page.evaluate("""() => { const w = document.createElement('aftercare-widget');
        w.setAttribute('intent', 'returns'); document.querySelector('aftercare-widget').replaceWith(w) }""")
    assert page.locator("aftercare-widget .aftercare-title").text_content() == "Return an item"
    _find(page)
    page.get_by_role("heading", name="Returns").wait_for()
    sections = page.locator(".aftercare-result > section").evaluate_all("s => s.map((e) => e.className)")
    assert sections[:2] == ["aftercare-returns", "aftercare-parcel"]
    screenshot(page, "returns-page-intent")
