"""``/proxy/…``: what Shopify's app proxy forwards from the storefront
(``https://{shop}/apps/…``).

Every request's query is verified with the app-proxy algorithm under the
current or previous client secret, within ±90 s, with Shopify's own
parameters refused when repeated (a second copy would be one the app reads
but Shopify did not sign as such). The shop comes only from that verified
query. Shopify strips cookies both ways, so nothing here uses them.

HTML is answered as ``application/liquid``, which Shopify renders inside the
store's theme; dynamic text is escaped, braces included, so nothing from an
order can become Liquid.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from plugin import links, returns, settings, shops, visits
from plugin.db import get_session
from plugin.locales import DEFAULT_LOCALE, negotiate
from plugin.signatures import SignatureError, normalize_shop_domain, verify_proxy_signature
from plugin.tracking import order_view

from . import api, embed, limits
from .strings import strings

bp = Blueprint("proxy", __name__, url_prefix="/proxy")

# Sent once by Shopify; refused when repeated (shopify-app-js refuses the
# first four; logged_in_customer_id and path_prefix decide what is shown).
SINGLE = ("shop", "signature", "timestamp", "logged_in_customer_id", "path_prefix")
MAX_BODY = 64 * 1024


def _finalize(value):
    """Escape for HTML, then braces, so no value becomes Liquid."""
    if value is None:
        return ""
    return Markup(str(escape(value)).replace("{", "&#123;").replace("}", "&#125;"))


_env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   autoescape=select_autoescape(default=True), finalize=_finalize)


def _refuse(status: int, reason: str):
    return jsonify(error=reason), status


@bp.before_request
def verify():
    request.max_content_length = MAX_BODY
    args = request.args
    for name in SINGLE:
        if len(args.getlist(name)) > 1:
            return _refuse(400, f"repeated {name}")
    try:
        verify_proxy_signature(request.query_string.decode("utf-8", "replace"),
                               current_app.config["SHOPIFY_SECRETS"])
    except SignatureError as exc:
        return _refuse(401, f"signature refused: {exc}")
    domain = normalize_shop_domain(args.get("shop"))
    shop = shops.by_domain(get_session(), domain) if domain else None
    if shop is None or not shop.installed:
        return _refuse(404, "unknown shop")
    g.storefront_shop = shop
    g.storefront_shop_domain = shop.domain
    forwarded = request.headers.get("X-Forwarded-For", "")
    g.storefront_client = forwarded.split(",")[0].strip() or request.remote_addr


def _path_prefix() -> str:
    prefix = request.args.get("path_prefix", "")
    # Shopify's prefixes look like /apps/aftercare; anything else is not a path we link to.
    ok = prefix.startswith("/") and not prefix.startswith("//") and all(
        c.isalnum() or c in "/-_." for c in prefix) and len(prefix) < 200
    return prefix.rstrip("/") if ok else "/apps/aftercare"


def _page(status: int = 200, **values):
    session = get_session()
    shop = g.storefront_shop
    locale = negotiate(request.args.get("locale") or request.accept_languages.best_match(
        ("en", "fr", "de", "es")) or DEFAULT_LOCALE)
    result = values.get("result")
    if result:
        locale = result["order"]["locale"]
    html = _env.get_template("proxy.html").render(
        t=strings(locale), locale=locale, path_prefix=_path_prefix(), assets=embed.asset_urls(),
        brand_color=settings.get(session, shop.id, "branding.color"),
        customer_orders=values.pop("customer_orders", None), result=result, error=values.get("error"),
        typed=values.get("typed", {}),
        # One idempotency key per page: the same form sent twice makes one request.
        form_key=secrets.token_urlsafe(12), returned=values.get("returned"),
        return_error=values.get("return_error"), open_item=values.get("open_item"),
        typed_return=values.get("typed_return", {}))
    return html, status, {"Content-Type": "application/liquid; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/")
def page():
    session = get_session()
    shop = g.storefront_shop
    token = request.args.get("order")
    if token:
        order = api.order_from_token(session, shop, token)
        if order is None:
            return _page(404, error=True)
        shown = _page(result=api.order_payload(session, shop, order))
        visits.record(session, shop.id, order.id, visits.Surface.PROXY)
        return shown
    customer = request.args.get("logged_in_customer_id", "")
    listed = None
    if customer:
        fmt_orders = api.customer_orders(session, shop, customer)
        listed = [{"name": o.name, "token": links.dumps("order", shop_id=shop.id, order_id=o.id),
                   "ordered_at": order_view(session, shop, o)["ordered_at"]} for o in fmt_orders]
    return _page(customer_orders=listed)


@bp.post("/")
@limits.lookup_limit
def page_lookup():
    """The form without JavaScript: a result page, or the form again with
    the one message (404)."""
    session = get_session()
    shop = g.storefront_shop
    data = request.form.to_dict()
    order = api.find_order(session, shop, data)
    if order is None:
        typed = {k: data.get(k, "")[:320] for k in ("order", "email", "phone")}
        return _page(404, error=True, typed=typed)
    shown = _page(result=api.order_payload(session, shop, order))
    visits.record(session, shop.id, order.id, visits.Surface.PROXY)
    return shown


@bp.post("/returns")
@limits.returns_limit
def page_return():
    """A return asked for with the page's plain form (one item per form):
    the order's page again, with the request and its status, or with the
    one message saying what to fix (422) and nothing stored."""
    session = get_session()
    shop = g.storefront_shop
    data = request.form.to_dict()
    order = api.token_order(session, shop, data)
    if order is None:
        return _page(404, error=True)
    items = [{"line_item_id": data.get("line_item_id"), "quantity": data.get("quantity"),
              "reason": data.get("reason"), "note": data.get("note") or None}]
    try:
        made, _new = api.ask_for_return(session, shop, order, items, key=data.get("key"))
    except returns.ReturnRefused as exc:
        body, status = api.refusal(exc)
        typed = {k: (data.get(k) or "")[:2000] for k in ("quantity", "reason", "note")}  # shown again, not lost
        return _page(status, result=api.order_payload(session, shop, order), return_error=body["error"],
                     open_item=data.get("line_item_id"), typed_return=typed)
    return _page(result=api.order_payload(session, shop, order), returned=str(made.id))


@bp.post("/api/lookup")
@limits.lookup_limit
def lookup():
    return api.lookup_response(g.storefront_shop, visits.Surface.PROXY)


@bp.get("/api/orders/<token>")
def order(token: str):
    return api.order_response(g.storefront_shop, token, visits.Surface.PROXY)


@bp.post("/api/returns")
@limits.returns_limit
def ask_return():
    return api.returns_response(g.storefront_shop)


@bp.post("/api/contact")
@limits.contact_limit
def contact():
    return api.contact_response(g.storefront_shop)


bp.register_error_handler(429, limits.too_many)
bp.register_error_handler(413, lambda e: (jsonify(error="too_large", message="This request is too large."), 413))
