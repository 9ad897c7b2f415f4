"""The storefront widget in a real headless Chromium: embedded by script tag
on the store's page, inside the theme through the app proxy, with the
keyboard only, without JavaScript, and checked by axe-core."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from plugin import settings
from plugin.help.models import Contact
from plugin.models import utcnow
from tests.conftest import db
from tests.notifications.orders import add_order

from .conftest import STORE

ANSWERS = [
    {"question": "When will my parcel arrive?", "answer": "Most parcels arrive within 3 days of shipping.", "states": []},
    {"question": "Can I change the delivery address?", "answer": "Write to us before it ships.", "states": []},
    {"question": "Do you ship abroad?", "answer": "Yes, to the EU and the UK.", "states": []},
    {"question": "How do returns work?", "answer": "Within 30 days, unworn.", "states": []},
]


def _shop_with_order(app, shop, **order):
    """The order (two items, placed five days ago: inside the return window) and the shop's help."""
    order.setdefault("start", utcnow() - timedelta(days=5))
    add_order(app, shop, **order)
    session = db()
    settings.update(session, shop, {"help.answers": ANSWERS, "help.support_email": "help@maison-ana.example",
                                    "branding.color": "#6d28d9"})
    session.commit()


def _find(page, order="1001", email="ana@example.com"):
    page.get_by_label("Order number").fill(order)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Find my order").click()


def test_look_up_an_order_and_read_its_timeline(app, shop, page):
    _shop_with_order(app, shop, parcels=2, status="out_for_delivery")
    page.goto(f"{STORE}/pages/track")
    page.evaluate("""window.heard = []; for (const name of ['aftercare-lookup', 'aftercare-order'])
        document.addEventListener(name, (e) => heard.push([e.type, e.bubbles, e.composed, e.detail.order]))""")
    _find(page, " #1001 ", "Ana@Example.com")
    heading = page.get_by_role("heading", name="Order #1001")
    heading.wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Order #1001"
    assert page.locator(".aftercare-live").text_content() == "Order #1001 found."
    parcels = page.locator(".aftercare-parcel")
    assert parcels.count() == 2
    assert parcels.first.locator("[aria-current=step]").text_content() == "Out for delivery"
    assert "Parcel 1 of 2" in parcels.first.text_content()
    history = parcels.first.locator("details")
    assert "Departed facility" in history.text_content() and "Paris, France" in history.text_content()
    link = parcels.first.get_by_role("link", name="1Z999AA10123456780")
    assert link.get_attribute("href").startswith("https://www.ups.com/")
    # Themed from the merchant's branding.
    color = page.locator(".aftercare-steps li.current").first.evaluate("e => getComputedStyle(e).borderTopColor")
    assert color == "rgb(109, 40, 217)"
    assert page.evaluate("heard") == [["aftercare-lookup", True, True, " #1001 "],
                                      ["aftercare-order", True, True, "#1001"]]
    # Taken out of the page, the element leaves no listener behind: its form no longer answers.
    page.evaluate("""() => { const w = document.querySelector('aftercare-widget'); w.remove();
        window.detached = w; w.querySelector('.aftercare-link').click() }""")
    assert page.evaluate("detached.querySelector('form.aftercare-lookup')") is None
    assert page.errors == []


def test_a_wrong_email_gets_one_message_and_the_form_back(app, shop, page):
    _shop_with_order(app, shop)
    page.goto(f"{STORE}/pages/track")
    _find(page, "1001", "eve@example.com")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "We could not find an order" in alert.text_content()
    assert page.evaluate("document.activeElement.name") == "order"
    assert "Ana" not in page.content()


