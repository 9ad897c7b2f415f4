"""What shoppers see of their orders: the order view (view.py), shared by the
tracking page and the storefront widget, and the pages opened from signed
links in messages (pages.py: /t/<token>, /u/<token>)."""

from .view import order_view

__all__ = ["order_view"]
