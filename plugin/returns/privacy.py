"""A customer's return requests in their data export, and erased from them
on customers/redact: notes are the shopper's own words and may hold
anything. What stays (items, quantities, reasons, times) describes the
order, not the person, and keeps the shop's return metrics whole."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import ReturnItem, ReturnRequest

REDACTED = None


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def export(session: Session, shop_id: int, order_ids: list[int]) -> list[dict]:
    """The return requests of these orders, JSON-ready."""
    if not order_ids:
        return []
    requests = session.scalars(select(ReturnRequest).where(
        ReturnRequest.shop_id == shop_id, ReturnRequest.order_id.in_(order_ids)).order_by(ReturnRequest.id))
    return [
        {
            "id": r.id, "order_id": r.order_id, "status": r.status, "note": r.note,
            "requested_at": _iso(r.requested_at), "resolved_at": _iso(r.resolved_at),
            "decline_reason": r.decline_reason, "decline_note": r.decline_note, "instructions": r.instructions,
            "items": [{"line_item_id": str(i.line_item_shopify_id), "quantity": i.quantity, "reason": i.reason,
                       "note": i.note} for i in r.items],
        }
        for r in requests
    ]


def redact(session: Session, shop_id: int, order_ids: list[int]) -> None:
    """Blank the shopper's notes on the return requests of these orders."""
    if not order_ids:
        return
    request_ids = select(ReturnRequest.id).where(ReturnRequest.shop_id == shop_id,
                                                 ReturnRequest.order_id.in_(order_ids))
    session.execute(update(ReturnRequest).where(ReturnRequest.shop_id == shop_id, ReturnRequest.id.in_(request_ids))
                    .values(note=REDACTED).execution_options(synchronize_session=False))
    session.execute(update(ReturnItem).where(ReturnItem.shop_id == shop_id, ReturnItem.request_id.in_(request_ids))
                    .values(note=REDACTED).execution_options(synchronize_session=False))
