"""The storefront's JSON answers, shared by the app proxy (/proxy/api/…)
and the embedded widget (/widgets/api/…); the blueprints establish the shop
(from a verified proxy query, or the widget's data-shop) and call these.

``returns_response`` asks for a return of items of the order a token names;
a refusal answers 4xx with a code the widget words in the shopper's language
(see ``refusal``) and stores nothing.

A lookup that does not match answers 404 with one message whatever the
reason, after the same minimum time (``LOOKUP_SECONDS``), so neither the
answer nor its timing tells an unknown order from a wrong email. IDs are
strings: Shopify's are above 2**53.
"""

from __future__ import annotations

import hashlib
import re
import time

from flask import current_app, jsonify, request
from sqlalchemy import func, select

from plugin import help, links, returns, settings, visits
from plugin.db import batch, get_session
from plugin.models import Order, Shop, utcnow
from plugin.tracking import VIEW_ROWS, order_view
from plugin.tracking.returns import request_view, returns_view
from plugin.tracking.view import formatter

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
    with batch(session):  # the shop's settings, read once for every part
        return _order_payload(session, shop, order, locale)


def _order_payload(session, shop: Shop, order: Order, locale: str | None) -> dict:
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
        "returns": returns_view(session, shop, order, locale=view["locale"]),
    }


def find_order(session, shop: Shop, data: dict) -> Order | None:
    started = time.monotonic()
    order = lookup.find(session, shop.id, data.get("order"), email=data.get("email"), phone=data.get("phone"))
    floor = current_app.config.get("LOOKUP_SECONDS", LOOKUP_SECONDS)
    time.sleep(max(0.0, floor - (time.monotonic() - started)))
    return order


def lookup_response(shop: Shop, surface: visits.Surface | None):
    """``surface``: where the shopper is, for the order's timeline (None: record no visit)."""
    session = get_session()
    data = payload()
    order = find_order(session, shop, data)
    if order is None:
        return jsonify(error="not_found", message=NOT_FOUND), 404
    body = order_payload(session, shop, order, _locale(data))
    if surface is not None:
        visits.record(session, shop.id, order.id, surface)
    return jsonify(body)


def order_from_token(session, shop: Shop, token: str) -> Order | None:
    """The order a signed "order" token names, if it is this shop's."""
    try:
        fields = links.load("order", token)
    except links.BadLink:
        return None
    if fields["shop_id"] != shop.id:
        return None
    return session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == fields["order_id"])
                          .options(*VIEW_ROWS))


def order_response(shop: Shop, token: str, surface: visits.Surface | None):
    session = get_session()
    order = order_from_token(session, shop, token)
    if order is None:
        return jsonify(error="not_found", message=NOT_FOUND), 404
    body = order_payload(session, shop, order, request.args.get("locale"))
    if surface is not None:
        visits.record(session, shop.id, order.id, surface)
    return jsonify(body)


def contact_response(shop: Shop):
    session = get_session()
    data = payload()
    order = token_order(session, shop, data)
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


def token_order(session, shop: Shop, data: dict) -> Order | None:
    token = data.get("token")
    return order_from_token(session, shop, token) if isinstance(token, str) and len(token) < 1000 else None


def return_key(session, shop: Shop, order: Order, key: object, items) -> str:
    """The idempotency key of a return request: the client's own (the widget
    sends one per form), bound to the order so no one can take another
    order's key, else one derived from the items asked for."""
    if isinstance(key, str) and 0 < len(key) <= 200:
        return "client:" + hashlib.sha256(f"{order.id}:{key}".encode()).hexdigest()[:56]
    return returns.content_key(session, shop, order, items)


def ask_for_return(session, shop: Shop, order: Order, items, *, key: object,
                   note: object = None) -> tuple[returns.ReturnRequest, bool]:
    """Store the request (committed); (request, whether it is new). A repeat
    of the same request (same key) gives back the first one.
    Raises returns.ReturnRefused with nothing stored."""
    started = utcnow()
    try:
        made = returns.request_return(session, shop, order, items, key=return_key(session, shop, order, key, items),
                                      note=note)
    except returns.ReturnRefused:
        session.rollback()  # let go of the order's lock
        raise
    session.commit()
    return made, made.requested_at >= started


_FIELD = re.compile(r"(?:items\[\d+\]\.)?(\w+)$")
ERRORS = {"quantity": "invalid_quantity", "reason": "invalid_reason", "note": "invalid_note",
          "line_item_id": "invalid_item", "items": "invalid_items", "key": "key_reused"}


def refusal(exc: returns.ReturnRefused) -> tuple[dict, int]:
    """The answer to a refused return request: a code per field (or
    ``not_returnable`` with ``why``), the field, and an English message."""
    if exc.why is not None:
        return {"error": "not_returnable", "why": exc.why.value, "field": exc.field, "message": exc.message}, 422
    match = _FIELD.search(exc.field)
    error = ERRORS.get(match.group(1) if match else "", "invalid_items")
    return {"error": error, "field": exc.field, "message": exc.message}, 409 if error == "key_reused" else 422


def returns_response(shop: Shop):
    session = get_session()
    data = payload()
    order = token_order(session, shop, data)
    if order is None:
        return jsonify(error="not_found", message=NOT_FOUND), 404
    locale = _locale(data)
    items = data.get("items")
    try:
        made, new = ask_for_return(session, shop, order, items, key=data.get("key"), note=data.get("note"))
    except returns.ReturnRefused as exc:
        body, status = refusal(exc)
        return jsonify(body), status
    fmt = formatter(shop, order, locale)
    with batch(session):  # the shop's settings, read once
        view = returns_view(session, shop, order, locale=fmt.locale)
    return jsonify({"return": request_view(made, order, fmt), "returns": view}), 201 if new else 200


def customer_orders(session, shop: Shop, customer_id: str) -> list[Order]:
    """The orders of a logged-in customer (Shopify's ``logged_in_customer_id``)."""
    # Shopify signed it, but an id is still checked: ASCII digits, within BIGINT.
    if not (customer_id.isascii() and customer_id.isdigit()) or len(customer_id) > 18:
        return []
    return list(session.scalars(
        select(Order).where(Order.shop_id == shop.id, Order.customer_id == int(customer_id),
                            Order.name.is_not(None))
        .options(*VIEW_ROWS).order_by(func.coalesce(Order.shopify_created_at, Order.created_at).desc()).limit(20)))


def _locale(data: dict) -> str | None:
    value = data.get("locale")
    return value if isinstance(value, str) and len(value) <= 35 else None
