"""The returns queue as the admin sees it: a shop's return requests, newest
first, optionally of one status, each with what the shop needs to decide.

Shared by the Returns page and `GET /api/admin/returns`, so both show the
same rows. Notes are the shopper's (or staff's) words, kept as typed:
returned as text, escaped wherever shown.
"""

from __future__ import annotations

import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import LineItem, Order
from ..returns import TRANSITIONS, ReturnRequest, ReturnStatus

PER_PAGE = 20
MAX_PER_PAGE = 100
STATUSES = tuple(status.value for status in ReturnStatus)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def actions(request: ReturnRequest) -> list[str]:
    """What the admin may do with the request now, in the order buttons show."""
    return [action for action, (sources, _target) in TRANSITIONS.items() if request.state in sources]


def sync_state(request: ReturnRequest) -> str:
    """How far Shopify agrees: ``synced``, ``pending`` (the worker will tell
    it), ``failed`` (the last try failed; it is tried again) or ``local``
    (never needed to reach Shopify: declined or cancelled before it did)."""
    if request.next_attempt_at is not None:
        return "failed" if request.sync_error else "pending"
    return "synced" if request.shopify_return_id is not None else "local"


def describe(request: ReturnRequest, order_name: str | None, titles: dict[int, tuple[str | None, str | None]]) -> dict:
    return {
        "id": request.id,
        "order": order_name,
        "status": request.status,
        "note": request.note,
        "items": [{
            "line_item_id": str(item.line_item_shopify_id),
            "title": titles.get(item.line_item_shopify_id, (None, None))[0],
            "variant": titles.get(item.line_item_shopify_id, (None, None))[1],
            "quantity": item.quantity, "reason": item.reason, "note": item.note,
        } for item in request.items],
        "requested_at": _iso(request.requested_at),
        "first_response_at": _iso(request.first_response_at),
        "resolved_at": _iso(request.resolved_at),
        "closed_at": _iso(request.closed_at),
        "instructions": request.instructions,
        "decline_reason": request.decline_reason,
        "decline_note": request.decline_note,
        "shopify": {
            "state": sync_state(request),
            "status": request.shopify_status,
            "return_id": str(request.shopify_return_id) if request.shopify_return_id else None,
            "error": request.sync_error,
            "attempts": request.sync_attempts,
            "next_attempt_at": _iso(request.next_attempt_at),
        },
        "actions": actions(request),
        "history": [{"action": a.action, "actor": a.actor, "at": _iso(a.at), "reason": a.reason, "note": a.note}
                    for a in request.actions],
    }


def _titles(session: Session, shop_id: int, order_ids: set[int]) -> dict[int, tuple[str | None, str | None]]:
    if not order_ids:
        return {}
    rows = session.execute(select(LineItem.shopify_id, LineItem.title, LineItem.variant_title).where(
        LineItem.shop_id == shop_id, LineItem.order_id.in_(order_ids)))
    return {shopify_id: (title, variant) for shopify_id, title, variant in rows}


def page(session: Session, shop_id: int, status: str | None = None, number: int = 1,
         per_page: int = PER_PAGE) -> dict:
    """Rows of page ``number`` (from 1), of ``status`` only when given (one of STATUSES)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    where = [ReturnRequest.shop_id == shop_id]
    if status is not None:
        where.append(ReturnRequest.status == status)
    total = session.scalar(select(func.count()).select_from(ReturnRequest).where(*where))
    pages = max(1, math.ceil(total / per_page))
    number = max(1, number)
    rows = session.execute(
        select(ReturnRequest, Order.name)
        .outerjoin(Order, (Order.id == ReturnRequest.order_id) & (Order.shop_id == shop_id))
        .where(*where)
        .options(selectinload(ReturnRequest.items), selectinload(ReturnRequest.actions))
        .order_by(ReturnRequest.requested_at.desc(), ReturnRequest.id.desc())
        .limit(per_page).offset((number - 1) * per_page)
    ).all()
    titles = _titles(session, shop_id, {request.order_id for request, _name in rows})
    return {
        "items": [describe(request, name, titles) for request, name in rows],
        "status": status, "page": number, "per_page": per_page, "total": total, "pages": pages,
    }


def one(session: Session, shop_id: int, request: ReturnRequest) -> dict:
    """One request, shaped as in ``page`` (after an action)."""
    name = session.scalar(select(Order.name).where(Order.shop_id == shop_id, Order.id == request.order_id))
    return describe(request, name, _titles(session, shop_id, {request.order_id}))


def counts(session: Session, shop_id: int) -> dict[str, int]:
    """How many of the shop's requests stand at each status (the filter's tabs show them)."""
    rows = session.execute(select(ReturnRequest.status, func.count()).where(ReturnRequest.shop_id == shop_id)
                           .group_by(ReturnRequest.status))
    found = dict(rows.all())
    return {status: found.get(status, 0) for status in STATUSES}
