"""Turning an outbox row into the message a customer receives.

``render_email`` and ``render_sms`` are what the outbox calls for a
notification. The message speaks the order's locale (``locales.negotiate``),
shows dates in the shop's time zone, and uses the kind's default templates
(templates/<kind>.txt and .html over base.txt / base.html) unless the
merchant saved their own subject and body for that kind and locale; a
merchant template that fails at send time is replaced by the default, and
its error kept in the notification's context (``template_error``).

Every message carries a signed link to the order's tracking page and, for
email, a signed one-click unsubscribe link (RFC 8058), except the return
messages, which are transactional (return_mail.py); a survey invitation's
unsubscribes from surveys only, and carries its one-click answer links
(survey_mail.py). Only what the message
needs of the customer goes in: first name and city.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

import css_inline
from flask import current_app
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import links, mail, settings
from ..models import Fulfillment, Notification, Order, Shop
from ..returns.models import ReturnRequest
from ..surveys.models import SurveyInvitation
from ..tracking import view
from . import i18n, placeholders, return_mail, sandbox, survey_mail
from .kinds import Kind
from .suppressions import Category

log = logging.getLogger(__name__)

TEMPLATES = str(Path(__file__).parent / "templates")
_INLINER = css_inline.CSSInliner(keep_style_tags=False)


# --- what a message says -------------------------------------------------------

def load_rows(session: Session, shop: Shop, notification: Notification) -> tuple[Order, Fulfillment | None]:
    """The order (and shipment) a notification is about; LookupError when
    they were erased after it was queued."""
    order = None
    if notification.order_id is not None:
        order = session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == notification.order_id))
    return rows_of(order, notification)


def rows_of(order: Order | None, notification: Notification) -> tuple[Order, Fulfillment | None]:
    """The order and parcel a notification is about, from its order as loaded
    (None if gone); LookupError when either was erased after it was queued."""
    if order is None:
        raise LookupError("the order was erased before the message could be sent")
    fulfillment = None
    fulfillment_id = (notification.context or {}).get("fulfillment_id")
    if fulfillment_id is not None:
        fulfillment = next((f for f in order.fulfillments if f.id == fulfillment_id), None)
        if fulfillment is None:
            raise LookupError("the shipment was erased before the message could be sent")
    return order, fulfillment


def message_context(shop: Shop, values: dict, order: Order, fulfillment: Fulfillment | None, *,
                    recipient: str, details: dict | None = None, locale: str | None = None,
                    returned: ReturnRequest | None = None, invitation: SurveyInvitation | None = None) -> dict:
    """Everything the templates may show, formatted for the customer's locale
    and the shop's zone. ``values`` are the shop's settings (settings.load);
    ``returned`` the return request a return message is about, ``invitation``
    the survey an invitation asks. Return messages are transactional: they
    carry no unsubscribe link; a survey's unsubscribes from surveys."""
    details = details or {}
    fmt = view.formatter(shop, order, locale)
    parcel = None
    if fulfillment is not None:
        parcel = view.parcel_view(order, fulfillment, fmt, number=int(details.get("parcel") or 1),
                                  count=int(details.get("parcels") or 1))
    survey = survey_mail.view(shop, invitation, fmt.locale) if invitation is not None else None
    place = None
    if fulfillment is not None and fulfillment.events:
        place = fulfillment.events[-1].city
    return {
        "locale": fmt.locale,
        "shop_name": shop.name or shop.domain,
        "first_name": order.customer_first_name,
        "city": order.shipping_city,
        "order_name": order.name or "",
        "items": [{"title": li.title or "", "variant": li.variant_title, "quantity": li.quantity}
                  for li in order.line_items],
        "total": fmt.money(order.total_price, order.currency),
        "parcel": parcel,
        "place": place,
        "reason": details.get("reason"),
        "tracking_url": links.url("track", shop_id=shop.id, order_id=order.id),
        "return_request": return_mail.view(returned, order, fmt) if returned is not None else None,
        "survey": survey,
        "survey_url": survey["page_url"] if survey else None,
        "unsubscribe_url": None if returned is not None else links.url(
            "unsubscribe", shop_id=shop.id, address=recipient,
            category=(Category.SURVEYS if invitation is not None else Category.SHIPPING).value),
        "brand_color": values.get("branding.color") or settings.DEFAULTS["branding.color"],
        "logo_url": values.get("branding.logo_url"),
    }


def compose(kind: str, context: dict, override: dict | None = None, *, with_sms: bool = True) -> dict:
    """Subject, text, HTML and SMS (None without ``with_sms``) of one message.
    A merchant ``override`` ({"subject", "body"}) that fails falls back to
    the default; the reason is returned as ``template_error``."""
    kind = Kind(kind).value
    context = {**context, "kind": kind}
    env = i18n.environment(TEMPLATES, context["locale"])
    text_template = env.get_template(f"{kind}.txt")
    subject = _block(text_template, "subject", context)
    sms = _block(text_template, "sms", context) if with_sms else None
    error = None
    if override:
        try:
            subject, body_text, body_html = sandbox.render(override, placeholders.from_message(context))
        except sandbox.TemplateFailed as exc:
            error = str(exc)
        else:
            text = env.get_template("override.txt").render(context, override_body=body_text)
            html = env.get_template("override.html").render(context, override_body=Markup(body_html))
            return _finish(subject, text, html, sms, None)
    text = text_template.render(context)
    html = env.get_template(f"{kind}.html").render(context)
    return _finish(subject, text, html, sms, error)


