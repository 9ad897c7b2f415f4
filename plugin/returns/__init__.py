"""Self-service returns: what may be returned, asking for it, passing the
request to Shopify, and keeping its status true.

One way in: the widget, the admin and the webhook handlers call only what
is exported here.

- ``returnable(session, shop, order)`` → one ``ItemEligibility`` per line item
- ``order_requests(session, shop, order)`` → the order's ``ReturnRequest``s, newest first
- ``request_return(session, shop, order, items, *, key, note=None)`` → ``ReturnRequest``,
  or ``ReturnRefused(field, message)`` with nothing written
- ``content_key(...)``: an idempotency key for clients that send none
- ``act(session, shop, request_id, action, *, actor, reason=None, instructions=None)``
- ``shopify_return_changed`` / ``refund_created``: what returns/* and refunds/create say
- ``process_due``: the worker job that tells Shopify (registered by create_app)
- ``queue_confirmation``: the outbox row for the shopper's confirmation email
- ``privacy.export`` / ``privacy.redact``: for customers/data_request and customers/redact
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import Order, Shop
from . import eligibility, privacy
from .actions import DECLINE_REASONS, TRANSITIONS, act, get
from .eligibility import ItemEligibility, Why, allowed_reasons
from .models import RefundLine, ReturnAction, ReturnItem, ReturnRequest, ReturnStatus
from .requests import MAX_NOTE, ReturnRefused, content_key, queue_confirmation, request_return
from .status import RefundData, RefundLineData, ShopifyReturnData, refund_created, shopify_return_changed
from .sync import process_due


def returnable(session: Session, shop: Shop, order: Order, *,
               requests: list[ReturnRequest] | None = None) -> list[ItemEligibility]:
    """Every line item of the shop's ``order`` with how many may be returned,
    and why not; ``requests``: its ``order_requests``, when already read."""
    return eligibility.returnable(session, shop.id, order, requests=requests)


def order_requests(session: Session, shop: Shop, order: Order) -> list[ReturnRequest]:
    """The return requests of the shop's ``order``, with their items, newest first."""
    return eligibility.order_requests(session, shop.id, order.id)


__all__ = [
    "DECLINE_REASONS", "MAX_NOTE", "TRANSITIONS",
    "ItemEligibility", "RefundData", "RefundLine", "RefundLineData", "ReturnAction", "ReturnItem", "ReturnRefused",
    "ReturnRequest", "ReturnStatus", "ShopifyReturnData", "Why",
    "act", "allowed_reasons", "privacy", "content_key", "get", "order_requests", "process_due", "queue_confirmation", "refund_created",
    "request_return", "returnable", "shopify_return_changed",
]
