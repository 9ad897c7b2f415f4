"""The returns tables: a shopper's return request, its items, and the
refunds Shopify reports (which use up returnable quantity too).

Line items are referred to by their Shopify id, not by the local row: an
order payload that drops or re-adds a line item must never take a return's
items with it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import BigId, Base, Order, UTCDateTime, same_shop, shop_fk, shop_key, shop_ref, utcnow


class ReturnStatus(str, enum.Enum):
    """Where a return request stands. Shopify's own ReturnStatus is coarser
    (REQUESTED, OPEN, DECLINED, CANCELED, CLOSED): approved, received and
    refunded are all OPEN there."""

    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    RECEIVED = "received"
    REFUNDED = "refunded"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Its items are spoken for (not free to be requested again)."""
        return self not in (ReturnStatus.DECLINED, ReturnStatus.CANCELLED)

    @property
    def resolved(self) -> bool:
        return self in (ReturnStatus.DECLINED, ReturnStatus.REFUNDED, ReturnStatus.CLOSED, ReturnStatus.CANCELLED)


class ReturnRequest(Base):
    __tablename__ = "return_requests"
    __table_args__ = (
        # One request per idempotency key: submitting twice makes one request.
        UniqueConstraint("shop_id", "key"),
        UniqueConstraint("shop_id", "shopify_return_id"),
        Index(None, "shop_id", "order_id"),
        Index(None, "shop_id", "status", "requested_at"),
        # Requests with something to tell Shopify have next_attempt_at set; the worker scans this.
        Index(None, "next_attempt_at", "shop_id"),
        shop_ref("order_id", "orders"),
        shop_key(),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId)
    key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the items asked for, to refuse a reused key
    status: Mapped[str] = mapped_column(String(16), default=ReturnStatus.REQUESTED.value)
    shopify_return_id: Mapped[int | None] = mapped_column(BigInteger)
    # The status Shopify is known to have; the worker pushes while it differs from ``status``.
    shopify_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    decline_note: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_actor: Mapped[str | None] = mapped_column(String(255))
    # The admin asked for a refund (refund_requested_at); Shopify's refund once it is
    # known (shopify_refund_id): the worker owes Shopify a refund while only the first is set.
    refund_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shopify_refund_id: Mapped[int | None] = mapped_column(BigInteger)
    # Passing the request (and later actions) to Shopify: see sync.py.
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sync_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(primaryjoin=same_shop("Order", "ReturnRequest", "order_id"), viewonly=True)
    items: Mapped[list[ReturnItem]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="ReturnItem.id",
        primaryjoin=same_shop("ReturnRequest", "ReturnItem", "request_id"),
    )
    actions: Mapped[list[ReturnAction]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="ReturnAction.id",
        primaryjoin=same_shop("ReturnRequest", "ReturnAction", "request_id"),
    )

    @property
    def state(self) -> ReturnStatus:
        return ReturnStatus(self.status)


class ReturnItem(Base):
    __tablename__ = "return_items"
    __table_args__ = (UniqueConstraint("shop_id", "request_id", "line_item_shopify_id"),
                      shop_ref("request_id", "return_requests"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    request_id: Mapped[int] = mapped_column(BigId)
    line_item_shopify_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))  # a ReturnReason of the pinned Admin API version
    note: Mapped[str | None] = mapped_column(Text)

    request: Mapped[ReturnRequest] = relationship(
        back_populates="items", primaryjoin=same_shop("ReturnRequest", "ReturnItem", "request_id")
    )


class RefundLine(Base):
    """One line of a Shopify refund (refunds/create): items refunded, through a
    return of ours or not, are no longer returnable."""

    __tablename__ = "refund_lines"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id"), Index(None, "shop_id", "order_id"),
                      shop_ref("order_id", "orders"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId)
    shopify_id: Mapped[int] = mapped_column(BigInteger)  # the refund line item's id
    refund_shopify_id: Mapped[int] = mapped_column(BigInteger)
    return_shopify_id: Mapped[int | None] = mapped_column(BigInteger)
    line_item_shopify_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    restock_type: Mapped[str | None] = mapped_column(String(32))  # no_restock | cancel | return
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReturnAction(Base):
    """The audit line of one admin decision on a request: who, when, what
    (written by ``actions.act`` in the same transaction as the change)."""

    __tablename__ = "return_actions"
    __table_args__ = (Index(None, "shop_id", "request_id"), shop_ref("request_id", "return_requests"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    request_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(32))  # the decline reason
    note: Mapped[str | None] = mapped_column(Text)  # instructions, or the decline note

    request: Mapped[ReturnRequest] = relationship(
        back_populates="actions", primaryjoin=same_shop("ReturnRequest", "ReturnAction", "request_id")
    )
