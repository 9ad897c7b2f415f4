"""Rendering outbox rows: every kind, as email and SMS, in English and one
other language, against golden files; headers; escaping; erased orders.

Golden files (golden/<kind>.<locale>.{subject,txt,sms}) hold what the
pinned Babel version writes; signed tokens, which carry a timestamp, are
replaced by <token>. UPDATE_GOLDEN=1 rewrites them (then read the diff)."""

from __future__ import annotations

import os
import re
from email.utils import parseaddr
from pathlib import Path

import pytest
from sqlalchemy import delete

from plugin import links, mail, settings
from plugin.models import Notification, Order, Setting, Shop
from plugin.notifications import render_email, render_sms
from plugin.notifications.kinds import SHIPPING_KINDS, Kind
from tests.conftest import db

from .orders import add_notification, add_order

GOLDEN = Path(__file__).parent / "golden"
OTHER = {"order_confirmed": "fr", "shipped": "de", "out_for_delivery": "es", "delivered": "fr",
         "attempted_delivery": "de", "ready_for_pickup": "es", "delivery_failed": "fr", "delayed": "de"}
STATUS = {"order_confirmed": None, "shipped": "in_transit", "out_for_delivery": "out_for_delivery",
          "delivered": "delivered", "attempted_delivery": "attempted_delivery",
          "ready_for_pickup": "ready_for_pickup", "delivery_failed": "failure", "delayed": "in_transit"}
# The return kinds have golden files of their own: test_return_render.py.
CASES = [(kind.value, locale) for kind in SHIPPING_KINDS for locale in ("en", OTHER[kind.value])]


def _tokens(text: str) -> str:
    return re.sub(r"/([tu])/[A-Za-z0-9_.\-]+", r"/\1/<token>", text)


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual)
    assert actual == path.read_text(), f"{name} differs from its golden file"


def _queue(app, shop, kind: str, locale: str, **order) -> int:
    parcels = 0 if kind == "order_confirmed" else 2 if kind == "shipped" else 1
    order_id, fulfillments = add_order(app, shop, locale=locale, parcels=parcels, status=STATUS[kind], **order)
    context = {}
    if fulfillments:
        context = {"fulfillment_id": fulfillments[-1], "parcel": len(fulfillments), "parcels": len(fulfillments)}
    if kind == "delayed":
        context["reason"] = "stalled"
    return add_notification(app, shop, order_id, kind, context)


def _render(shop_id: int, notification_id: int):
    session = db()
    return render_email(session, session.get(Shop, shop_id), session.get(Notification, notification_id))


@pytest.mark.parametrize("kind,locale", CASES)
def test_each_kind_renders_as_its_golden_files(app, shop, kind, locale):
    notification_id = _queue(app, shop, kind, locale)
    message = _render(shop, notification_id)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    _golden(f"{kind}.{locale}.subject", message["Subject"] + "\n")
    _golden(f"{kind}.{locale}.txt", _tokens(text))
    session = db()
    sms = render_sms(session, session.get(Shop, shop), session.get(Notification, notification_id))
    _golden(f"{kind}.{locale}.sms", _tokens(sms) + "\n")
    assert len(sms) < 320
    # The HTML part says the same, styled inline, with the tracking button.
    assert message["Subject"] and "<style" not in html and 'style="' in html
    assert re.search(r'<a class="button" href="http://127.0.0.1:8000/t/[^"]+"', html)
    assert f'lang="{locale}"' in html


def test_the_message_is_in_the_shops_zone_and_the_orders_language(app, shop):
    notification_id = _queue(app, shop, "delivered", "de-AT")
    text = _render(shop, notification_id).get_body(("plain",)).get_content()
    # Delivered 2026-11-04 17:00 UTC = 18:00 in Paris, written the German way.
    assert "04.11.2026, 18:00" in text
    assert "Ihre Bestellung #1001 wurde am" in text


