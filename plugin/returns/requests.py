"""A shopper asks for a return: checked, then stored at once with its items.

``request_return`` checks everything before it writes anything: a bad input
raises ``ReturnRefused(field, message)`` and leaves the database as it was.
The same idempotency ``key`` twice gives back the first request (a double
click, a retried POST), never a second one. Notes are kept as the shopper
typed them, markup included: they are text, escaped wherever shown.
A new request queues the shopper's confirmation email in the same
transaction (notifications/return_mail.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Notification, Order, Shop, utcnow
from . import notify
from .eligibility import Why, allowed_reasons, returnable
from .models import ReturnItem, ReturnRequest, ReturnStatus

MAX_NOTE = 1000  # characters, per item and for the request
MAX_KEY = 64
MAX_QUANTITY = 10_000


class ReturnRefused(ValueError):
    """The request cannot be made as asked; ``field`` names what to fix
    (``items[0].quantity``, ``note``, ``key``…), ``message`` says why, and
    ``why`` is set when the item cannot be returned at all (eligibility.Why)."""

    def __init__(self, field: str, message: str, why: Why | None = None):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.why = why


def _line_item_id(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ReturnRefused(field, "must be a line item id")
    # ASCII digits: "²".isdigit() is true, but int() refuses it.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) < 20:
        value = int(value.strip())
    elif isinstance(value, str) and value.startswith("gid://shopify/LineItem/"):
        return _line_item_id(field, value.rsplit("/", 1)[1])
    if not isinstance(value, int) or not 0 < value < 2**63:  # Shopify's ids fit in BIGINT
        raise ReturnRefused(field, "must be a line item id")
    return value


def _quantity(field: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) < 7:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReturnRefused(field, "must be a whole number")
    if value <= 0:
        raise ReturnRefused(field, "must be at least 1")
    if value > MAX_QUANTITY:
        raise ReturnRefused(field, "is more than can be returned")
    return value


def _note(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReturnRefused(field, "must be text")
    if "\x00" in value:
        raise ReturnRefused(field, "must not contain NUL characters")
    value = value.strip()
    if len(value) > MAX_NOTE:
        raise ReturnRefused(field, f"must be at most {MAX_NOTE} characters")
    return value or None


def _checked_items(items: Any, reasons: list[str]) -> list[dict]:
    if not isinstance(items, (list, tuple)) or not items:
        raise ReturnRefused("items", "must list at least one item to return")
    checked: list[dict] = []
    seen: set[int] = set()
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, Mapping):
            raise ReturnRefused(where, "must be an object with line_item_id, quantity and reason")
        line_item = _line_item_id(f"{where}.line_item_id", item.get("line_item_id"))
        if line_item in seen:
            raise ReturnRefused(f"{where}.line_item_id", "is listed twice")
        seen.add(line_item)
        quantity = _quantity(f"{where}.quantity", item.get("quantity"))
        reason = item.get("reason")
        if not isinstance(reason, str) or reason.strip().upper() not in reasons:
            raise ReturnRefused(f"{where}.reason", "must be one of " + ", ".join(reasons))
        checked.append({"line_item_id": line_item, "quantity": quantity, "reason": reason.strip().upper(),
                        "note": _note(f"{where}.note", item.get("note"))})
    return checked


def _fingerprint(order: Order, items: list[dict], note: str | None) -> str:
    canonical = json.dumps({"order": order.shopify_id, "note": note,
                            "items": sorted(items, key=lambda item: item["line_item_id"])}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def content_key(session: Session, shop: Shop, order: Order, items: Iterable[Mapping]) -> str:
    """An idempotency key derived from what is asked, for callers whose client
    sends none: the same items twice give the same key (one request), while a
    request made again after a decline or cancellation gets a new one."""
    finished = session.scalar(select(func.count()).select_from(ReturnRequest).where(
        ReturnRequest.shop_id == shop.id, ReturnRequest.order_id == order.id,
        ReturnRequest.status.in_([ReturnStatus.DECLINED.value, ReturnStatus.CANCELLED.value])))
    canonical = json.dumps({"order": order.shopify_id, "finished": finished,
                            "items": sorted(([str(i.get("line_item_id")), str(i.get("quantity")),
                                              str(i.get("reason"))]
                                             for i in (items if isinstance(items, (list, tuple)) else [])
                                             if isinstance(i, Mapping)))})
    return "content:" + hashlib.sha256(canonical.encode()).hexdigest()[:50]


def request_return(session: Session, shop: Shop, order: Order, items: Any, *, key: str,
                   note: Any = None) -> ReturnRequest:
    """Store a return request for ``items`` of ``order`` (each a mapping with
    ``line_item_id``, ``quantity``, ``reason`` and an optional ``note``), to
    be passed to Shopify by the worker. The caller commits."""
    if order.shop_id != shop.id:
        raise ReturnRefused("order", "no such order")
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise ReturnRefused("key", f"must be 1 to {MAX_KEY} characters")
    # Hold the order while counting what is returnable, so two requests at once cannot both take the same item.
    session.execute(select(Order.id).where(Order.shop_id == shop.id, Order.id == order.id).with_for_update())

    checked = _checked_items(items, allowed_reasons(session, shop.id))
    request_note = _note("note", note)
    fingerprint = _fingerprint(order, checked, request_note)
    existing = _by_key(session, shop.id, key)
    if existing is not None:
        if existing.order_id != order.id or existing.fingerprint != fingerprint:
            raise ReturnRefused("key", "was already used for a different return request")
        return existing

    eligibility = {e.line_item_id: e for e in returnable(session, shop.id, order)}
    for i, item in enumerate(checked):
        where = f"items[{i}]"
        e = eligibility.get(item["line_item_id"])
        if e is None:
            raise ReturnRefused(f"{where}.line_item_id", "is not an item of this order")
        if e.why is not None:
            raise ReturnRefused(f"{where}.line_item_id", f"cannot be returned: {e.why.value}", e.why)
        if item["quantity"] > e.returnable:
            raise ReturnRefused(f"{where}.quantity", f"must be at most {e.returnable}")

    now = utcnow()
    request = ReturnRequest(
        shop_id=shop.id, order_id=order.id, key=key, fingerprint=fingerprint,
        status=ReturnStatus.REQUESTED.value, note=request_note, requested_at=now, next_attempt_at=now,
        items=[ReturnItem(shop_id=shop.id, line_item_shopify_id=item["line_item_id"], quantity=item["quantity"],
                          reason=item["reason"], note=item["note"]) for item in checked],
    )
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:  # the same key, committed by another process a moment ago
        existing = _by_key(session, shop.id, key)
        if existing is None or existing.fingerprint != fingerprint:
            raise ReturnRefused("key", "was already used for a different return request") from None
        return existing
    notify.status_changed(session, shop.id, request, now)  # the shopper's confirmation, in this transaction
    return request


def _by_key(session: Session, shop_id: int, key: str) -> ReturnRequest | None:
    return session.scalar(select(ReturnRequest).where(ReturnRequest.shop_id == shop_id, ReturnRequest.key == key))


def queue_confirmation(session: Session, request: ReturnRequest) -> Notification | None:
    """The shopper's confirmation email (kind ``return_requested``, one per
    request): ``request_return`` already queues it; calling this again adds
    nothing. The outbox row, or None when the order cannot be mailed (no
    address, the kind switched off, a test or cancelled order)."""
    return notify.confirmation(session, request)