def _block(template, name: str, context: dict) -> str:
    return " ".join("".join(template.blocks[name](template.new_context(context))).split())


def _finish(subject: str, text: str, html: str, sms: str, error: str | None) -> dict:
    lines = [line.rstrip() if line != "-- " else line for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    text = "\n".join(_squeeze(lines)) + "\n"
    return {"subject": subject, "text": text, "html": _INLINER.inline(html), "sms": sms, "template_error": error}


def _squeeze(lines: list[str]) -> list[str]:
    """No runs of blank lines (templates' optional parts leave some)."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return out


def _override(values: dict, kind: str, locale: str) -> dict | None:
    return values.get(f"templates.{kind}.{locale}")


@dataclass(frozen=True)
class ShopSetup:
    """What every message of one shop shares, worked out once per batch by
    the outbox (``shop_setup``): its settings, sender, reply-to address and
    the domain of its Message-IDs."""
    shop: Shop
    values: dict
    sender: str
    reply_to: str | None
    msgid_domain: str | None


def shop_setup(shop: Shop, values: dict) -> ShopSetup:
    """``values`` are the shop's settings (settings.load). From: the shop's
    sender name (setting mail.from, else the shop's name) with the address of
    AFTERCARE_MAIL_FROM, which is the one we may send as."""
    _name, address = parseaddr(current_app.config["MAIL_FROM"])
    return ShopSetup(
        shop=shop, values=values,
        sender=formataddr((values.get("mail.from") or shop.name or shop.domain, address), charset="utf-8"),
        reply_to=values.get("mail.reply_to") or values.get("help.support_email"),
        msgid_domain=address.rpartition("@")[2] or None,
    )


def render_notification(setup: ShopSetup, notification: Notification, order: Order,
                        fulfillment: Fulfillment | None, returned: ReturnRequest | None,
                        invitation: SurveyInvitation | None = None) -> tuple[dict, dict]:
    """(message, template context) for an outbox row whose rows are loaded
    (see ``compose``); a failing merchant template is logged (kind, locale
    and shop only: no customer data) and remembered on the row."""
    shop = setup.shop
    context = message_context(shop, setup.values, order, fulfillment, recipient=notification.recipient,
                              details=notification.context, returned=returned, invitation=invitation)
    message = compose(notification.kind, context, _override(setup.values, notification.kind, context["locale"]),
                      with_sms=False)
    if message["template_error"]:
        log.warning("shop %s: template %s.%s failed, default used: %s",
                    shop.id, notification.kind, context["locale"], message["template_error"])
        notification.context = {**(notification.context or {}), "template_error": message["template_error"]}
    return message, context


# --- the two channels ----------------------------------------------------------

def email_bytes(setup: ShopSetup, message: dict, context: dict, *, ident: str) -> bytes:
    """The email as it goes on the wire, without To (the transport adds it)."""
    headers = [("Subject", message["subject"]), ("From", setup.sender)]
    if setup.reply_to:
        headers.append(("Reply-To", setup.reply_to))
    headers.append(("Message-ID", make_msgid(idstring=ident, domain=setup.msgid_domain)))
    if context["unsubscribe_url"]:
        headers.append(("List-Unsubscribe", f"<{context['unsubscribe_url']}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    headers.append(("Content-Language", context["locale"]))
    return mail.alternative(headers, message["text"], message["html"])


def to_email(shop: Shop, values: dict, message: dict, context: dict, *, ident: str) -> EmailMessage:
    """The same email as an EmailMessage (previews, test sends)."""
    return mail.parse(email_bytes(shop_setup(shop, values), message, context, ident=ident))


def render_email(session: Session, shop: Shop, notification: Notification) -> EmailMessage:
    """The email for an outbox row, without To, exactly as the outbox sends
    it. Raises LookupError when its order was erased in between."""
    order, fulfillment = load_rows(session, shop, notification)
    setup = shop_setup(shop, settings.load(session, shop.id))
    message, context = render_notification(setup, notification, order, fulfillment,
                                           return_mail.load(session, shop, notification),
                                           survey_mail.load(session, shop, notification))
    return mail.parse(email_bytes(setup, message, context, ident=f"n{notification.id}"))


def sms_text(setup: ShopSetup, notification: Notification, order: Order, fulfillment: Fulfillment | None,
             returned: ReturnRequest | None, invitation: SurveyInvitation | None = None) -> str:
    """The text message for an outbox row: one short line with the tracking link."""
    context = message_context(setup.shop, setup.values, order, fulfillment, recipient=notification.recipient,
                              details=notification.context, returned=returned, invitation=invitation)
    env = i18n.environment(TEMPLATES, context["locale"])
    return _block(env.get_template(f"{Kind(notification.kind).value}.txt"), "sms", context)


def render_sms(session: Session, shop: Shop, notification: Notification) -> str:
    order, fulfillment = load_rows(session, shop, notification)
    return sms_text(shop_setup(shop, settings.load(session, shop.id)), notification, order, fulfillment,
                    return_mail.load(session, shop, notification), survey_mail.load(session, shop, notification))
