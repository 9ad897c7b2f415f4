"""Installing from the app store: the authorization code grant.

GET /auth/install   verify the shop's signed launch query, remember a state
                    nonce in a signed, short-lived cookie, send the merchant to
                    the shop's consent screen.
GET /auth/callback  verify the query HMAC, timestamp, shop and state; exchange
                    the code (once: a code is never retried); refuse too few
                    scopes; store the token encrypted; make sure the webhook
                    subscriptions exist; go to the embedded admin.

Embedded installs get their token by token exchange instead (admin.py).
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from urllib.parse import urlencode

from flask import Blueprint, current_app, make_response, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from . import shops, subscriptions
from .db import get_session
from .shopify import tokens
from .shopify.client import ShopifyAPIError
from .shopify.tokens import TokenEndpointError, TokenGrant
from .signatures import SignatureError, normalize_shop_domain, verify_query_hmac
from .subscriptions import WEBHOOK_TOPICS  # noqa: F401 - where tests and readers look for it

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/auth")

STATE_COOKIE = "aftercare_oauth_state"
STATE_MAX_AGE = 600  # seconds a merchant has on the consent screen


def refuse(status: int, title: str, detail: str):
    """A plain page that says what went wrong and what to do."""
    return render_template("refusal.html", title=title, detail=detail), status


def _state_serializer() -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key and accepts any: the previous key
    # (during a rotation) keeps an install in flight valid.
    config = current_app.config
    keys = [k for k in (config.get("SECRET_KEY_PREVIOUS"), config["SECRET_KEY"]) if k]
    return URLSafeTimedSerializer(keys, salt="aftercare.oauth-state")


def verified_shop():
    """The shop domain of a request whose query carries Shopify's HMAC, or a
    refusal (status, page) naming the problem."""
    domain = normalize_shop_domain(request.args.get("shop"))
    if domain is None:
        return None, refuse(400, "Unknown shop", "The shop parameter is missing or is not a myshopify.com domain.")
    try:
        verify_query_hmac(request.query_string.decode(), current_app.config["SHOPIFY_SECRETS"])
    except SignatureError as exc:
        return None, refuse(401, "Request not signed by Shopify", f"The launch link failed verification ({exc}). "
                            "Open the app again from your Shopify admin.")
    return domain, None


@bp.get("/install")
def install():
    domain, refusal = verified_shop()
    if refusal:
        return refusal
    config = current_app.config
    nonce = secrets.token_urlsafe(24)
    query = urlencode({
        "client_id": config["SHOPIFY_API_KEY"],
        "scope": ",".join(config["SCOPES"]),
        "redirect_uri": f"{config['APP_URL']}/auth/callback",
        "state": nonce,
    })
    response = make_response(redirect(f"{config['SHOPIFY_BASE_URL'].format(shop=domain)}/admin/oauth/authorize?{query}"))
    response.set_cookie(
        STATE_COOKIE, _state_serializer().dumps({"nonce": nonce, "shop": domain}),
        max_age=STATE_MAX_AGE, httponly=True, samesite="Lax", secure=config["APP_URL"].startswith("https://"),
        path="/auth",
    )
    return response


@bp.get("/callback")
def callback():
    domain, refusal = verified_shop()
    if refusal:
        return refusal
    state = request.args.get("state", "")
    try:
        remembered = _state_serializer().loads(request.cookies.get(STATE_COOKIE, ""), max_age=STATE_MAX_AGE)
    except BadSignature:
        remembered = None
    if not state or not remembered or not secrets.compare_digest(remembered.get("nonce", ""), state) \
            or remembered.get("shop") != domain:
        return refuse(403, "Install link expired", "This install did not start here, or took too long. "
                      "Start the install again from the app store.")
    session = get_session()
    shop = shops.by_domain(session, domain)
    if shop is not None and shop.install_nonce is not None and secrets.compare_digest(shop.install_nonce, state):
        return refuse(403, "Install already completed", "This install link was already used.")

    code = request.args.get("code", "")
    if not code:
        return refuse(400, "Missing authorization code", "Shopify's callback carried no code. Start the install again.")
    try:
        grant = tokens.exchange_code(domain, code, **shops.token_endpoint())
    except TokenEndpointError as exc:
        log.warning("install of %s: token exchange failed: %s", domain, exc)
        return refuse(502, "Shopify did not grant access",
                      f"Shopify's token endpoint could not complete the install ({exc}). Please try again.")
    missing = missing_scopes(grant)
    if missing:
        return refuse(403, "Permissions missing",
                      "Aftercare needs these permissions to work: " + ", ".join(missing)
                      + ". Install again and accept all requested permissions.")

    shop = finish_install(session, domain, grant)
    shop.install_nonce = state
    session.commit()
    response = make_response(redirect(admin_url(domain)))
    response.delete_cookie(STATE_COOKIE, path="/auth")
    return response


def missing_scopes(grant: TokenGrant) -> list[str]:
    """Requested scopes the grant lacks; a write scope implies its read scope."""
    granted = set(grant.scopes)
    granted |= {"read_" + s.removeprefix("write_") for s in granted if s.startswith("write_")}
    return [s for s in current_app.config["SCOPES"] if s not in granted]


def finish_install(session, domain: str, grant: TokenGrant):
    """Store the shop with its token, then make sure Shopify will send it the
    webhooks it needs. A failed subscription does not undo the install: the
    shop is marked as owed them and the worker tries again
    (plugin/subscriptions.py); the app-wide subscriptions in shopify.app.toml
    cover the shop meanwhile."""
    shop = shops.install(session, domain, grant)
    session.flush()
    try:
        created = shops.call_admin_api(session, shop, lambda client: subscriptions.subscribe_and_describe(client, shop))
        log.info("installed %s; created webhook subscriptions: %s", domain, ", ".join(created) or "none needed")
    except ShopifyAPIError as exc:
        subscriptions.owe(shop)
        log.warning("installed %s, but its webhook subscriptions could not be checked (the worker tries again): %s",
                    domain, exc)
    return shop


def admin_url(domain: str) -> str:
    """Where the merchant lands after installing: the app inside their admin."""
    host = request.args.get("host")
    api_key = current_app.config["SHOPIFY_API_KEY"]
    if host:
        try:
            decoded = base64.b64decode(host + "=" * (-len(host) % 4), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        # Only ever send the merchant to Shopify's admin or their own shop.
        if decoded in (f"admin.shopify.com/store/{domain.removesuffix('.myshopify.com')}", f"{domain}/admin"):
            return f"https://{decoded}/apps/{api_key}/"
    return f"{current_app.config['SHOPIFY_BASE_URL'].format(shop=domain)}/admin/apps/{api_key}"
