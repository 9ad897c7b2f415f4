"""Rendering survey invitations: after a delivery and after a return, in
English and another language, against golden files (see test_render.py:
UPDATE_GOLDEN=1 rewrites them); one signed link per score; the unsubscribe
is from surveys only."""

from __future__ import annotations

import re

import pytest

from plugin import links, settings
from plugin.db import worker_session
from plugin.models import Notification, Order, Shop, utcnow
from plugin.notifications import preview, render_email, render_sms
from plugin.surveys import invite
from tests.conftest import db

from .orders import add_notification, add_order
from .test_render import _golden

CASES = [("delivery", "en", ["csat", "ces"]), ("delivery", "fr", ["csat", "ces"]),
         ("delivery", "de", ["nps"]), ("return", "en", ["ces"]), ("return", "es", ["ces"])]


def _tokens(text: str) -> str:
    return re.sub(r"/([tus])/[A-Za-z0-9_.\-]+", r"/\1/<token>", text)


def _queue(app, shop_id: int, touchpoint: str, locale: str, kinds: list[str]) -> tuple[int, int]:
    order_id, _ = add_order(app, shop_id, locale=locale, status="delivered")
    with worker_session(app) as session, session.begin():
        made = invite(session, session.get(Shop, shop_id), session.get(Order, order_id), touchpoint=touchpoint,
                      kinds=kinds, due_at=utcnow(), locale=locale)
        invitation_id = made.id
    return add_notification(app, shop_id, order_id, "survey", {"invitation_id": invitation_id}), invitation_id


def _render(shop_id: int, notification_id: int):
    session = db()
    return render_email(session, session.get(Shop, shop_id), session.get(Notification, notification_id))


@pytest.mark.parametrize("touchpoint,locale,kinds", CASES)
def test_each_invitation_renders_as_its_golden_files(app, shop, touchpoint, locale, kinds):
    notification_id, _ = _queue(app, shop, touchpoint, locale, kinds)
    message = _render(shop, notification_id)
    name = f"survey_{touchpoint}.{locale}"
    _golden(f"{name}.subject", message["Subject"] + "\n")
    _golden(f"{name}.txt", _tokens(message.get_body(("plain",)).get_content()))
    session = db()
    sms = render_sms(session, session.get(Shop, shop), session.get(Notification, notification_id))
    _golden(f"{name}.sms", _tokens(sms) + "\n")
    html = message.get_body(("html",)).get_content()
    assert f'lang="{locale}"' in html and "<style" not in html


def test_every_score_is_its_own_signed_link_in_both_parts(app, shop):
    notification_id, invitation_id = _queue(app, shop, "delivery", "en", ["nps", "csat"])
    message = _render(shop, notification_id)
    for part in ("plain", "html"):
        body = message.get_body((part,)).get_content()
        tokens = list(dict.fromkeys(re.findall(r"/s/([A-Za-z0-9_.\-]+)", body)))
        fields = [links.load("survey", t) for t in tokens]
        assert fields == [{"shop_id": shop, "invitation_id": invitation_id, "question": "nps", "score": s}
                          for s in range(0, 11)], part
    html = message.get_body(("html",)).get_content()
    assert len(re.findall(r'<a class="point"[^>]* href="http://127.0.0.1:8000/s/', html)) == 11
    assert "Follow your order" not in html  # the scale is the one call to action


def test_the_unsubscribe_is_from_surveys_only(app, shop):
    message = _render(shop, _queue(app, shop, "delivery", "en", ["csat"])[0])
    token = re.fullmatch(r"<https?://[^>]+/u/([^>]+)>", str(message["List-Unsubscribe"])).group(1)
    assert links.load("unsubscribe", token) == {"shop_id": shop, "address": "ana@example.com", "category": "surveys"}
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert "Stop surveys" in message.get_body(("html",)).get_content()


def test_a_merchant_template_keeps_the_scale(app, shop):
    session = db()
    settings.update(session, shop, {"templates.survey.en": {
        "subject": "A quick question about {{ order_name }}", "body": "Hi {{ first_name }}, one click please!"}})
    session.commit()
    message = _render(shop, _queue(app, shop, "delivery", "en", ["csat"])[0])
    assert message["Subject"] == "A quick question about #1001"
    text = message.get_body(("plain",)).get_content()
    assert text.startswith("Hi Ana, one click please!")
    assert len(re.findall(r"/s/", text)) == 5


def test_the_admin_preview_shows_a_sample_survey(app, shop):
    session = db()
    shown = preview(session, session.get(Shop, shop), "survey", locale="de")
    assert shown["subject"] == "Wie war Ihre Bestellung #1001?"
    assert "Wie zufrieden sind Sie mit Ihrer Bestellung?" in shown["text"]
