"""Recording a customer's answers.

An answer is one score (and perhaps a comment) to one question of an
invitation. It can be given again, or changed, until the invitation expires:
the row is upserted on (shop, invitation, question), so a double click or two
tabs submitting at once leave one answer, the last one. A one-click score from
the email followed by the comment form keeps the score's comment-less submit
from erasing a comment already written.

Comments are kept as the customer typed them (markup is text; every page and
export escapes it), without control characters, and refused above
``MAX_COMMENT`` characters rather than cut silently.
"""

from __future__ import annotations

import re

from sqlalchemy import case, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..models import Shop, utcnow
from .kinds import SurveyKind
from .models import InvitationStatus, SurveyInvitation, SurveyResponse

MAX_COMMENT = 5000
_WHOLE_NUMBER = re.compile(r"^\s*[+-]?\d{1,6}\s*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class InvalidAnswer(ValueError):
    """The answer itself is not acceptable; ``field`` names what (kind, score, comment)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class AnswerRefused(Exception):
    """The invitation takes no (more) answers: ``reason`` is not_sent, expired,
    erased (its order was erased by customers/redact) or other_shop."""

    def __init__(self, reason: str):
        super().__init__(f"this survey takes no answers ({reason})")
        self.reason = reason


def parse_kind(invitation: SurveyInvitation, kind: str | SurveyKind) -> SurveyKind:
    try:
        parsed = SurveyKind(kind)
    except ValueError:
        raise InvalidAnswer("kind", "must be one of " + ", ".join(invitation.kinds)) from None
    if parsed.value not in invitation.kinds:
        raise InvalidAnswer("kind", "this survey does not ask " + parsed.value)
    return parsed


def parse_score(kind: SurveyKind, score: object) -> int:
    """A whole number on the kind's scale; text of one (from a form) is accepted."""
    scale = kind.scale
    problem = f"{kind.value} answers are whole numbers from {scale.min} to {scale.max}"
    if isinstance(score, str) and _WHOLE_NUMBER.match(score):
        score = int(score)
    if isinstance(score, bool) or not isinstance(score, int) or score not in scale:
        raise InvalidAnswer("score", problem)
    return score


def clean_comment(comment: object) -> str | None:
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise InvalidAnswer("comment", "must be text")
    comment = _CONTROL.sub("", comment.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidAnswer("comment", f"must be at most {MAX_COMMENT} characters (this one has {len(comment)})")
    return comment or None


def check_open(shop: Shop, invitation: SurveyInvitation) -> None:
    """Raise AnswerRefused unless the invitation takes answers now."""
    if invitation.shop_id != shop.id:
        raise AnswerRefused("other_shop")
    if invitation.status == InvitationStatus.ERASED.value:
        raise AnswerRefused("erased")
    if invitation.sent_at is None:
        raise AnswerRefused("not_sent")
    if invitation.expires_at is not None and utcnow() >= invitation.expires_at:
        raise AnswerRefused("expired")


def record_answer(session: Session, shop: Shop, invitation: SurveyInvitation, kind: str | SurveyKind,
                  score: object, comment: object = None) -> bool:
    """Store (or change) the answer to one question; returns whether it is low
    (CSAT ≤ 2, CES ≤ 3, NPS ≤ 6), which alerts the merchant.

    Raises InvalidAnswer for a bad kind, score or comment and AnswerRefused
    for an invitation that takes no answers; either way nothing is written."""
    check_open(shop, invitation)
    parsed = parse_kind(invitation, kind)
    value = parse_score(parsed, score)
    text = clean_comment(comment)
    now = utcnow()

    table = SurveyResponse.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(
        shop_id=shop.id, invitation_id=invitation.id, kind=parsed.value, score=value, comment=text,
        order_id=invitation.order_id, touchpoint=invitation.touchpoint, carrier=invitation.carrier,
        products=list(invitation.products or []), days_late=invitation.days_late, locale=invitation.locale,
        answered_at=now,
    )
    new = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.shop_id, table.c.invitation_id, table.c.kind],
        set_={
            "score": new.score,
            "comment": func.coalesce(new.comment, table.c.comment),
            "changed_at": case(
                (or_(new.score != table.c.score,
                     new.comment.is_not(None) & new.comment.is_distinct_from(table.c.comment)), now),
                else_=table.c.changed_at,
            ),
        },
    )
    session.execute(statement)
    session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.shop_id == shop.id, SurveyInvitation.id == invitation.id,
               SurveyInvitation.answered_at.is_(None))
        .values(answered_at=now, status=InvitationStatus.ANSWERED.value)
        .execution_options(synchronize_session=False)
    )
    session.expire(invitation, ["answered_at", "status"])
    return parsed.scale.is_low(value)
