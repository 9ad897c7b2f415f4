"""What a shopper may send back: per line item, how many and, when none,
why not.

Returnable = what was shipped (in fulfillments not cancelled, at most what
was bought less what was cancelled before shipping), less what was refunded
outside a return of ours, less what active return requests already hold.
When that is zero, ``why`` names the first reason that applies, in the order
of ``Why`` below; a reason that blocks the whole order (cancelled, window)
wins over counting.

The window (``returns.window_days``) is counted per line item from
``returns.window_starts``: the latest delivery of a parcel holding the item
(the shopper gets the benefit of the doubt), else its latest fulfillment
when no carrier reported a delivery, else the order's creation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import settings
from ..models import Order, utcnow
from .models import RefundLine, ReturnRequest


class Why(str, enum.Enum):
    """Why an item cannot be returned (any more)."""

    ORDER_CANCELLED = "order_cancelled"
    GIFT_CARD = "gift_card"
    FINAL_SALE = "final_sale"
    NOT_SHIPPED = "not_shipped"
    ALREADY_RETURNED = "already_returned"  # all of it requested or refunded already
    OUTSIDE_WINDOW = "outside_window"


@dataclass(frozen=True)
class ItemEligibility:
    line_item_id: int  # Shopify's id
    title: str | None
    variant_title: str | None
    bought: int
    shipped: int
    requested: int  # held by active return requests
    refunded: int
    returnable: int
    why: Why | None  # set when returnable is 0
    window_ends_at: datetime | None


def _tags(text: str | None) -> set[str]:
    return {t.strip().lower() for t in (text or "").split(",") if t.strip()}


def order_requests(session: Session, shop_id: int, order_id: int) -> list[ReturnRequest]:
    """The order's return requests with their items, newest first, as the
    database has them now (over what the session may have read before)."""
    return list(session.scalars(
        select(ReturnRequest).where(ReturnRequest.shop_id == shop_id, ReturnRequest.order_id == order_id)
        .options(selectinload(ReturnRequest.items)).execution_options(populate_existing=True)
        .order_by(ReturnRequest.requested_at.desc(), ReturnRequest.id.desc())))


def requested_quantities(requests: list[ReturnRequest]) -> dict[int, int]:
    """Line item id → quantity held by the active ones of ``requests``."""
    held: dict[int, int] = {}
    for request in requests:
        if request.state.active:
            for item in request.items:
                held[item.line_item_shopify_id] = held.get(item.line_item_shopify_id, 0) + item.quantity
    return held


def _refunds(session: Session, shop_id: int, order_id: int,
             requests: list[ReturnRequest]) -> tuple[dict[int, int], dict[int, int]]:
    """(cancelled before shipping, refunded after) per line item, leaving out
    refunds that close a return of ours (its request already counts them)."""
    ours = {r.shopify_return_id for r in requests if r.shopify_return_id is not None}
    rows = session.execute(
        select(RefundLine.line_item_shopify_id, RefundLine.restock_type, RefundLine.quantity,
               RefundLine.return_shopify_id)
        .where(RefundLine.shop_id == shop_id, RefundLine.order_id == order_id)
    ).all()
    cancelled: dict[int, int] = {}
    refunded: dict[int, int] = {}
    for line_item, restock_type, quantity, return_id in rows:
        if return_id is not None and return_id in ours:
            continue
        target = cancelled if restock_type == "cancel" else refunded
        target[line_item] = target.get(line_item, 0) + quantity
    return cancelled, refunded


def _window_start(order: Order, line_item_id: int, starts: str) -> datetime | None:
    parcels = [f for f in order.fulfillments
               if (f.status or "").lower() not in ("cancelled", "canceled", "error", "failure")
               and any(row.line_item_shopify_id == line_item_id and row.quantity > 0 for row in f.line_items)]
    if starts in ("delivered", "fulfilled"):
        delivered = [f.delivered_at for f in parcels if f.delivered_at] if starts == "delivered" else []
        if delivered:
            return max(delivered)
        fulfilled = [f.shopify_created_at or f.created_at for f in parcels]
        if fulfilled:
            return max(fulfilled)
    return order.shopify_created_at or order.created_at


def returnable(session: Session, shop_id: int, order: Order, *, now: datetime | None = None,
               requests: list[ReturnRequest] | None = None) -> list[ItemEligibility]:
    """Every line item of ``order`` with what may still be returned.
    ``requests``: the order's return requests (``order_requests``), when the
    caller has them already."""
    if order.shop_id != shop_id:
        raise LookupError("no such order")
    now = now or utcnow()
    config = settings.load(session, shop_id)
    if requests is None:
        requests = order_requests(session, shop_id, order.id)
    window = timedelta(days=config["returns.window_days"])
    final_sale = (config["returns.final_sale_tag"] or "").strip().lower()
    order_final_sale = bool(final_sale) and final_sale in _tags(order.tags)
    requested = requested_quantities(requests)
    cancelled, refunded = _refunds(session, shop_id, order.id, requests)

    result = []
    for li in order.line_items:
        shipped_total = sum(row.quantity for f in order.fulfillments
                            if (f.status or "").lower() not in ("cancelled", "canceled", "error", "failure")
                            for row in f.line_items if row.line_item_shopify_id == li.shopify_id)
        shipped = max(0, min(shipped_total, li.quantity - cancelled.get(li.shopify_id, 0)))
        held = requested.get(li.shopify_id, 0)
        gone = refunded.get(li.shopify_id, 0)
        start = _window_start(order, li.shopify_id, config["returns.window_starts"])
        ends = start + window if start else None
        count = max(0, shipped - held - gone)
        if order.cancelled_at is not None:
            why = Why.ORDER_CANCELLED
        elif li.gift_card:
            why = Why.GIFT_CARD
        elif order_final_sale:
            why = Why.FINAL_SALE
        elif shipped == 0:
            why = Why.NOT_SHIPPED
        elif count == 0:
            why = Why.ALREADY_RETURNED
        elif ends is not None and now > ends:
            why = Why.OUTSIDE_WINDOW
        else:
            why = None
        result.append(ItemEligibility(
            line_item_id=li.shopify_id, title=li.title, variant_title=li.variant_title, bought=li.quantity,
            shipped=shipped, requested=held, refunded=gone, returnable=0 if why else count, why=why,
            window_ends_at=ends,
        ))
    return result


def allowed_reasons(session: Session, shop_id: int) -> list[str]:
    """The return reasons the shop offers (``returns.reasons``), in order."""
    return list(settings.load(session, shop_id)["returns.reasons"])
