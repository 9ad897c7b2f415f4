"""What shoppers see of their orders: the order view (view.py), shared by the
tracking page and the storefront widget, and the pages opened from signed
links in messages (pages.py: /t/<token>, /u/<token>).

returns.py (the order's returns as the shopper sees them) is imported as
``plugin.tracking.returns``, not from here: it needs the returns domain,
which needs settings and notifications, which need the view above."""

from .view import VIEW_ROWS, order_view

__all__ = ["VIEW_ROWS", "order_view"]
