"""The storefront's JSON answers, shared by the app proxy (/proxy/api/…)
and the embedded widget (/widgets/api/…); the blueprints establish the shop
(from a verified proxy query, or the widget's data-shop) and call these.

A lookup that does not match answers 404 with one message whatever the
reason, after the same minimum time (``LOOKUP_SECONDS``), so neither the
answer nor its timing tells an unknown order from a wrong email. IDs are
strings: Shopify's are above 2**53.
"""

from __future__ import annotations

import time

from flask import current_app, jsonify, request
from sqlalchemy import func, select

from plugin import help, links, settings
from plugin.db import get_session
from plugin.models import Order, Shop
from plugin.tracking import order_view

from . import lookup

LOOKUP_SECONDS = 0.25
NOT_FOUND = "We could not find an order with these details. Check the order number and the email or phone used to order."
CONTACT_MESSAGES = {
    "empty": "Please write a message.",
    "too_long": f"Your message is too long: {help.MAX_MESSAGE} characters at most.",
    "no_support_address": "This store cannot take messages here yet. Please use the store's contact page.",
}


def payload() -> dict:
    """The request's fields, from JSON or a form; {} for anything else."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form.to_dict()


def order_payload(session, shop: Shop, order: Order, locale: str | None = None) -> dict:
    """What a shopper gets for one of their orders: its view, a signed token
    to come back with, the help answers that fit it, and its items (for
    returns)."""
    view = order_view(session, shop, order, locale=locale)
    values = settings.load(session, shop.id)
    return {
        "token": links.dumps("order", shop_id=shop.id, order_id=order.id),
        "order_id": str(order.shopify_id),
        "order": view,
        "branding": {"color": values["branding.color"]},
        "items": [{"id": str(li.shopify_id), "title": li.title, "variant": li.variant_title,
                   "quantity": li.quantity} for li in order.line_items],
        "help": {"answers": help.fitting(values["help.answers"], view),
                 "contact": bool(values["help.support_email"] or shop.email)},
        # RETURNS HOOK: the returns domain (branch `returns`) will add what can be
        # returned and POST /proxy/api/returns; the widget shows nothing until then.
        "returns": None,
    }


def find_order(session, shop: Shop, data: dict) -> Order | None:
    started = time.monotonic()
    order = lookup.find(session, shop.id, data.get("order"), email=data.get("email"), phone=data.get("phone"))
    floor = current_app.config.get("LOOKUP_SECONDS", LOOKUP_SECONDS)
    time.sleep(max(0.0, floor - (time.monotonic() - started)))
    return order


def lookup_response(shop: Shop):
    session = get_session()
    data = payload()
    order = find_order(session, shop, data)
    if order is None:
        return jsonify(error="not_found", message=NOT_FOUND), 404
    return jsonify(order_payload(session, shop, order, _locale(data)))


def order_from_token(session, shop: Shop, token: str) -> Order | None:
    """The order a signed "order" token names, if it is this shop's."""
    try:
        fields = links.load("order", token)
    except links.BadLink:
        return None
    if fields["shop_id"] != shop.id:
        return None
    return session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == fields["order_id"]))


def order_response(shop: Shop, token: str):
    session = get_session()
    order = order_from_token(session, shop, token)
    if order is None:
        return jsonify(error="not_found", message=NOT_FOUND), 404
    return jsonify(order_payload(session, shop, order, request.args.get("locale")))


def contact_response(shop: Shop):
    session = get_session()
    data = payload()
    token = data.get("token")
    order = order_from_token(session, shop, token) if isinstance(token, str) and len(token) < 1000 else None
    if order is None:
        return jsonify(error="not_found", message=NOT_FOUND), 404
    try:
        help.contact(session, shop, order, data.get("message"))
    except help.Refused as exc:
        status = 422 if exc.reason == "too_long" else 503 if exc.reason == "no_support_address" else 400
        return jsonify(error=exc.reason, message=CONTACT_MESSAGES[exc.reason]), status
    session.commit()
    return jsonify(sent=True, message="Thank you. The store has your message and your order's details, "
                                      "and will answer by email."), 201


def customer_orders(session, shop: Shop, customer_id: str) -> list[Order]:
    """The orders of a logged-in customer (Shopify's ``logged_in_customer_id``)."""
    # Shopify signed it, but an id is still checked: ASCII digits, within BIGINT.
    if not (customer_id.isascii() and customer_id.isdigit()) or len(customer_id) > 18:
        return []
    return list(session.scalars(
        select(Order).where(Order.shop_id == shop.id, Order.customer_id == int(customer_id),
                            Order.name.is_not(None))
        .order_by(func.coalesce(Order.shopify_created_at, Order.created_at).desc()).limit(20)))


def _locale(data: dict) -> str | None:
    value = data.get("locale")
    return value if isinstance(value, str) and len(value) <= 35 else None
