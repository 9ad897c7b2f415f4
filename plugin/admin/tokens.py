"""Who is looking at an admin page, inside Shopify or out of it.

Inside the Shopify admin, App Bridge hands the page a fresh session token
(`shopify.idToken()`) for every call. A plain browser (the demo, development,
support) has no App Bridge, so the app mints the same kind of token itself:
an HS256 JWT with Shopify's claims, signed with the app's client secret, so
the one guard of `/api/admin` checks both alike. No cookies either way.

A minted token lives a few minutes; the page swaps it for a new one through
`POST /api/admin/session-token` while it is still valid, for at most
``LINK_SESSION_MAX_AGE`` after the signed link (or Shopify launch) that
started the session: a leaked token cannot be kept alive for ever.

Outside Shopify the way in is a signed link (`admin_url`): the shop domain
signed with the app's secret key (itsdangerous), valid for ``LINK_MAX_AGE``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from urllib.parse import urlencode

import jwt
from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..signatures import SignatureError, decode_session_token, normalize_shop_domain

TOKEN_LIFETIME = 300  # seconds a minted session token is valid
LINK_MAX_AGE = 12 * 3600  # seconds a signed admin link can be opened
LINK_SESSION_MAX_AGE = 12 * 3600  # seconds a page session can refresh its token after it began
LINK_SALT = "aftercare.admin-link"


def _link_serializer() -> URLSafeTimedSerializer:
    config = current_app.config
    keys = [k for k in (config.get("SECRET_KEY_PREVIOUS"), config["SECRET_KEY"]) if k]
    return URLSafeTimedSerializer(keys, salt=LINK_SALT)  # signs with the last, accepts every one


def admin_url(shop_domain: str, page: str = "/app/home") -> str:
    """A link that opens the shop's admin pages in a plain browser, outside
    Shopify (printed by `aftercare demo`). Anyone holding it can administer
    the shop until it expires: hand it only to the shop's own people."""
    domain = normalize_shop_domain(shop_domain)
    if domain is None:
        raise ValueError(f"{shop_domain!r} is not a shop domain")
    link = _link_serializer().dumps({"shop": domain})
    return f"{current_app.config['APP_URL']}{page}?{urlencode({'shop': domain, 'link': link})}"


def shop_of_link(link: str) -> str:
    """The shop a signed link opens; SignatureError when forged or expired."""
    try:
        data = _link_serializer().loads(link, max_age=LINK_MAX_AGE)
    except BadSignature as exc:
        raise SignatureError("invalid or expired link") from exc
    domain = normalize_shop_domain(data.get("shop") if isinstance(data, dict) else None)
    if domain is None:
        raise SignatureError("invalid link")
    return domain


def decode(token: str) -> dict:
    """The claims of a session token (App Bridge's or minted here), plus "shop"."""
    config = current_app.config
    return decode_session_token(token, api_key=config["SHOPIFY_API_KEY"], secrets=config["SHOPIFY_SECRETS"])


def mint(shop_domain: str, session_started: int | None = None) -> str:
    """A session token for ``shop_domain``, shaped as App Bridge's are.
    ``session_started`` (Unix seconds) is when the signed link or Shopify
    launch that began this page session was verified; it bounds refreshes."""
    config = current_app.config
    now = int(time.time())
    claims = {
        "iss": f"https://{shop_domain}/admin",
        "dest": f"https://{shop_domain}",
        "aud": config["SHOPIFY_API_KEY"],
        "sub": "aftercare-link",
        "exp": now + TOKEN_LIFETIME,
        "nbf": now - 1,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "sid": secrets.token_hex(16),
        "link_iat": now if session_started is None else int(session_started),
    }
    return jwt.encode(claims, config["SHOPIFY_API_SECRET"], algorithm="HS256")


def session_started(claims: dict) -> int | None:
    """When the page session of a minted token began; None for App Bridge's own."""
    value = claims.get("link_iat")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def refreshable(claims: dict) -> bool:
    started = session_started(claims)
    return started is not None and time.time() - started <= LINK_SESSION_MAX_AGE


def document_shop() -> tuple[str, int | None]:
    """The shop a page request was opened for, and when its session began:
    from an `id_token` (App Bridge's, or one the page minted), a signed
    `link`, or Shopify's query HMAC. Raises SignatureError naming the problem."""
    from ..auth import verified_shop

    args = request.args
    if args.get("id_token"):
        claims = decode(args["id_token"])
        return claims["shop"], session_started(claims)
    if args.get("link"):
        domain = shop_of_link(args["link"])
        claimed = args.get("shop")
        if claimed is not None and normalize_shop_domain(claimed) != domain:
            raise SignatureError("link of another shop")
        return domain, None
    if args.get("hmac"):
        domain, refusal = verified_shop()
        if refusal:
            raise SignatureError("the launch link failed verification")
        return domain, None
    raise SignatureError("no session token")
