"""The closed loop's list: low answers, and the merchant's "followed up" mark.

A low answer is one the kind's scale calls low (CSAT ≤ 2, CES ≤ 3, NPS ≤ 6:
``Scale.is_low``). Marking it records who followed up (the admin session's
user) and when, once: the mark is one conditional UPDATE, so a double click
or two admins at once leave the first mark standing and the second learns
whose it is. The time from answer to mark is measured in ``metrics``.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from ..models import Order, utcnow
from .kinds import SurveyKind
from .metrics import lateness
from .models import SurveyResponse

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_WHO = 320  # the column's length


class AlreadyFollowedUp(Exception):
    """Someone marked the answer first; ``answer`` says who and when."""

    def __init__(self, answer: dict):
        super().__init__("already followed up")
        self.answer = answer


def is_low(model=SurveyResponse):
    """SQL: the answer's score is low on its kind's scale."""
    return or_(*(and_(model.kind == kind.value, model.score <= kind.scale.low_at_most) for kind in SurveyKind))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe(answer: SurveyResponse, order_name: str | None) -> dict:
    scale = SurveyKind(answer.kind).scale
    return {
        "id": answer.id, "order": order_name, "kind": answer.kind, "score": answer.score,
        "scale": {"min": scale.min, "max": scale.max}, "comment": answer.comment,
        "carrier": answer.carrier, "days_late": answer.days_late, "lateness": lateness(answer.days_late),
        "touchpoint": answer.touchpoint, "answered_at": _iso(answer.answered_at),
        "followed_up_at": _iso(answer.followed_up_at), "followed_up_by": answer.followed_up_by,
    }


def low_answers(session: Session, shop_id: int, *, followed_up: bool | None = None, page: int = 1,
                per_page: int = PER_PAGE) -> dict:
    """The shop's low answers, newest first; only those (not) followed up when
    ``followed_up`` is True (False)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    r = SurveyResponse
    where = [r.shop_id == shop_id, is_low(r)]
    if followed_up is not None:
        where.append(r.followed_up_at.is_not(None) if followed_up else r.followed_up_at.is_(None))
    total = session.scalar(select(func.count()).select_from(r).where(*where))
    page = max(1, page)
    rows = session.execute(
        select(r, Order.name).outerjoin(Order, (Order.shop_id == r.shop_id) & (Order.id == r.order_id))
        .where(*where).order_by(r.answered_at.desc(), r.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {"items": [describe(answer, name) for answer, name in rows], "page": page, "per_page": per_page,
            "total": total, "pages": max(1, math.ceil(total / per_page))}


def _one(session: Session, shop_id: int, answer_id: int) -> dict | None:
    r = SurveyResponse
    row = session.execute(
        select(r, Order.name).outerjoin(Order, (Order.shop_id == r.shop_id) & (Order.id == r.order_id))
        .where(r.shop_id == shop_id, r.id == answer_id, is_low(r))
    ).first()
    return describe(*row) if row else None


def follow_up(session: Session, shop_id: int, answer_id: int, who: str, now: datetime | None = None) -> dict:
    """Mark the shop's low answer ``answer_id`` followed up by ``who``; the
    answer as ``low_answers`` shows it. LookupError when the shop has no such
    low answer, AlreadyFollowedUp when it was marked before. The caller commits."""
    r = SurveyResponse
    marked = session.execute(
        update(r).where(r.shop_id == shop_id, r.id == answer_id, is_low(r), r.followed_up_at.is_(None))
        .values(followed_up_at=now or utcnow(), followed_up_by=who[:MAX_WHO])
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire_all()
    answer = _one(session, shop_id, answer_id)
    if answer is None:
        raise LookupError(answer_id)
    if not marked:
        raise AlreadyFollowedUp(answer)
    return answer
