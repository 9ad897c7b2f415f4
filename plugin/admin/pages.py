"""The admin's pages: rendered on the server, enhanced by one small script.

Every page load is verified on its own (no cookies: browsers block them in
the Shopify admin's iframe): an `id_token` session token, a signed link or
Shopify's query HMAC (``tokens.document_shop``). The page then carries a
short-lived session token for its calls to `/api/admin`, and its script adds
a fresh one to the links between pages.

Each response says who may frame it (the shop's admin and admin.shopify.com)
and runs only scripts carrying its nonce.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from flask import abort, current_app, make_response, render_template, request, url_for

from .. import settings, shops
from ..auth import refuse
from ..db import get_session
from ..locales import LOCALES
from ..models import Shop
from ..signatures import SignatureError
from . import i18n, notification_log, tokens
from .sections import BY_SLUG, CHANNEL_LABELS, KIND_LABELS, SECTIONS

APP_BRIDGE_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
# Query parameters Shopify's admin passes that the next page needs too.
CARRIED_PARAMS = ("shop", "host", "embedded", "locale")


def content_security_policy(domain: str, nonce: str) -> str:
    return "; ".join((
        f"frame-ancestors https://{domain} https://admin.shopify.com",
        f"script-src 'nonce-{nonce}' 'strict-dynamic' https://cdn.shopify.com",
        "object-src 'none'",
        "base-uri 'none'",
    ))


def render(template: str, shop: Shop, session_started: int | None, *, status: int = 200, **context):
    """A page for ``shop`` in the admin user's language, with its session token."""
    locale = i18n.locale_of(request.args.get("locale"))
    nonce = secrets.token_urlsafe(18)
    carried = {k: request.args[k] for k in CARRIED_PARAMS if request.args.get(k)}
    carried["shop"] = shop.domain
    nav = [(section.slug, section.title, url_for("admin.settings_page", section=section.slug, **carried))
           for section in SECTIONS]
    body = render_template(
        template, shop=shop, locale=locale, _=partial(i18n.gettext, locale), nonce=nonce,
        api_key=current_app.config["SHOPIFY_API_KEY"], app_bridge_url=APP_BRIDGE_URL,
        session_token=tokens.mint(shop.domain, session_started), token_lifetime=tokens.TOKEN_LIFETIME,
        nav=nav, home_url=url_for("admin.home", **carried), outbox_url=url_for("admin.outbox", **carried),
        orders_url=url_for("admin.orders_page", **carried), health_url=url_for("admin.health_page", **carried),
        carried=carried, **context,
    )
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = content_security_policy(shop.domain, nonce)
    response.headers["Cache-Control"] = "no-store"  # the page holds a session token
    response.headers["Referrer-Policy"] = "no-referrer"  # its URL may hold one too
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def opened_shop():
    """(shop, session start, None) for a verified page request, or (None, None, refusal)."""
    try:
        domain, started = tokens.document_shop()
    except SignatureError as exc:
        return None, None, refuse(401, "Session expired",
                                  f"This page could not be verified ({exc}). Open Aftercare again from your admin.")
    shop = shops.by_domain(get_session(), domain)
    if shop is None or not shop.installed:
        return None, None, refuse(403, "Aftercare is not installed",
                                  "Install Aftercare on this shop from the app store first.")
    return shop, started, None


def render_home(shop: Shop, session_started: int | None = None):
    """The admin's home is its dashboard."""
    from .dashboard_page import render_dashboard  # it renders through this module

    return render_dashboard(shop, session_started)


def home():
    shop, started, refusal = opened_shop()
    return refusal or render_home(shop, started)


def settings_page(section: str):
    found = BY_SLUG.get(section)
    if found is None:
        abort(404)
    shop, started, refusal = opened_shop()
    if refusal:
        return refusal
    values = settings.load(get_session(), shop.id)
    return render("admin/settings.html", shop, started, section=found, values=values, current=section,
                  locales=LOCALES, locale_names=_language_names())


def _language_names() -> dict[str, str]:
    """Each locale's name in the admin user's language ("allemand" for de in French)."""
    locale = i18n.locale_of(request.args.get("locale"))
    return {code: Locale.parse(code).get_display_name(locale) for code in LOCALES}


def _when(locale: str, zone: ZoneInfo):
    def show(value: str | None) -> str:
        if not value:
            return ""
        return format_datetime(datetime.fromisoformat(value), "short", tzinfo=zone, locale=locale)
    return show


def positive_arg(name: str, default: int) -> int | None:
    """The query's ``name`` as a whole number from 1 (``default`` when absent),
    or None when it is not one: ASCII digits only ("²" is a digit int()
    refuses) and below 10**9, so no page number overflows the query's OFFSET."""
    raw = request.args.get(name)
    if raw is None:
        return default
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 10 and int(raw) > 0 else None


def outbox():
    shop, started, refusal = opened_shop()
    if refusal:
        return refusal
    number = positive_arg("page", 1) or 1
    rows = notification_log.page(get_session(), shop.id, number)
    locale = i18n.locale_of(request.args.get("locale"))
    zone = ZoneInfo(shop.iana_timezone or "UTC")
    kinds = {kind.value: label for kind, label in KIND_LABELS.items()}
    return render("admin/outbox.html", shop, started, rows=rows, current="outbox", when=_when(locale, zone),
                  kind_labels=kinds, channel_labels=CHANNEL_LABELS)
