"""The embedded admin: its launch (GET /app) and the guard of its JSON API.

The first load inside the Shopify admin is verified by its query HMAC or by
the `id_token` session token; every later call carries a fresh App Bridge
session token as `Authorization: Bearer …`. A shop launched without a usable
offline token gets one by token exchange (or, without a session token, is
sent through the authorization code grant).
"""

from __future__ import annotations

import logging

from flask import current_app, g, jsonify, redirect, request
from sqlalchemy import select

from .. import shops
from ..auth import finish_install, missing_scopes, refuse, verified_shop
from ..db import get_session
from ..models import DataExport
from ..shopify import tokens
from ..shopify.tokens import TokenEndpointError
from ..signatures import SignatureError, decode_session_token
from . import pages

log = logging.getLogger(__name__)


def _decode(token: str) -> dict:
    config = current_app.config
    return decode_session_token(token, api_key=config["SHOPIFY_API_KEY"], secrets=config["SHOPIFY_SECRETS"])


def launch():
    id_token = request.args.get("id_token")
    if id_token:
        try:
            domain = _decode(id_token)["shop"]
        except SignatureError as exc:
            return refuse(401, "Session expired", f"The admin session could not be verified ({exc}). Reload the app.")
    else:
        domain, refusal = verified_shop()
        if refusal:
            return refusal

    session = get_session()
    shop = shops.by_domain(session, domain)
    if shop is None or not shops.has_usable_token(shop):
        if not id_token:
            return redirect(f"/auth/install?{request.query_string.decode()}")
        try:
            grant = tokens.exchange_session_token(domain, id_token, **shops.token_endpoint())
        except TokenEndpointError as exc:
            log.warning("token exchange for %s failed: %s", domain, exc)
            return refuse(502, "Shopify did not grant access", f"Token exchange failed ({exc}). Reload the app.")
        missing = missing_scopes(grant)
        if missing:
            return refuse(403, "Permissions missing", "Aftercare needs these permissions to work: "
                          + ", ".join(missing) + ". Approve the app's requested access and reload.")
        shop = finish_install(session, domain, grant)
        session.commit()

    return pages.render_home(shop)


def _unauthorized(message: str):
    response = jsonify({"error": message})
    response.status_code = 401
    # App Bridge retries such a request once with a fresh session token.
    response.headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
    return response


def require_session_token():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _unauthorized("missing session token (Authorization: Bearer …)")
    try:
        claims = _decode(header.removeprefix("Bearer ").strip())
    except SignatureError as exc:
        return _unauthorized(f"invalid session token: {exc}")
    shop = shops.by_domain(get_session(), claims["shop"])
    if shop is None or not shop.installed:
        return jsonify({"error": "Aftercare is not installed on this shop"}), 403
    g.shop = shop
    g.session_claims = claims


def session_user() -> str:
    """Who is acting on an admin API call: the session token's user (`sub`:
    the Shopify staff member's id, or "aftercare-link" for a signed link), else "admin"."""
    sub = (getattr(g, "session_claims", None) or {}).get("sub")
    return str(sub)[:255] if sub not in (None, "") else "admin"


def data_exports():
    rows = get_session().scalars(
        select(DataExport).where(DataExport.shop_id == g.shop.id).order_by(DataExport.id.desc())
    )
    return jsonify([
        {"id": e.id, "request_id": e.request_id, "customer_id": str(e.customer_id) if e.customer_id else None,
         "created_at": e.created_at.isoformat(), "url": f"/api/admin/data-exports/{e.id}"}
        for e in rows
    ])


def data_export(export_id: int):
    export = get_session().scalar(
        select(DataExport).where(DataExport.shop_id == g.shop.id, DataExport.id == export_id)
    )
    if export is None:
        return jsonify({"error": "no such export"}), 404
    response = jsonify(export.content)
    response.headers["Content-Disposition"] = f'attachment; filename="customer-data-{export.id}.json"'
    return response
