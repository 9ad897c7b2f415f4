"""The embedded admin: pages inside the Shopify admin, their JSON API and
`aftercare settings`. The app factory registers ``bp`` and ``api``; the demo
prints ``admin_url(shop_domain)``, a signed link that opens the pages in a
plain browser."""

from __future__ import annotations

from .blueprint import api, bp
from .tokens import admin_url

__all__ = ["admin_url", "api", "bp"]
