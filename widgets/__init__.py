"""The storefront: what shoppers use on the store's own site.

- proxy.py: ``/proxy/…``, reached through Shopify's app proxy (signed
  queries): the tracking page, rendered inside the theme, and its JSON API;
- embed.py: ``/widgets/aftercare.js`` and ``.css`` (the embeddable
  ``<aftercare-widget>``) and the same JSON API under ``/widgets/api/…`` for
  pages that embed it by script tag, with CORS for the shop's own origins;
- api.py: the JSON answers both share (lookup, order by signed token, contact);
- lookup.py: finding an order by name or number and the shopper's email or phone;
- limits.py: rate limits per client and shop (Flask-Limiter).

No cookies anywhere: the app proxy strips them, so what a shopper may see
travels in signed order tokens (plugin.links, purpose "order").
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import embed, limits, proxy

    limits.init_app(app)
    app.register_blueprint(proxy.bp)
    app.register_blueprint(embed.bp)