def test_headers_name_the_shop_and_offer_one_click_unsubscribe(app, shop):
    session = db()
    settings.update(session, shop, {"mail.from": "Maison Ana Paris", "mail.reply_to": "help@maison-ana.example"})
    session.commit()
    message = _render(shop, _queue(app, shop, "shipped", "en"))
    name, address = parseaddr(str(message["From"]))
    assert (name, address) == ("Maison Ana Paris", "no-reply@localhost")
    assert str(message["Reply-To"]) == "help@maison-ana.example"
    assert message["To"] is None
    assert re.fullmatch(r"<[^<>@\s]+@localhost>", str(message["Message-ID"]))
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(https?://[^>]+/u/([^>]+))>", str(message["List-Unsubscribe"]))
    assert unsubscribe
    assert links.load("unsubscribe", unsubscribe.group(2)) == {
        "shop_id": shop, "address": "ana@example.com", "category": "shipping"}
    assert message.get_content_type() == "multipart/alternative"


def test_without_a_sender_name_the_shops_name_is_used(app, shop):
    message = _render(shop, _queue(app, shop, "shipped", "en"))
    assert parseaddr(str(message["From"]))[0] == "Maison Ana"
    assert message["Reply-To"] is None


def test_a_first_name_with_markup_is_escaped_in_html(app, shop):
    notification_id = _queue(app, shop, "shipped", "en", first_name='<script>alert(1)</script>')
    message = _render(shop, notification_id)
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;," in html
    assert "Hi <script>alert(1)</script>," in message.get_body(("plain",)).get_content()  # text is text


def test_non_latin_names_travel_through_real_smtp(app, shop, smtp):
    session = db()
    settings.update(session, shop, {"mail.from": "東京ストア"})
    session.commit()
    message = _render(shop, _queue(app, shop, "out_for_delivery", "en", first_name="Дмитрий"))
    message["To"] = "ana@example.com"
    mail.send(app.config["SMTP_URL"], message)
    [received] = smtp.messages
    assert received["From"].addresses[0].display_name == "東京ストア"
    assert "Hi Дмитрий," in received.get_body(("plain",)).get_content()
    assert "Hi Дмитрий," in received.get_body(("html",)).get_content()
    assert received["Subject"] == "Your order #1001 is out for delivery"
    assert str(received["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"


def test_an_order_erased_in_between_is_a_lookup_error(app, shop):
    notification_id = _queue(app, shop, "shipped", "en")
    session = db()
    notification = session.get(Notification, notification_id)
    session.expunge(notification)  # the worker holds the row it claimed
    session.execute(delete(Order).where(Order.shop_id == shop))
    session.commit()
    with pytest.raises(LookupError, match="erased"):
        render_email(db(), db().get(Shop, shop), notification)


def test_a_merchant_template_is_used_in_its_language_only(app, shop):
    session = db()
    settings.update(session, shop, {"templates.shipped.fr": {
        "subject": "Colis {{ order_name }} parti !",
        "body": "Coucou {{ first_name }},\n\nSuivi : {{ tracking_url }}\n{{ carrier }} {{ tracking_number }}"}})
    session.commit()
    french = _render(shop, _queue(app, shop, "shipped", "fr", first_name="Zoé <b>"))
    assert french["Subject"] == "Colis #1001 parti !"
    text = french.get_body(("plain",)).get_content()
    assert text.startswith("Coucou Zoé <b>,\n\nSuivi : http")
    assert "UPS 1Z999AA10123456781" in text
    html = french.get_body(("html",)).get_content()
    assert "Coucou Zoé &lt;b&gt;,<br>" in html and '<a href="http' in html
    session = db()
    session.execute(delete(Order))
    session.commit()
    english = _render(shop, _queue(app, shop, "shipped", "en", shopify_id=555))
    assert english["Subject"] == "Parcel 2 of 2 of your order #1001 is on its way"


def test_a_merchant_template_failing_at_send_time_falls_back_and_is_recorded(app, shop, caplog):
    # Saved before the checks existed (so not through settings.update).
    session = db()
    session.add(Setting(shop_id=shop, key="templates.delivered.en",
                        value={"subject": "Hi {{ first_name", "body": "{{ tracking_url }}"}))
    session.commit()
    notification_id = _queue(app, shop, "delivered", "en", first_name="Zelda")
    session = db()
    message = render_email(session, session.get(Shop, shop), session.get(Notification, notification_id))
    session.commit()
    assert message["Subject"] == "Your order #1001 has been delivered"
    assert "subject" in db().get(Notification, notification_id).context["template_error"]
    assert "template delivered.en failed, default used" in caplog.text
    assert "Zelda" not in caplog.text and "ana@example.com" not in caplog.text


def test_the_shops_branding_is_in_the_html(app, shop):
    session = db()
    settings.update(session, shop, {"branding.color": "#7A3E9D", "branding.logo_url": "https://cdn.example/logo.png"})
    session.commit()
    html = _render(shop, _queue(app, shop, "delivered", "en")).get_body(("html",)).get_content()
    assert re.search(r'<img class="logo"[^>]* src="https://cdn.example/logo.png"', html)
    assert "background: #7a3e9d" in html  # the bar and the button, inlined
