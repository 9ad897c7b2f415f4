"""The embedded admin: pages inside the Shopify admin and their JSON API."""

from __future__ import annotations

from .launch import api, bp

__all__ = ["api", "bp"]
