"""Previews and test sends, as functions and as `aftercare notifications …`."""

from __future__ import annotations

import pytest

from plugin import settings
from plugin.models import Order, Shop
from plugin.notifications import preview, send_test
from tests.conftest import SHOP, db

from .orders import add_order


def test_a_preview_of_the_sample_order_needs_no_orders(app, shop):
    message = preview(db(), db().get(Shop, shop), "out_for_delivery", locale="es")
    assert message["subject"] == "Tu pedido #1001 está en reparto"
    assert "Hola, Ana:" in message["text"] and "1 × Linen shirt (M)" in message["text"]
    assert "Hola, Ana:" in message["html"] and "/t/" in message["html"]


def test_a_preview_of_a_real_order_uses_its_language_and_parcels(app, shop):
    add_order(app, shop, locale="de", first_name="Jürgen", parcels=2)
    session = db()
    order = session.query(Order).filter_by(shop_id=shop).one()
    message = preview(session, session.get(Shop, shop), "shipped", order=order)
    assert message["subject"] == "Paket 2 von 2 Ihrer Bestellung #1001 ist unterwegs"
    assert "Hallo Jürgen," in message["text"]


def test_a_preview_shows_a_template_being_edited(app, shop):
    session = db()
    message = preview(session, session.get(Shop, shop), "delivered", locale="en",
                      override={"subject": "Arrived: {{ order_name }}", "body": "Enjoy, {{ first_name }}!"})
    assert message["subject"] == "Arrived: #1001"
    assert "Enjoy, Ana!" in message["text"] and message["template_error"] is None


def test_send_test_mails_one_message_to_the_given_address(app, shop, smtp):
    session = db()
    settings.update(session, shop, {"mail.from": "Maison Ana"})
    session.commit()
    sent = send_test(db(), db().get(Shop, shop), "delayed", "me@example.com", locale="fr")
    [received] = smtp.messages
    assert received["To"] == "me@example.com"
    assert received["Subject"] == "[Test] Votre commande #1001 est retardée" == sent["Subject"]
    assert received["From"].addresses[0].display_name == "Maison Ana"


def test_cli_preview_prints_subject_text_and_sms(app, shop, runner):
    add_order(app, shop, locale="fr")
    result = runner("notifications", "preview", "--shop", SHOP, "shipped", "--order", "1001")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Subject: Votre commande #1001 est en route\n\nBonjour Ana,")
    assert "SMS: Maison Ana : votre commande #1001 a été expédiée." in result.output
    html = runner("notifications", "preview", "--shop", SHOP, "shipped", "--locale", "en", "--html")
    assert html.exit_code == 0 and "<!DOCTYPE html>" in html.output and 'lang="en"' in html.output


@pytest.mark.parametrize("args,message", [
    (["--shop", "nowhere.myshopify.com", "shipped"], "no shop nowhere.myshopify.com"),
    (["--shop", SHOP, "teleported"], "'teleported' is not one of 'order_confirmed'"),
    (["--shop", SHOP, "shipped", "--order", "#9999"], "no order #9999"),
    (["--shop", SHOP, "shipped", "--locale", "pt"], "Invalid value for '--locale'"),
])
def test_cli_preview_says_what_is_wrong(app, shop, runner, args, message):
    result = runner("notifications", "preview", *args)
    assert result.exit_code != 0 and message in result.output


def test_cli_send_test(app, shop, runner, smtp):
    result = runner("notifications", "send-test", "--shop", SHOP, "delivered", "--to", "me@example.com")
    assert result.exit_code == 0, result.output
    assert "sent '[Test] Your order #1001 has been delivered' to me@example.com" in result.output
    assert [m["To"] for m in smtp.messages] == ["me@example.com"]


def test_cli_send_test_without_a_mail_server(app, shop, runner, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", None)
    result = runner("notifications", "send-test", "--shop", SHOP, "delivered", "--to", "me@example.com")
    assert result.exit_code == 1 and "AFTERCARE_SMTP_URL is not set" in result.output
