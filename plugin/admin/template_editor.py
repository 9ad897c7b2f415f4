"""The email templates page: a merchant's own subject and body per kind and
locale, a live preview and a test send.

Templates are settings (`templates.<kind>.<locale>`), saved and reset
through `PUT /api/admin/settings`, whose checks refuse one that would not
render, naming subject or body: a broken template is never saved. The
preview (`POST /api/admin/notifications/preview`) renders what is being
typed through ``notifications.preview(..., override=…)``, for one of the
shop's orders or the built-in sample; a template that fails shows its error
beside the default message it would fall back to. The page shows the HTML in
a sandboxed iframe (no scripts, no same origin). `POST
/api/admin/notifications/test` mails the saved template to an address.
"""

from __future__ import annotations

import re
import smtplib

from flask import g, jsonify, request

from .. import mail, notifications, orders, settings
from ..db import get_session
from ..locales import LOCALES
from ..notifications import i18n as message_i18n
from ..notifications.kinds import KINDS, Kind
from ..notifications.preview import SAMPLE_RECIPIENT, NoMailServer, sample_order, sample_return
from ..notifications.render import TEMPLATES, message_context
from ..notifications.placeholders import PLACEHOLDERS
from . import i18n, pages
from .sections import KIND_LABELS

MAX_SUBJECT = 500


def starter(session, shop, kind: str, locale: str) -> dict:
    """The default message of ``kind`` in ``locale`` written as a merchant
    template (subject and body with placeholders): what the editor starts
    from when the shop has none of its own."""
    kind = Kind(kind)
    order, fulfillment = sample_order(shop, kind, locale)
    details = {"reason": "past_estimate"} if kind is Kind.DELAYED else {}
    returned = sample_return(shop, kind, order) if kind.is_return else None
    context = message_context(shop, settings.load(session, shop.id), order, fulfillment,
                              recipient=SAMPLE_RECIPIENT, details=details, locale=locale, returned=returned)
    # Only what placeholders can say again: no sample parcel, dates, items or total.
    context.update(parcel=None, items=[], total=None, place=None)
    env = message_i18n.environment(TEMPLATES, locale)
    template, layout = env.get_template(f"{kind.value}.txt"), env.get_template("base.txt")

    def block(name: str, source=template) -> str:
        return "".join(source.blocks[name](source.new_context(context)))

    subject = " ".join(block("subject").split())
    lines = [line.strip() for line in (block("greeting", layout) + "\n" + block("body")).splitlines()]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    for value, name in ((context["order_name"], "order_name"), (context["shop_name"], "shop_name"),
                        (context["first_name"], "first_name")):
        subject, body = (part.replace(value, "{{ %s }}" % name) for part in (subject, body))
    return {"subject": subject, "body": body}


def _choice(name: str, choices, default: str) -> str:
    value = request.args.get(name)
    return value if value in choices else default


# --- the page --------------------------------------------------------------------

def templates_page():
    shop, started, refusal = pages.opened_shop()
    if refusal:
        return refusal
    locale = i18n.locale_of(request.args.get("locale"))
    kind = _choice("kind", KINDS, KINDS[1])
    language = _choice("language", LOCALES, locale)
    session = get_session()
    saved = settings.load(session, shop.id).get(f"templates.{kind}.{language}")
    default = starter(session, shop, kind, language)
    shown = notifications.preview(session, shop, kind, locale=language)
    return pages.render("admin/templates.html", shop, started, current="templates", kind=kind, language=language,
                        kinds=[(k.value, KIND_LABELS.get(k, k.value.replace("_", " ").capitalize())) for k in Kind],
                        locales=LOCALES,
                        locale_names=pages._language_names(), saved=saved, default=default,
                        draft=saved or default, preview=shown, placeholders=PLACEHOLDERS,
                        setting_key=f"templates.{kind}.{language}")


# --- the API ---------------------------------------------------------------------

def _refuse(message: str, field: str | None, status: int = 422):
    return jsonify({"error": message, "field": field}), status


def _kind_and_locale(body: dict):
    kind, locale = body.get("kind"), body.get("locale")
    if kind not in KINDS:
        return None, None, _refuse("kind must be one of " + ", ".join(KINDS), "kind")
    if locale is None:
        locale = "en"
    if locale not in LOCALES:
        return None, None, _refuse("locale must be one of " + ", ".join(LOCALES), "locale")
    return kind, locale, None


def preview():
    """{kind, locale, order (optional name), subject, body} → {subject, text,
    html, sms, template_error}. Without subject and body: the saved template
    (or the default). Nothing is saved."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _refuse("send a JSON object with kind, locale, subject and body", None, 400)
    kind, locale, refusal = _kind_and_locale(body)
    if refusal:
        return refusal
    override = None
    if body.get("subject") is not None or body.get("body") is not None:
        subject, text = body.get("subject", ""), body.get("body", "")
        if not isinstance(subject, str) or len(subject) > MAX_SUBJECT:
            return _refuse(f"subject must be text of at most {MAX_SUBJECT} characters", "subject")
        if not isinstance(text, str) or len(text) > settings.MAX_TEMPLATE:
            return _refuse(f"body must be text of at most {settings.MAX_TEMPLATE} characters", "body")
        override = {"subject": subject, "body": text}
    session = get_session()
    order = None
    name = body.get("order")
    if name not in (None, ""):
        order = orders.find_order(session, g.shop.id, name) if isinstance(name, str) else None
        if order is None:
            return _refuse(f"no order {name}", "order", 404)
    message = notifications.preview(session, g.shop, kind, order=order, locale=locale, override=override)
    return jsonify({key: message[key] for key in ("subject", "text", "html", "sms", "template_error", "locale")})


def send_test():
    """{kind, locale, to} → the saved template (or the default) of that kind
    mailed to ``to`` now, "[Test]" in front of its subject. 503 when no mail
    server is configured, 502 when the mail server refuses."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _refuse("send a JSON object with kind, locale and to", None, 400)
    kind, locale, refusal = _kind_and_locale(body)
    if refusal:
        return refusal
    ui = i18n.locale_of(request.args.get("locale"))
    try:
        to = settings.email("to", body.get("to"))
    except settings.Invalid as exc:
        return _refuse(i18n.invalid(ui, exc.message), "to")
    try:
        notifications.send_test(get_session(), g.shop, kind, to, locale=locale)
    except NoMailServer:
        return _refuse(i18n.gettext(ui, "No mail server is configured, so no test message can be sent."), None, 503)
    except (mail.PermanentMailError, mail.TransientMailError, smtplib.SMTPException, OSError) as exc:
        return _refuse(i18n.gettext(ui, "The mail server did not take the message ({error}).",
                                    error=type(exc).__name__), None, 502)
    return jsonify({"sent": True, "to": to})