def test_the_same_with_the_keyboard_only_inside_the_theme(app, shop, page):
    _shop_with_order(app, shop)
    page.goto(f"{STORE}/apps/aftercare/")
    page.locator("aftercare-widget form").wait_for()
    assert page.locator("aftercare-widget h1").text_content() == "Track your order"  # the page's main heading
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "order"
    page.keyboard.type("1001")
    page.keyboard.press("Tab")
    page.keyboard.type("ana@example.com")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "phone"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Find my order"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Order #1001").wait_for()
    assert page.evaluate("document.activeElement.textContent") == "Order #1001"
    # On through the parcel: its tracking link, its history, the returns, the help answers.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "1Z999AA10123456780"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Tracking history"
    page.keyboard.press("Enter")  # closes the open history
    assert page.locator(".aftercare-parcel details").first.get_attribute("open") is None
    # Past each item's "Request a return" (asking by keyboard has its own test) to the help answers.
    for _ in range(2):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Request a return"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id").endswith("-help-search")
    page.keyboard.type("ship abroad")
    answers = page.locator(".aftercare-answer:not([hidden])")
    assert answers.count() == 1 and answers.first.locator("summary").text_content() == "Do you ship abroad?"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert "EU and the UK" in answers.first.text_content() and answers.first.get_attribute("open") is not None
    # Still need help: a message to the store, by keyboard.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Still need help?"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("My parcel has not moved for days.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Thank you. The store has your message").wait_for()
    contact = db().scalars(select(Contact)).one()
    assert contact.message_length == len("My parcel has not moved for days.")
    # And back to the form for another order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Look up another order"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "order"
    assert page.errors == []


def test_the_plain_form_works_without_javascript(app, shop, page_without_js):
    page = page_without_js
    _shop_with_order(app, shop, status="delivered")
    page.goto(f"{STORE}/apps/aftercare/")
    _find(page)
    page.get_by_role("heading", name="Order #1001").wait_for()
    assert page.url == f"{STORE}/apps/aftercare/"
    assert page.locator("[aria-current=step]").first.text_content() == "Delivered"
    assert "Departed facility" in page.content()
    page.get_by_role("link", name="Look up another order").click()
    _find(page, "1001", "eve@example.com")
    assert "We could not find an order" in page.get_by_role("alert").text_content()


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context={"include": [["aftercare-widget"]]})
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_violations(app, shop, page):
    _shop_with_order(app, shop, parcels=2, status="attempted_delivery")
    page.goto(f"{STORE}/pages/track")
    page.locator("aftercare-widget form").wait_for()
    assert _serious(page) == []
    _find(page)
    page.get_by_role("heading", name="Order #1001").wait_for()
    assert page.locator(".aftercare-exception").first.text_content().startswith("The carrier tried to deliver")
    page.get_by_text("Still need help?").click()
    assert _serious(page) == []


def test_the_widget_speaks_the_pages_language(app, shop, page, storefront):
    storefront.lang = "fr"
    _shop_with_order(app, shop, locale="fr")
    page.goto(f"{STORE}/pages/track")
    page.get_by_label("Numéro de commande").fill("1001")
    page.get_by_label("E-mail").fill("ana@example.com")
    page.get_by_role("button", name="Trouver ma commande").click()
    page.get_by_role("heading", name="Commande #1001").wait_for()
    assert "Historique du suivi" in page.locator("aftercare-widget").text_content()
    page.get_by_role("button", name="Rechercher une autre commande").click()
    page.get_by_label("Numéro de commande").fill("1001")
    page.get_by_label("E-mail").fill("eve@example.com")
    page.get_by_role("button", name="Trouver ma commande").click()
    assert page.get_by_role("alert").text_content().startswith("Aucune commande ne correspond")


def test_inside_the_theme_the_widget_finds_the_proxy_from_the_pages_address(app, shop, page, storefront):
    _shop_with_order(app, shop)
    page.goto(f"{STORE}/apps/aftercare/")
    page.locator("aftercare-widget form").wait_for()
    # A bare element (as a theme section might hold) on a page under the proxy's prefix.
    page.evaluate("""() => { const w = document.createElement('aftercare-widget');
        document.querySelector('aftercare-widget').replaceWith(w) }""")
    _find(page)
    page.get_by_role("heading", name="Order #1001").wait_for()
