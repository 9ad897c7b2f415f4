"""What surveys hold about one customer, for the privacy webhooks.

customers/redact erases the customer's comments and recipient hashes and
closes their invitations to further answers; the scores stay, as anonymous
figures in the metrics (as the rest of privacy.py keeps counts).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Order
from .models import InvitationStatus, SurveyInvitation, SurveyResponse


def erase_for_orders(session: Session, shop_id: int, order_ids: list[int]) -> None:
    if not order_ids:
        return
    session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.shop_id == shop_id, SurveyResponse.order_id.in_(order_ids))
        .values(comment=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.shop_id == shop_id, SurveyInvitation.order_id.in_(order_ids))
        .values(status=InvitationStatus.ERASED.value, recipient_hash=None)
        .execution_options(synchronize_session=False)
    )


def export_for_orders(session: Session, shop_id: int, order_ids: list[int]) -> list[dict]:
    """The customer's answers, for a customers/data_request export."""
    if not order_ids:
        return []
    rows = session.execute(
        select(SurveyResponse, Order.name)
        .join(Order, (Order.id == SurveyResponse.order_id) & (Order.shop_id == SurveyResponse.shop_id))
        .where(SurveyResponse.shop_id == shop_id, SurveyResponse.order_id.in_(order_ids))
        .order_by(SurveyResponse.answered_at, SurveyResponse.id)
    )
    return [
        {"order": name, "touchpoint": r.touchpoint, "kind": r.kind, "score": r.score,
         "comment": r.comment, "answered_at": r.answered_at.isoformat(),
         "changed_at": r.changed_at.isoformat() if r.changed_at else None}
        for r, name in rows
    ]
