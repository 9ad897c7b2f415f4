"""The settings pages in a real browser, opened through the signed link as in
the demo: saving, a refused value shown at its field, keyboard-only use, and
the page's own session token. SQLite only, like every browser test (see conftest)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from plugin import settings
from plugin.admin import tokens

from ..conftest import db
from .conftest import screenshot
from ..plugin.test_admin_api import token


def api_settings(client) -> dict:
    """The shop's settings, read back through the JSON API."""
    response = client.get("/api/admin/settings", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 200
    return response.json


def save(page, expected="Saved"):
    """Click Save and wait for the outcome (the page's CSP forbids string
    evaluation, so waiting goes through Playwright's own matchers)."""
    page.locator("form button[type=submit]").click()
    status = page.locator("[data-status]")
    expect(status).to_have_text(re.compile(r"^(?!.*…$).+"))
    return status.text_content()


def test_a_changed_setting_is_saved_and_shown_after_navigating(open_admin, page, client):
    open_admin("/app/settings/notifications")
    assert page.locator("h1").text_content() == "Notifications"
    page.locator("#f-notifications-delivered-email").uncheck()
    page.locator("#f-notifications-delayed-sms").check()
    page.get_by_label("Delay grace (hours)").fill("36")
    assert save(page) == "Saved"
    saved = api_settings(client)
    assert saved["notifications.delivered.email"] is False
    assert saved["notifications.delayed.sms"] is True
    assert saved["notifications.delay_grace_hours"] == 36

    page.get_by_role("navigation").get_by_role("link", name="Surveys").click()
    page.wait_for_url("**/app/settings/surveys?**")
    assert "id_token=" in page.url and "link=" not in page.url
    page.get_by_role("navigation").get_by_role("link", name="Notifications").click()
    page.wait_for_url("**/app/settings/notifications?**")
    assert not page.locator("#f-notifications-delivered-email").is_checked()
    assert page.get_by_label("Delay grace (hours)").input_value() == "36"
    assert page.errors == []


def test_saving_nothing_changed_says_so(open_admin, page, client):
    open_admin("/app/settings/branding")
    assert save(page) == "Nothing to save"


@pytest.mark.parametrize("locale, message", [
    (None, "must be from 0 to 720"),
    ("fr", "doit être compris entre 0 et 720"),
])
def test_a_refused_value_is_shown_at_its_field_and_focused(open_admin, page, client, shop, locale, message):
    open_admin("/app/settings/notifications", **({"locale": locale} if locale else {}))
    page.locator("#f-notifications-shipped-sms").check()
    field = page.locator("#f-notifications-delay-grace-hours")
    field.fill("9999")
    save(page)
    error = page.locator("#err-f-notifications-delay-grace-hours")
    assert error.is_visible() and error.text_content() == message
    assert field.get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "f-notifications-delay-grace-hours"
    assert "err-f-notifications-delay-grace-hours" in field.get_attribute("aria-describedby")
    assert settings.load(db(), shop) == settings.DEFAULTS  # the valid change was not saved either
    screenshot(page, f"refused-value-{locale or 'en'}")

    field.fill("48")
    assert save(page) == ("Saved" if locale is None else "Enregistré")
    assert not error.is_visible() and field.get_attribute("aria-invalid") is None
    assert api_settings(client)["notifications.shipped.sms"] is True


def test_the_settings_form_works_with_the_keyboard_alone(open_admin, page, client):
    open_admin("/app/settings/surveys")

    def tab_to(selector: str, limit: int = 40):
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    tab_to("input[value=nps]")
    page.keyboard.press("Space")
    tab_to("#f-survey-delay-hours")
    page.keyboard.press("Control+A")
    page.keyboard.type("72")
    tab_to("#f-survey-after-return")
    page.keyboard.press("Space")
    tab_to("button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-status]")).to_have_text("Saved")
    saved = api_settings(client)
    assert saved["survey.kinds"] == ["csat", "ces", "nps"]
    assert (saved["survey.delay_hours"], saved["survey.after_return"]) == (72, False)

    # and on to another page, still by keyboard
    page.keyboard.press("Shift+Tab")
    for _ in range(40):
        if page.evaluate("document.activeElement.textContent") == "Branding":
            break
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/app/settings/branding?**")
    assert page.locator("h1").text_content() == "Branding"
    assert page.errors == []


def test_help_answers_are_added_and_a_missing_answer_is_pointed_at(open_admin, page, client):
    open_admin("/app/settings/returns")
    page.get_by_role("button", name="Add an answer").click()
    assert page.evaluate("document.activeElement.dataset.part") == "question"
    page.keyboard.type("Where is my parcel?")
    save(page)
    answer = page.locator("[data-answer] textarea").first
    assert page.evaluate("document.activeElement.dataset.part") == "answer"
    assert answer.get_attribute("aria-invalid") == "true"
    assert "must not be empty" in page.locator("[data-part-field=answer] .field-error").first.text_content()

    screenshot(page, "help-answer-missing")
    answer.fill("Follow the tracking link in your shipping email.")
    page.locator("[data-answer] label", has_text="in transit").first.click()
    assert save(page) == "Saved"
    assert api_settings(client)["help.answers"] == [{
        "question": "Where is my parcel?", "answer": "Follow the tracking link in your shipping email.",
        "states": ["in_transit"], "locale": None}]


def test_markup_in_a_text_setting_is_shown_as_text(open_admin, page, client):
    markup = '<img src=x onerror="window.pwned=1">Shop'
    client.put("/api/admin/settings", json={"mail.from": markup}, headers={"Authorization": f"Bearer {token()}"})
    open_admin("/app/settings/branding")
    assert page.get_by_label("Sender name").input_value() == markup
    assert page.locator("img").count() == 0
    assert page.evaluate("window.pwned") is None


def test_the_page_renews_its_session_token_before_it_lapses(open_admin, page, client, monkeypatch):
    monkeypatch.setattr(tokens, "TOKEN_LIFETIME", 20)  # below the page's 30 s margin: renewed at once
    renewals = []
    page.on("request", lambda r: r.url.endswith("/api/admin/session-token") and renewals.append(r.method))
    open_admin("/app/settings/branding")
    page.get_by_label("Sender name").fill("Ada's Shop")
    assert save(page) == "Saved"
    assert renewals and set(renewals) == {"POST"}
    assert api_settings(client)["mail.from"] == "Ada's Shop"


def test_the_brand_colour_is_picked_shown_and_saved(open_admin, page, client):
    open_admin("/app/settings/branding")
    assert page.locator("output[for=f-branding-color]").text_content() == "#008060"
    page.get_by_label("Brand colour").fill("#aa3300")
    assert page.locator("output[for=f-branding-color]").text_content() == "#aa3300"
    assert save(page) == "Saved"
    assert api_settings(client)["branding.color"] == "#aa3300"
