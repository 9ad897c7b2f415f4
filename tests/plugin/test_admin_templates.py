"""The email templates page's API: previews of a template being typed (for
the sample order or a real one), test sends through a real SMTP sink, and
saving through PUT /api/admin/settings, where a template that does not
render is refused by name and never saved. Also the outbox's Retry."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from plugin import settings
from plugin.models import Notification

from ..conftest import SHOP, db, load_payload
from .test_admin_api import token
from .test_admin_pages import link_path
from .test_admin_settings import OTHER, call, other_shop  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("shop")


def preview(client, bearer=None, **body):
    return call(client, "POST", "/api/admin/notifications/preview", bearer or token(), json=body)


def test_a_preview_of_the_sample_order_with_the_text_being_typed(client):
    response = preview(client, kind="delivered", locale="fr", subject="Arrivé : {{ order_name }}",
                       body="Bonne journée, {{ first_name }} !\n<b>à bientôt</b>")
    assert response.status_code == 200
    shown = response.json
    assert shown["subject"] == "Arrivé : #1001" and shown["template_error"] is None
    assert "Bonne journée, Ana !" in shown["text"]
    assert "&lt;b&gt;à bientôt&lt;/b&gt;" in shown["html"] and "<b>à bientôt</b>" not in shown["html"]
    assert shown["sms"] and shown["locale"] == "fr"
    assert settings.load(db(), 1).get("templates.delivered.fr") is None  # a preview saves nothing


def test_without_subject_and_body_the_default_is_previewed(client):
    shown = preview(client, kind="shipped", locale="de").json
    assert shown["subject"] == "Ihre Bestellung #1001 ist unterwegs" and shown["template_error"] is None


def test_a_preview_of_a_real_order(client, webhooks, run_worker):
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    shown = preview(client, kind="order_confirmed", locale="en", order="#1001", subject="Thanks {{ first_name }}",
                    body="Hello").json
    assert shown["subject"].startswith("Thanks") and shown["template_error"] is None
    missing = preview(client, kind="shipped", locale="en", order="#9999", subject="x", body="y")
    assert missing.status_code == 404 and missing.json["field"] == "order"


@pytest.mark.parametrize("subject, body, words", [
    ("Hi", "{{ first_name ", "body: "),
    ("{% if %}", "ok", "subject: "),
    ("Hi", "{{ ''.__class__.__mro__ }}", "__' is not a placeholder"),
    ("Hi", "{{ cycler.__init__.__globals__ }}", "body: "),
    ("Hi", "{{ secret_key }}", "no placeholder 'secret_key'"),
    ("Hi", "{% for i in range(10) %}{% for j in range(10) %}x{% endfor %}{% endfor %}", "a loop inside a loop"),
])
def test_a_template_that_fails_shows_its_error_and_the_default(client, subject, body, words):
    response = preview(client, kind="shipped", locale="en", subject=subject, body=body)
    assert response.status_code == 200
    shown = response.json
    assert words in shown["template_error"]
    assert shown["subject"] == "Your order #1001 is on its way"  # what would go out instead
    assert "object" not in shown["text"] and "mro" not in shown["html"]


@pytest.mark.parametrize("body, field, status", [
    ({"kind": "nope", "locale": "en"}, "kind", 422),
    ({"kind": "shipped", "locale": "pt"}, "locale", 422),
    ({"kind": "shipped", "locale": "en", "subject": 5, "body": "x"}, "subject", 422),
    ({"kind": "shipped", "locale": "en", "subject": "x", "body": "y" * 50_001}, "body", 422),
    ({"kind": "shipped", "locale": "en", "order": 7, "subject": "x", "body": "y"}, "order", 404),
])
def test_bad_preview_input_is_refused_by_field(client, body, field, status):
    response = preview(client, **body)
    assert response.status_code == status and response.json["field"] == field


def test_a_preview_needs_a_json_object_and_a_session_token(client):
    assert call(client, "POST", "/api/admin/notifications/preview", token(), json=["shipped"]).status_code == 400
    assert call(client, "POST", "/api/admin/notifications/preview", None,
                json={"kind": "shipped"}).status_code == 401


def test_another_shops_order_is_not_previewed(client, webhooks, run_worker, other_shop):  # noqa: F811
    webhooks.post("orders/create", load_payload("order_create"))
    run_worker()
    theirs = token(dest=f"https://{OTHER}", iss=f"https://{OTHER}/admin")
    response = preview(client, theirs, kind="shipped", locale="en", order="#1001", subject="x", body="y")
    assert response.status_code == 404


def test_a_broken_template_is_not_saved_and_names_its_field(client, shop):
    response = call(client, "PUT", "/api/admin/settings", token(),
                    json={"templates.shipped.en": {"subject": "Hi", "body": "{{ ''.__class__.__mro__ }}"}})
    assert response.status_code == 422 and response.json["field"] == "templates.shipped.en.body"
    assert "templates.shipped.en" not in settings.load(db(), shop)


def test_a_saved_template_is_previewed_and_reset_to_default(client, shop):
    saved = {"subject": "Shipped: {{ order_name }}", "body": "On its way, {{ first_name }}."}
    assert call(client, "PUT", "/api/admin/settings", token(), json={"templates.shipped.es": saved}).status_code == 200
    assert preview(client, kind="shipped", locale="es").json["subject"] == "Shipped: #1001"
    assert call(client, "PUT", "/api/admin/settings", token(), json={"templates.shipped.es": None}).status_code == 200
    assert preview(client, kind="shipped", locale="es").json["subject"] == "Tu pedido #1001 está en camino"


def test_the_page_starts_from_the_default_written_with_placeholders(client):
    html = client.get(link_path(page="/app/templates") + "&kind=delivered&language=fr").get_data(as_text=True)
    assert "{{ order_name }}" in html and 'sandbox=""' in html and "srcdoc=" in html
    assert 'value="delivered" selected' in html and 'value="fr" selected' in html


def test_the_page_shows_a_saved_template_escaped(client, shop):
    call(client, "PUT", "/api/admin/settings", token(),
         json={"templates.delayed.en": {"subject": "Late <i>again</i>", "body": "Sorry </textarea><script>x()</script>"}})
    html = client.get(link_path(page="/app/templates") + "&kind=delayed&language=en").get_data(as_text=True)
    assert "</textarea><script>x()" not in html and "&lt;/textarea&gt;&lt;script&gt;x()" in html
    assert "Late <i>again</i>" not in html


# --- test send -------------------------------------------------------------------

def send_test(client, bearer=None, **body):
    return call(client, "POST", "/api/admin/notifications/test", bearer or token(), json=body)


def test_a_test_send_mails_the_template_to_the_address(client, smtp):
    response = send_test(client, kind="shipped", locale="fr", to="owner@example.com")
    assert response.status_code == 200
    [message] = smtp.messages
    assert message["To"] == "owner@example.com"
    assert message["Subject"].startswith("[Test] Votre commande #1001")


def test_without_a_mail_server_a_test_send_is_503(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", None)
    response = send_test(client, kind="shipped", locale="en", to="owner@example.com")
    assert response.status_code == 503 and "mail server" in response.json["error"]


@pytest.mark.parametrize("body, field", [
    ({"kind": "shipped", "locale": "en", "to": "not an address"}, "to"),
    ({"kind": "shipped", "locale": "en", "to": "a@example.com\r\nBcc: x@example.com"}, "to"),
    ({"kind": "shipped", "locale": "en"}, "to"),
    ({"kind": "refund", "locale": "en", "to": "a@example.com"}, "kind"),
])
def test_a_bad_test_send_is_refused_and_nothing_sent(client, smtp, body, field):
    response = send_test(client, **body)
    assert response.status_code == 422 and response.json["field"] == field
    assert smtp.messages == []


def test_a_mail_server_refusing_is_502(client, smtp):
    smtp.refuse_with = "550 no such user"
    response = send_test(client, kind="shipped", locale="en", to="owner@example.com")
    assert response.status_code == 502 and response.json["error"]


# --- outbox retry ---------------------------------------------------------------

@pytest.fixture
def outbox(shop, other_shop):  # noqa: F811
    session = db()
    rows = [Notification(shop_id=shop, kind="shipped", channel="email", recipient="ada@example.com", dedupe_key="f",
                         status="failed", attempts=6, error="gave up"),
            Notification(shop_id=shop, kind="shipped", channel="email", recipient="bo@example.com", dedupe_key="s",
                         status="sent", attempts=1),
            Notification(shop_id=other_shop, kind="shipped", channel="email", recipient="cy@example.com",
                         dedupe_key="o", status="failed", attempts=6, error="gave up")]
    session.add_all(rows)
    session.commit()
    return {"failed": rows[0].id, "sent": rows[1].id, "theirs": rows[2].id}


def row(notification_id) -> Notification:
    return db().scalar(select(Notification).where(Notification.id == notification_id))


def retry(client, notification_id, bearer=None):
    return call(client, "POST", f"/api/admin/notifications/{notification_id}/retry", bearer or token())


def test_retry_makes_a_failed_message_due_again(client, outbox):
    response = retry(client, outbox["failed"])
    assert response.status_code == 200 and response.json["status"] == "pending"
    again = row(outbox["failed"])
    assert (again.status, again.attempts) == ("pending", 0) and again.next_attempt_at is not None


def test_retrying_a_message_that_did_not_fail_is_409(client, outbox):
    response = retry(client, outbox["sent"])
    assert response.status_code == 409 and "failed" in response.json["error"]
    assert row(outbox["sent"]).status == "sent"


def test_retrying_another_shops_message_is_404(client, outbox):
    response = retry(client, outbox["theirs"])
    assert response.status_code == 404
    assert row(outbox["theirs"]).status == "failed"
    assert retry(client, 10**12).status_code == 404


def test_retry_needs_a_valid_token(client, outbox):
    now = int(time.time())
    assert call(client, "POST", f"/api/admin/notifications/{outbox['failed']}/retry", None).status_code == 401
    assert retry(client, outbox["failed"], token(exp=now - 60, nbf=now - 120, iat=now - 120)).status_code == 401
    assert row(outbox["failed"]).status == "failed"


def test_the_outbox_page_has_a_retry_button_on_failed_rows_only(client, outbox):
    html = client.get(link_path(page="/app/outbox")).get_data(as_text=True)
    assert html.count("data-retry=") == 1 and f'data-retry="{outbox["failed"]}"' in html


def test_every_starting_template_can_be_saved_as_it_is(app, shop):
    """What the editor shows for a kind and language without a template of
    the shop's own is the default message, written with placeholders, and
    passes the same checks as a save."""
    from plugin.admin.template_editor import starter
    from plugin.locales import LOCALES
    from plugin.models import Shop
    from plugin.notifications.kinds import KINDS

    session = db()
    with app.test_request_context():
        for kind in KINDS:
            for locale in LOCALES:
                start = starter(session, session.get(Shop, shop), kind, locale)
                assert settings.check(f"templates.{kind}.{locale}", start) == start
                assert "{{ order_name }}" in start["subject"] + start["body"], (kind, locale)
                text = start["subject"] + start["body"]
                assert "#1001" not in text and "Ana" not in text, (kind, locale)
                assert not any(sample in text for sample in ("Linen", "74", "2026", "UPS", "1Z999")), (kind, locale)


def test_the_new_pages_labels_are_translated():
    from plugin.admin import i18n
    from plugin.admin.returns_views import LABELS
    from plugin.notifications.placeholders import PLACEHOLDERS

    words = {label for labels in LABELS for label in labels.values()} | {p.description for p in PLACEHOLDERS}
    for locale, catalog in i18n.CATALOGS.items():
        assert sorted(words - set(catalog)) == [], locale


def test_the_pages_speak_french(client, shop):
    html = client.get(link_path(page="/app/templates") + "&locale=fr").get_data(as_text=True)
    assert "Modèles d&#39;e-mail" in html and "Aperçu" in html and "Envoyer un test" in html
    html = client.get(link_path(page="/app/returns") + "&locale=fr").get_data(as_text=True)
    assert "Retours à traiter" in html and "Demandé" in html and "Aucune demande de retour ici." in html
