"""What the store admin does with a return request: approve, decline,
receive, refund, close. Each checks that the move is allowed from where the
request stands (approving twice is refused, not sent twice), records the
first response and resolution times, writes an audit line (``ReturnAction``:
who, when, what), queues the shopper's email for the new status
(notifications/return_mail.py, once per request and status; for a refund
only once Shopify has made it), and leaves the Shopify side to the worker
(sync.py), which pushes until Shopify agrees.

Status changes that Shopify reports (webhooks) come through
``shopify_return_changed`` and ``refund_created`` in status.py instead.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Shop, utcnow
from . import notify
from .models import ReturnAction, ReturnRequest, ReturnStatus
from .requests import MAX_NOTE, ReturnRefused

S = ReturnStatus

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[ReturnStatus], ReturnStatus]] = {
    "approve": (frozenset({S.REQUESTED}), S.APPROVED),
    "decline": (frozenset({S.REQUESTED}), S.DECLINED),
    "receive": (frozenset({S.APPROVED}), S.RECEIVED),
    "refund": (frozenset({S.APPROVED, S.RECEIVED}), S.REFUNDED),
    "close": (frozenset({S.APPROVED, S.RECEIVED, S.REFUNDED}), S.CLOSED),
}

# Shopify's ReturnDeclineReason.
DECLINE_REASONS = ("RETURN_PERIOD_ENDED", "FINAL_SALE", "OTHER")


def get(session: Session, shop_id: int, request_id: int) -> ReturnRequest | None:
    """One of the shop's return requests (never another shop's)."""
    return session.scalar(select(ReturnRequest).where(ReturnRequest.shop_id == shop_id,
                                                      ReturnRequest.id == request_id))


def act(session: Session, shop: Shop, request_id: int, action: str, *, actor: str,
        reason: str | None = None, instructions: str | None = None) -> ReturnRequest:
    """Move the request by ``action`` and queue the matching Shopify mutation.
    ``reason`` is the decline reason (FINAL_SALE, RETURN_PERIOD_ENDED, OTHER);
    ``instructions`` what the shopper is told (how to send it back, or why
    declined). Raises LookupError for a request the shop does not have,
    ReturnRefused for a move that is not allowed now. The caller commits."""
    if action not in TRANSITIONS:
        raise ReturnRefused("action", "must be one of " + ", ".join(TRANSITIONS))
    request = session.scalar(select(ReturnRequest).where(
        ReturnRequest.shop_id == shop.id, ReturnRequest.id == request_id).with_for_update())
    if request is None:
        raise LookupError("no such return request")
    sources, target = TRANSITIONS[action]
    if request.state not in sources:
        if request.state is target:
            raise ReturnRefused("action", f"the return request is already {target.value}")
        raise ReturnRefused("action", f"cannot {action} a return request that is {request.status}")
    if instructions is not None:
        if not isinstance(instructions, str) or len(instructions.strip()) > MAX_NOTE or "\x00" in instructions:
            raise ReturnRefused("instructions", f"must be text of at most {MAX_NOTE} characters")
        instructions = instructions.strip() or None
    if action == "decline":
        reason = (reason or "OTHER").strip().upper()
        if reason not in DECLINE_REASONS:
            raise ReturnRefused("reason", "must be one of " + ", ".join(DECLINE_REASONS))
        request.decline_reason = reason
        request.decline_note = instructions
    elif reason is not None:
        raise ReturnRefused("reason", f"is only for decline, not {action}")
    elif instructions is not None:
        request.instructions = instructions

    now = utcnow()
    request.status = target.value
    request.last_actor = actor[:255] if actor else None
    if request.first_response_at is None:
        request.first_response_at = now
    if target.resolved and request.resolved_at is None:
        request.resolved_at = now
    if target is S.CLOSED:
        request.closed_at = now
    if action == "refund":
        request.refund_requested_at = now
    request.next_attempt_at = now  # the worker tells Shopify
    request.sync_attempts = 0
    request.actions.append(ReturnAction(shop_id=shop.id, action=action, actor=request.last_actor, at=now,
                                        reason=reason if action == "decline" else None, note=instructions))
    if action != "refund":  # refunded is told once Shopify has made the refund (sync.py, status.py)
        notify.status_changed(session, shop.id, request, now)  # approved, declined: the shopper hears once
    return request
