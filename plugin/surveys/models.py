"""Survey invitations and the answers to them.

An invitation asks one customer about one order at one touchpoint (a
delivery, or a return once the returns domain is wired). It snapshots what the
metrics break scores down by — carrier, products, days late (delivered minus
estimated, NULL without an estimate) — when it is made; each answer copies
that snapshot, so every metric is one scan of one table by shop and time,
with no join to orders or fulfillments.

The recipient is kept as a keyed hash (as suppressions are) or reached through
its outbox row, never in clear here.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON, BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, UTCDateTime, shop_fk, shop_key, shop_ref, utcnow


class InvitationStatus(str, enum.Enum):
    PENDING = "pending"    # due, not sent yet
    SENT = "sent"
    ANSWERED = "answered"  # at least one answer; still changeable until it expires
    ERASED = "erased"      # customers/redact: no more answers
    SKIPPED = "skipped"    # decided and never to be sent (unsubscribed, capped, refunded): see sending.py


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"
    __table_args__ = (
        # Response rates: covers every column the metrics read (index-only scans).
        Index("ix_survey_invitations_metrics", "shop_id", "sent_at", "answered_at", "carrier", "touchpoint",
              "days_late"),
        Index(None, "shop_id", "order_id"),
        shop_ref("order_id", "orders"),
        # No action, not SET NULL (which would null shop_id too): nothing
        # deletes a notification but its shop's erasure, which takes these first.
        shop_ref("notification_id", "notifications", ondelete=None),
        shop_key(),
        # One invitation per order and touchpoint (sending.py), whichever worker decides it.
        UniqueConstraint("shop_id", "dedupe_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId)
    touchpoint: Mapped[str] = mapped_column(String(16))
    # "delivery-<order id>" or "return-<return request id>"; NULL for rows made before the job.
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    # Plain column: plugin/returns owns the return requests table.
    return_request_id: Mapped[int | None] = mapped_column(BigInteger)
    recipient_hash: Mapped[str | None] = mapped_column(String(64))
    notification_id: Mapped[int | None] = mapped_column(BigId)
    kinds: Mapped[list] = mapped_column(JSON)  # e.g. ["csat", "ces"]
    locale: Mapped[str | None] = mapped_column(String(35))
    carrier: Mapped[str | None] = mapped_column(String(255))
    products: Mapped[list] = mapped_column(JSON, default=list)  # product titles
    days_late: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.PENDING.value)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first answer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyResponse(Base):
    """One answer to one question of an invitation (changed in place, never twice)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("shop_id", "invitation_id", "kind"),
        # Every metric and the CSV scan a range of this; it covers every column
        # the metrics read but products, so they need not visit the table.
        Index("ix_survey_responses_metrics", "shop_id", "answered_at", "kind", "score", "carrier", "touchpoint",
              "days_late"),
        Index(None, "shop_id", "order_id"),
        shop_ref("invitation_id", "survey_invitations"),
        shop_ref("order_id", "orders"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    invitation_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    # Copied from the invitation, for metrics without joins.
    order_id: Mapped[int] = mapped_column(BigId)
    touchpoint: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str | None] = mapped_column(String(255))
    products: Mapped[list] = mapped_column(JSON, default=list)
    days_late: Mapped[int | None] = mapped_column(Integer)
    locale: Mapped[str | None] = mapped_column(String(35))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A low answer followed up by the merchant (who: the admin user's id or email).
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followed_up_by: Mapped[str | None] = mapped_column(String(320))


class SurveyAnswerDay(Base):
    """How many answers of each kind and score were given on one UTC day, per
    breakdown group: ``dimension`` is "-" (all answers, one group), "carrier",
    "touchpoint" or "lateness"; ``key`` the group ("" for none, else "=" and
    the value, so a NULL carrier stays apart from any text). Kept by database
    triggers on survey_responses (rollup.py), so no writer can miss it; the
    metrics read it for whole days instead of every answer."""

    __tablename__ = "survey_answer_days"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(260), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    answers: Mapped[int] = mapped_column(Integer)


class SurveyInvitationDay(Base):
    """Invitations sent on one UTC day, and how many of them were answered,
    per breakdown group (as SurveyAnswerDay); kept by triggers on
    survey_invitations."""

    __tablename__ = "survey_invitation_days"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(260), primary_key=True)
    sent: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
