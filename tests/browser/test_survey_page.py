"""The survey answer page in a real browser: the one-click score posts itself
(its script allowed by the CSP nonce), the rest is answered by keyboard on a
phone-sized screen, a visitor without JavaScript confirms with one button;
axe-core finds nothing serious at 1280 and 360 px. SQLite only (see conftest)."""

from __future__ import annotations

import re

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from plugin import links
from plugin.db import worker_session
from plugin.models import Order, Shop, utcnow
from plugin.surveys import SurveyResponse, invite, mark_sent

from ..conftest import db
from ..notifications.orders import add_order
from .conftest import CHROMIUM_ARGS, NARROW, WIDE, _route, screenshot  # noqa: F401


@pytest.fixture
def survey_url(app, shop, live_server):
    def make(score=4, question="csat", locale="en", kinds=("csat", "ces")):
        order_id, _ = add_order(app, shop, status="delivered", locale=locale)
        with worker_session(app) as session, session.begin():
            made = invite(session, session.get(Shop, shop), session.get(Order, order_id), touchpoint="delivery",
                          kinds=list(kinds), due_at=utcnow(), locale=locale)
            mark_sent(made)
            session.flush()
            invitation_id = made.id
        token = links.dumps("survey", shop_id=shop, invitation_id=invitation_id, question=question, score=score)
        return f"{live_server}/s/{token}"
    return make


def answers(shop: int) -> list[tuple[str, int, str | None]]:
    db().expire_all()
    return [(r.kind, r.score, r.comment) for r in db().scalars(
        select(SurveyResponse).where(SurveyResponse.shop_id == shop).order_by(SurveyResponse.kind))]


def test_one_click_then_the_rest_by_keyboard_on_a_phone(page, shop, survey_url):
    page.set_viewport_size(NARROW)
    page.goto(survey_url(score=2))
    expect(page.get_by_role("status")).to_have_text("Thank you! Your answer is saved.")
    assert answers(shop) == [("csat", 2, None)]
    expect(page.locator('input[name="csat"][value="2"]')).to_be_checked()
    screenshot(page, "survey-after-one-click-360")

    # Keyboard only: into the CES group, arrow to 6, then the comment, then Send.
    page.locator('input[name="csat"][value="2"]').focus()
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")  # the first radio of an unanswered group is focused: 1, then 2
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.locator('input[name="ces"][value="6"]')).to_be_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "comment"
    page.keyboard.type("Box arrived <b>crushed</b>")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Thank you for your feedback!")
    assert answers(shop) == [("ces", 6, None), ("csat", 2, "Box arrived <b>crushed</b>")]
    expect(page.locator("#comment")).to_have_value("Box arrived <b>crushed</b>")
    assert page.errors == []  # no CSP violation, no script error
    screenshot(page, "survey-form-360")


def test_without_javascript_one_button_confirms(chromium, shop, survey_url):
    context = chromium.new_context(viewport=WIDE, locale="fr-FR", java_script_enabled=False)
    context.set_default_timeout(5000)
    context.route("**/*", _route)
    page = context.new_page()
    try:
        page.goto(survey_url(score=9, question="nps", locale="fr", kinds=("nps",)))
        expect(page.locator('li[aria-current="true"]')).to_contain_text("9")
        assert answers(shop) == []  # opening the link is not an answer
        screenshot(page, "survey-confirm-nojs-fr")
        page.get_by_role("button", name="Confirmer ma réponse").click()
        expect(page.get_by_role("status")).to_have_text("Merci ! Votre réponse est enregistrée.")
        assert answers(shop) == [("nps", 9, None)]
    finally:
        context.close()


@pytest.mark.parametrize("size", [WIDE, NARROW], ids=["1280", "360"])
def test_axe_finds_nothing_serious(page, shop, survey_url, size):
    """axe runs as a script, so the page keeps JavaScript: the confirm step is
    its HTML as served, without the line that posts it; the form is the page
    the post leads to."""
    page.set_viewport_size(size)
    url = survey_url(score=10, question="nps", kinds=("nps", "csat"))
    confirm = requests.get(url, timeout=10).text
    assert confirm.count("<script") == 1
    page.set_content(re.sub(r"<script nonce=[^>]*>.*?</script>", "", confirm, flags=re.S))
    _check(page, "confirm", size)
    page.goto(url)
    expect(page.get_by_role("status")).to_have_text("Thank you! Your answer is saved.")
    _check(page, "form", size)
    assert answers(shop) == [("nps", 10, None)]


def _check(page, step: str, size: dict) -> None:
    results = Axe().run(page)
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
               for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], (step, serious)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], f"{step} scrolls sideways at {size['width']} px ({width} px wide)"
    screenshot(page, f"survey-{step}-{size['width']}")
