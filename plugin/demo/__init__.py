"""`aftercare demo`: everything in one process, with a demo shop and sample orders.

The demo uses the real paths only: it installs a shop (``install.py``), then
posts signed webhooks (exactly the headers Shopify sends) to its own
``POST /webhooks`` over HTTP (``player.py`` plays ``scenario.py``), and the
worker, running in a thread of the same process, turns them into order and
shipment state. ``GET /demo`` (``pages.py``) shows the result as it changes.
The shop starts with weeks of history (``history.py``); its customer messages
wait in the outbox and are shown as they would be sent (``messages.py``).

Shopify itself is played by ``fake_shopify.py``, a stand-in for the Admin
GraphQL API on another local port: the worker passes returns to it (and the
webhook subscriptions of the install), so a return goes all the way to
refunded and closed.

One way in: the CLI calls ``main``, create_app registers ``bp``.
"""

from .pages import bp
from .run import main
from .scenario import DEMO_SHOP

__all__ = ["DEMO_SHOP", "bp", "main"]
