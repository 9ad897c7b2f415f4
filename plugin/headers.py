"""Security headers on every answer, one policy per surface.

Every answer gets ``X-Content-Type-Options: nosniff`` and a
``Referrer-Policy``. HTML answers also get a Content-Security-Policy: no
inline script unless it carries the request's nonce (``csp_nonce()`` in
templates), nothing from other origins, and ``frame-ancestors`` as the surface
needs:

- the embedded admin (``/app``): the shop and admin.shopify.com; the admin
  pages set a stricter policy of their own (App Bridge, nonces), which is kept;
- the app proxy and the storefront widget (``/proxy``, ``/widgets``): the shop;
- everything else, the email pages (``/t``, ``/u``, ``/s``) included: nobody.

The shop comes from the ``shop`` query parameter, as Shopify sends it on every
admin launch and proxied request; a value that is not a myshopify domain
frames for nobody.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request

from .signatures import normalize_shop_domain

ADMIN = "https://admin.shopify.com"
ADMIN_PREFIXES = ("/app",)
STOREFRONT_PREFIXES = ("/proxy", "/widgets")


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
    app.context_processor(lambda: {"csp_nonce": csp_nonce})


def csp_nonce() -> str:
    """This request's script nonce: ``<script nonce="{{ csp_nonce() }}">``."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def frame_ancestors(path: str, shop: str | None) -> str:
    shop_origin = f"https://{shop}" if shop else None
    if _under(path, ADMIN_PREFIXES):
        return " ".join(filter(None, ("frame-ancestors", shop_origin, ADMIN)))
    if _under(path, STOREFRONT_PREFIXES) and shop_origin:
        return f"frame-ancestors 'self' {shop_origin}"
    return "frame-ancestors 'none'"


def content_security_policy(path: str, shop: str | None, nonce: str | None) -> str:
    scripts = "script-src 'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join((
        "default-src 'self'",
        scripts,
        # Inline <style> blocks are allowed: CSS cannot run code.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        frame_ancestors(path, shop),
    ))


def add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html" and "Content-Security-Policy" not in headers:
        shop = normalize_shop_domain(request.args.get("shop"))
        headers["Content-Security-Policy"] = content_security_policy(request.path, shop, g.get("csp_nonce"))
    return response


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)
