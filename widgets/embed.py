"""``/widgets/…``: the embeddable widget and its JSON API for pages that
embed it by script tag rather than through the app proxy.

``<script src="{APP_URL}/widgets/aftercare.js" data-shop="x.myshopify.com"
defer></script>``: the shop is named by ``data-shop`` (sent as ``?shop=``)
and CORS answers only the shop's own origins (``https://x.myshopify.com`` and
its primary domain, learnt at install; the app's own origin needs none). A foreign origin gets no CORS headers, and
its writes are refused with 403 before anything is read or stored.

The script and style sheet are served with an ETag; asked for with
``?v=<their content hash>`` (``asset_urls()``) they are immutable for a
year, without it they are revalidated after five minutes, so the merchant's
unversioned script tag still picks up a new release.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, request

from plugin import shops, visits
from plugin.db import get_session
from plugin.signatures import normalize_shop_domain

from . import api, limits

bp = Blueprint("widgets", __name__, url_prefix="/widgets")

STATIC = Path(__file__).parent / "static"
ASSETS = {"aftercare.js": "text/javascript; charset=utf-8", "aftercare.css": "text/css; charset=utf-8"}
MAX_BODY = 64 * 1024


@lru_cache(maxsize=None)
def _assets() -> tuple[dict[str, bytes], str]:
    """The files and one version for both (the script asks for the style
    sheet with its own ``v``): the hash of their contents."""
    files = {name: (STATIC / name).read_bytes() for name in ASSETS}
    digest = hashlib.sha256(b"".join(files[name] for name in sorted(files)))
    return files, digest.hexdigest()[:16]


def asset_urls() -> dict[str, str]:
    """Versioned absolute URLs of the script and style sheet."""
    base = current_app.config["APP_URL"]
    version = _assets()[1]
    return {name.rsplit(".", 1)[1]: f"{base}/widgets/{name}?v={version}" for name in ASSETS}


@bp.get("/<any('aftercare.js', 'aftercare.css'):name>")
def asset(name: str):
    files, version = _assets()
    data = files[name]
    response = Response(data, mimetype=ASSETS[name].split(";")[0])
    response.headers["Content-Type"] = ASSETS[name]
    response.set_etag(f"{version}-{name}")
    if request.args.get("v") == version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response.make_conditional(request)


# --- the JSON API -----------------------------------------------------------------

def _allowed_origins(shop) -> set[str]:
    """The shop's own storefronts (its myshopify domain and its primary, often
    custom, domain as Shopify last told us) and the app itself (a page it
    serves, like the demo store). Never another shop's."""
    app_url = urlsplit(current_app.config["APP_URL"])
    origins = {f"https://{shop.domain}", f"{app_url.scheme}://{app_url.netloc}", f"{request.scheme}://{request.host}"}
    if shop.primary_domain_url:
        origins.add(shop.primary_domain_url)
    return origins


@bp.before_request
def find_shop():
    if not request.path.startswith("/widgets/api/"):
        return None
    request.max_content_length = MAX_BODY
    domain = normalize_shop_domain(request.args.get("shop"))
    shop = shops.by_domain(get_session(), domain) if domain else None
    origin = request.headers.get("Origin")
    g.cors_origin = None
    if shop is not None and shop.installed and origin in _allowed_origins(shop):
        g.cors_origin = origin
    if origin is not None and g.cors_origin is None and request.method != "GET":
        return jsonify(error="forbidden_origin"), 403
    if request.method == "OPTIONS":
        return Response(status=204)
    if shop is None or not shop.installed:
        return jsonify(error="unknown_shop"), 404
    g.storefront_shop = shop
    g.storefront_shop_domain = shop.domain
    g.storefront_client = request.remote_addr


@bp.after_request
def cors(response: Response):
    origin = g.get("cors_origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    if request.path.startswith("/widgets/api/"):
        response.headers.add("Vary", "Origin")
        response.headers["Cache-Control"] = "no-store"
    return response


def _visit() -> visits.Surface | None:
    """A widget visit, unless a page of another origin asked: its answer is
    not readable there, and it must not write on the shop's timeline."""
    foreign = request.headers.get("Origin") is not None and g.cors_origin is None
    return None if foreign else visits.Surface.WIDGET


@bp.route("/api/lookup", methods=["POST", "OPTIONS"])
@limits.lookup_limit
def lookup():
    return api.lookup_response(g.storefront_shop, _visit())


@bp.route("/api/orders/<token>", methods=["GET", "OPTIONS"])
def order(token: str):
    return api.order_response(g.storefront_shop, token, _visit())


@bp.route("/api/returns", methods=["POST", "OPTIONS"])
@limits.returns_limit
def ask_return():
    return api.returns_response(g.storefront_shop)


@bp.route("/api/contact", methods=["POST", "OPTIONS"])
@limits.contact_limit
def contact():
    return api.contact_response(g.storefront_shop)


bp.register_error_handler(429, limits.too_many)
bp.register_error_handler(413, lambda e: (jsonify(error="too_large", message="This request is too large."), 413))
