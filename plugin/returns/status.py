"""Keeping a request's status true when the merchant acts in Shopify's own
admin: returns/* and refunds/create webhooks, parsed into the records below
by the webhook layer. A return is matched by its Shopify id, then by order:
a request of ours on that order that the worker already sent (or tried to)
but whose Shopify id never reached us, e.g. after a crash between the call
and recording its answer. A request never sent is not matched by order, so a
return the merchant made in Shopify is never mistaken for it; refunds match
by return id only.

Shopify's word wins: what it reports becomes both ``status`` and
``shopify_status``, so the worker has nothing to push back. A change of
status queues the shopper's email for it, under the same dedupe key as when
the admin acts here: whichever side acted, the shopper hears once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Order, utcnow
from . import notify
from .models import RefundLine, ReturnRequest, ReturnStatus
from .sync import needs_push

log = logging.getLogger(__name__)

S = ReturnStatus


@dataclass(frozen=True)
class ShopifyReturnData:
    shopify_id: int
    status: str  # Shopify's ReturnStatus: REQUESTED, OPEN, DECLINED, CANCELED, CLOSED
    order_shopify_id: int | None = None
    decline_reason: str | None = None
    decline_note: str | None = None


@dataclass(frozen=True)
class RefundLineData:
    shopify_id: int
    line_item_shopify_id: int
    quantity: int
    restock_type: str | None = None


@dataclass(frozen=True)
class RefundData:
    shopify_id: int
    order_shopify_id: int
    return_shopify_id: int | None = None
    lines: tuple[RefundLineData, ...] = ()


def _order(session: Session, shop_id: int, shopify_id: int | None) -> Order | None:
    if shopify_id is None:
        return None
    return session.scalar(select(Order).where(Order.shop_id == shop_id, Order.shopify_id == shopify_id))


def _match(session: Session, shop_id: int, shopify_id: int, order_shopify_id: int | None) -> ReturnRequest | None:
    request = session.scalar(select(ReturnRequest).where(
        ReturnRequest.shop_id == shop_id, ReturnRequest.shopify_return_id == shopify_id).with_for_update())
    if request is not None or order_shopify_id is None:
        return request
    order = _order(session, shop_id, order_shopify_id)
    if order is None:
        return None
    request = session.scalars(select(ReturnRequest).where(
        ReturnRequest.shop_id == shop_id, ReturnRequest.order_id == order.id,
        ReturnRequest.shopify_return_id.is_(None),
        ReturnRequest.sync_attempts > 0,  # the worker called returnRequest for it at least once
        ReturnRequest.status.in_([s.value for s in S if s.active]),
    ).order_by(ReturnRequest.requested_at, ReturnRequest.id).limit(1).with_for_update()).first()
    if request is not None:
        request.shopify_return_id = shopify_id
    return request


def shopify_return_changed(session: Session, shop_id: int, data: ShopifyReturnData) -> ReturnRequest | None:
    """A returns/* webhook: bring the matching request to what Shopify says."""
    request = _match(session, shop_id, data.shopify_id, data.order_shopify_id)
    if request is None:
        log.info("return %s of shop %s is not one of ours; ignored", data.shopify_id, shop_id)
        return None
    now = utcnow()
    status = data.status.upper()
    current = request.state
    if status == "REQUESTED":
        new = current  # our own request arriving back; whatever we decided since still stands
    elif status == "OPEN":
        new = current if current in (S.APPROVED, S.RECEIVED, S.REFUNDED) else S.APPROVED
        if current in (S.CLOSED, S.DECLINED, S.CANCELLED):  # reopened
            request.closed_at = None
            request.resolved_at = None
    elif status == "DECLINED":
        new = S.DECLINED
        request.decline_reason = (data.decline_reason or request.decline_reason or "OTHER").upper()
        request.decline_note = data.decline_note if data.decline_note is not None else request.decline_note
    elif status == "CANCELED":
        new = S.CANCELLED
    elif status == "CLOSED":
        new = S.CLOSED
        request.closed_at = request.closed_at or now
    else:
        log.warning("unknown Shopify return status %r for return %s", status, data.shopify_id)
        return request
    if status != "REQUESTED" or request.shopify_status is None:
        request.shopify_status = status
    if new is not current:
        request.status = new.value
        if new in (S.APPROVED, S.DECLINED) and request.first_response_at is None:
            request.first_response_at = now
        if new.resolved and request.resolved_at is None:
            request.resolved_at = now
        notify.status_changed(session, shop_id, request, now)
    request.next_attempt_at = now if needs_push(request) else None
    return request


def refund_created(session: Session, shop_id: int, data: RefundData) -> None:
    """refunds/create: remember what was refunded (it is no longer returnable);
    a refund of one of our returns marks it refunded."""
    order = _order(session, shop_id, data.order_shopify_id)
    if order is None:
        log.info("refund %s for an order shop %s does not have; ignored", data.shopify_id, shop_id)
        return
    known = set(session.scalars(select(RefundLine.shopify_id).where(
        RefundLine.shop_id == shop_id, RefundLine.shopify_id.in_([line.shopify_id for line in data.lines]))))
    for line in data.lines:
        if line.shopify_id not in known:
            session.add(RefundLine(
                shop_id=shop_id, order_id=order.id, shopify_id=line.shopify_id, refund_shopify_id=data.shopify_id,
                return_shopify_id=data.return_shopify_id, line_item_shopify_id=line.line_item_shopify_id,
                quantity=line.quantity, restock_type=line.restock_type))
    if data.return_shopify_id is None:
        return
    request = _match(session, shop_id, data.return_shopify_id, None)
    if request is None:
        return
    now = utcnow()
    # The refund exists in Shopify: whoever made it, no other is owed.
    if request.shopify_refund_id is None:
        request.shopify_refund_id = data.shopify_id
    if request.state in (S.REQUESTED, S.APPROVED, S.RECEIVED):
        request.status = S.REFUNDED.value
        request.first_response_at = request.first_response_at or now
        request.resolved_at = request.resolved_at or now
    if request.state in (S.REFUNDED, S.CLOSED):
        notify.refunded(session, shop_id, request, now)
    request.next_attempt_at = now if needs_push(request) else None
