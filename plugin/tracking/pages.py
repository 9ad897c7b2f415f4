"""Shopper pages opened from a message's signed links: GET /t/<token> (the
order's tracking page, with its return requests and their status) and
GET/POST /u/<token> (unsubscribe).

Server-rendered in the shopper's language, branded with the shop's colour
and logo, no JavaScript. A link that was tampered with, has expired, or
names an order that is gone gets a friendly page with a 4xx, never an error
page. Tokens live in the URL, so pages send no Referer (a click on a carrier
link must not carry the token away) and are not cached.

Unsubscribing takes a POST: a GET only shows the button, because mail
scanners follow links. The POST is also the RFC 8058 one-click request a
mail client sends with ``List-Unsubscribe=One-Click``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, request
from sqlalchemy import select

from .. import links, settings, visits
from ..db import batch, get_session
from ..locales import DEFAULT_LOCALE, LOCALES
from ..models import Order, Shop
from ..notifications import i18n
from ..notifications.suppressions import Category, suppress
from .returns import returns_view
from .view import VIEW_ROWS, order_view

bp = Blueprint("tracking", __name__)

TEMPLATES = str(Path(__file__).parent / "templates")

SECURITY_HEADERS = {
    # No script at all; inline styles only; images from https (the shop's logo).
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
                                "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@bp.after_request
def _headers(response):
    response.headers.update(SECURITY_HEADERS)
    return response


def _browser_locale() -> str:
    return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE


def branded_page(templates, name: str, locale: str, status: int = 200, **values):
    """A shopper's page from a signed link, in the shop's colours when known
    (these pages, and the survey pages from plugin/surveys/pages.py)."""
    values.setdefault("brand_color", settings.DEFAULTS["branding.color"])
    values.setdefault("logo_url", None)
    values.setdefault("shop_name", None)
    html = i18n.environment(templates, locale).get_template(name).render(locale=locale, **values)
    return html, status, {"Content-Type": "text/html; charset=utf-8"}


def _page(name: str, locale: str, status: int = 200, **values):
    return branded_page(TEMPLATES, name, locale, status, **values)


def _refuse(status: int, reason: str, locale: str):
    """The friendly page for a link we cannot honour (reason: invalid,
    expired, gone)."""
    return _page("link_error.html", locale, status, reason=reason)


def _branding(session, shop: Shop) -> dict:
    values = settings.load(session, shop.id)
    return {"brand_color": values["branding.color"], "logo_url": values["branding.logo_url"],
            "shop_name": shop.name or shop.domain}


@bp.get("/t/<token>")
def track(token: str):
    try:
        fields = links.load("track", token)
    except links.BadLink as exc:
        return _refuse(410 if exc.reason == "expired" else 404, exc.reason, _browser_locale())
    session = get_session()
    shop = session.get(Shop, fields["shop_id"])
    order = None
    if shop is not None and shop.installed:
        order = session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == fields["order_id"])
                               .options(*VIEW_ROWS))
    if order is None:
        return _refuse(404, "gone", _browser_locale())
    with batch(session):  # the shop's settings, read once
        view = order_view(session, shop, order)
        requests = returns_view(session, shop, order, locale=view["locale"])["requests"]
        shown = _page("track.html", view["locale"], order=view, returns=requests, **_branding(session, shop))
    visits.record(session, shop.id, order.id, visits.Surface.TRACKING_PAGE)
    return shown


@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    locale = _browser_locale()
    try:
        fields = links.load("unsubscribe", token)
        category = Category(fields["category"])
    except links.BadLink as exc:
        return _refuse(410 if exc.reason == "expired" else 404, exc.reason, locale)
    except ValueError:
        return _refuse(404, "invalid", locale)
    session = get_session()
    shop = session.get(Shop, fields["shop_id"])
    if shop is None:
        return _refuse(404, "gone", locale)
    branding = _branding(session, shop)
    if request.method == "GET":
        return _page("unsubscribe.html", locale, done=False, category=category.value, **branding)
    suppress(session, shop.id, fields["address"], category)
    session.commit()
    return _page("unsubscribe.html", locale, done=True, category=category.value, **branding)
