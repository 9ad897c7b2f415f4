"""The data model. Every table carries ``shop_id`` and every index leads with
or includes it, so queries are scoped by shop and the data can later be
distributed by shop. Alembic migrations (migrations/) are the only way this
schema reaches a database; a test checks they match these models.

Shopify IDs are 64-bit integers (above 2**53), kept as BIGINT and given to
browsers as strings.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def shop_fk() -> Mapped[int]:
    return mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False)


def same_shop(parent: str, child: str, key: str) -> str:
    """A relationship join that also matches shop_id, so that loading a
    parent's children is a query scoped by shop like every other, and a child
    added to a parent takes the parent's shop_id."""
    return (f"and_({parent}.id == foreign({child}.{key}), "
            f"{parent}.shop_id == foreign({child}.shop_id))")


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    PROCESSED = "processed"
    FAILED = "failed"


class NotificationStatus(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Shop(Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    # Shopify's own id of the shop (from install, or the first webhook body that
    # names both it and this domain): webhook bodies that name a shop must name this one.
    shopify_id: Mapped[int | None] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))  # the store owner's, for data exports
    # Offline Admin API token and its refresh token, encrypted (crypto.py).
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str | None] = mapped_column(String(1000))
    # The OAuth state of the last completed install: a replayed callback reuses it.
    install_nonce: Mapped[str | None] = mapped_column(String(64))
    # Origin of the shop's primary (often custom) storefront domain, e.g.
    # https://shop.example.com, from Shopify's shop { primaryDomain { url } }.
    primary_domain_url: Mapped[str | None] = mapped_column(String(255))
    # IANA zone (e.g. Europe/Paris) for quiet hours and dates; NULL = UTC until known.
    iana_timezone: Mapped[str | None] = mapped_column(String(64))
    # When to try again to create the shop's webhook subscriptions (NULL: none owed).
    subscriptions_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def installed(self) -> bool:
        return self.uninstalled_at is None


def order_name_key(name: str | None) -> str | None:
    """An order's name as the storefront lookup compares it: no spaces, upper
    case, without one leading "#" ("#1001" → "1001", "eu 1001" → "EU1001")."""
    if name is None:
        return None
    key = name.replace(" ", "").upper()
    return key[1:] if key.startswith("#") else key


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id"),
        Index(None, "shop_id", "number"),
        Index(None, "shop_id", "name_key"),  # the lookup by name reads one entry, not every order
        Index(None, "shop_id", "email"),
        # Shopify order ids are global: finds an id already held by another shop.
        Index(None, "shopify_id", "shop_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    # A fulfillment can arrive before its order: the row then exists as a shell
    # (name and the rest NULL, shopify_updated_at NULL) until the order arrives.
    name: Mapped[str | None] = mapped_column(String(255))
    name_key: Mapped[str | None] = mapped_column(String(255))  # order_name_key(name), kept by the event below
    number: Mapped[int | None] = mapped_column(BigInteger)
    email: Mapped[str | None] = mapped_column(String(320))
    customer_email: Mapped[str | None] = mapped_column(String(320))  # the customer record's own
    phone: Mapped[str | None] = mapped_column(String(64))  # the customer's own (order or customer record)
    shipping_phone: Mapped[str | None] = mapped_column(String(64))  # the shipping address's
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_first_name: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(35))
    financial_status: Mapped[str | None] = mapped_column(String(64))
    fulfillment_status: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    currency: Mapped[str | None] = mapped_column(String(8))
    total_price: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    subtotal_price: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    shipping_city: Mapped[str | None] = mapped_column(String(255))
    shipping_country: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[str | None] = mapped_column(Text)
    # Shopify's `test: true`: an order placed to try the checkout; nobody is told.
    test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When a parcel of the order was first found late or stalled (notifications/delays.py).
    delayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shopify_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shopify_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    line_items: Mapped[list[LineItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="LineItem.id",
        primaryjoin=same_shop("Order", "LineItem", "order_id"),
    )
    fulfillments: Mapped[list[Fulfillment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Fulfillment.id",
        primaryjoin=same_shop("Order", "Fulfillment", "order_id"),
    )


@event.listens_for(Order.name, "set")
def _keep_name_key(order: Order, name: str | None, _old, _initiator) -> None:
    order.name_key = order_name_key(name)


class LineItem(Base):
    __tablename__ = "line_items"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id"), Index(None, "shop_id", "order_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    product_id: Mapped[int | None] = mapped_column(BigInteger)
    variant_id: Mapped[int | None] = mapped_column(BigInteger)
    title: Mapped[str | None] = mapped_column(Text)
    variant_title: Mapped[str | None] = mapped_column(Text)
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    requires_shipping: Mapped[bool] = mapped_column(Boolean, default=True)
    gift_card: Mapped[bool] = mapped_column(Boolean, default=False)  # never returnable

    order: Mapped[Order] = relationship(
        back_populates="line_items", primaryjoin=same_shop("Order", "LineItem", "order_id")
    )


class Fulfillment(Base):
    __tablename__ = "fulfillments"
    __table_args__ = (UniqueConstraint("shop_id", "shopify_id"), Index(None, "shop_id", "order_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    shopify_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(64))
    # Derived from the tracking events (see shipments.py), never set directly.
    shipment_status: Mapped[str | None] = mapped_column(String(64))
    tracking_company: Mapped[str | None] = mapped_column(String(255))
    tracking_numbers: Mapped[list] = mapped_column(JSON, default=list)
    tracking_urls: Mapped[list] = mapped_column(JSON, default=list)
    estimated_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # found late or stalled
    shopify_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shopify_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(
        back_populates="fulfillments", primaryjoin=same_shop("Order", "Fulfillment", "order_id")
    )
    line_items: Mapped[list[FulfillmentLineItem]] = relationship(
        back_populates="fulfillment", cascade="all, delete-orphan", order_by="FulfillmentLineItem.id",
        primaryjoin=same_shop("Fulfillment", "FulfillmentLineItem", "fulfillment_id"),
    )
    events: Mapped[list[TrackingEvent]] = relationship(
        back_populates="fulfillment",
        cascade="all, delete-orphan",
        order_by="TrackingEvent.happened_at",
        primaryjoin=same_shop("Fulfillment", "TrackingEvent", "fulfillment_id"),
    )


class FulfillmentLineItem(Base):
    __tablename__ = "fulfillment_line_items"
    __table_args__ = (UniqueConstraint("shop_id", "fulfillment_id", "line_item_shopify_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    fulfillment_id: Mapped[int] = mapped_column(BigId, ForeignKey("fulfillments.id", ondelete="CASCADE"))
    line_item_shopify_id: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)

    fulfillment: Mapped[Fulfillment] = relationship(
        back_populates="line_items", primaryjoin=same_shop("Fulfillment", "FulfillmentLineItem", "fulfillment_id")
    )


class TrackingEvent(Base):
    """One step of a parcel's journey: a Shopify fulfillment event, or a
    shipment status seen on a fulfillment payload (``shopify_id`` NULL)."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("shop_id", "shopify_id"),
        UniqueConstraint("shop_id", "fulfillment_id", "status", "happened_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    fulfillment_id: Mapped[int] = mapped_column(BigId, ForeignKey("fulfillments.id", ondelete="CASCADE"))
    shopify_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    city: Mapped[str | None] = mapped_column(String(255))
    province: Mapped[str | None] = mapped_column(String(255))
    country: Mapped[str | None] = mapped_column(String(255))
    estimated_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fulfillment: Mapped[Fulfillment] = relationship(
        back_populates="events", primaryjoin=same_shop("Fulfillment", "TrackingEvent", "fulfillment_id")
    )


class WebhookDelivery(Base):
    """The inbox: one row per delivery, stored before anything else happens."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("shop_id", "webhook_id"),
        # Due rows only have next_attempt_at set; the worker scans this index.
        Index(None, "next_attempt_at", "shop_id"),
        Index(None, "shop_id", "status"),
        Index(None, "shop_id", "order_shopify_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    webhook_id: Mapped[str] = mapped_column(String(255))
    topic: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[str | None] = mapped_column(String(255))
    triggered_at: Mapped[str | None] = mapped_column(String(64))
    api_version: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # The order it concerns, set by its handler once the body is bound (the order timeline).
    order_shopify_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set when retention dropped the body (payload is then empty); the row stays.
    payload_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """The outbox: a message that is due, was sent, or failed."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("shop_id", "dedupe_key"),
        Index(None, "next_attempt_at", "shop_id"),
        Index(None, "shop_id", "order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    recipient: Mapped[str] = mapped_column(String(320))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DataExport(Base):
    """Everything held about one customer, gathered for a customers/data_request."""

    __tablename__ = "data_exports"
    __table_args__ = (Index(None, "shop_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    request_id: Mapped[str | None] = mapped_column(String(64))  # Shopify's data_request.id
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Backfill(Base):
    """Progress of `aftercare backfill`, so an interrupted run resumes."""

    __tablename__ = "backfills"
    __table_args__ = (Index(None, "shop_id", "finished_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    cursor: Mapped[str | None] = mapped_column(Text)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Setting(Base):
    """One setting a merchant changed (plugin/settings.py holds the keys and
    their defaults); keyed by shop, so it is distributed with the shop's rows."""

    __tablename__ = "settings"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suppression(Base):
    """An address unsubscribed from one category of a shop's messages, kept as
    a keyed hash (plugin/notifications/suppressions.py), never in clear."""

    __tablename__ = "suppressions"

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerHeartbeat(Base):
    """When each worker process last finished a round (for /healthz). Not shop
    data: one row per worker process, removed when it stops cleanly."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(String(255), primary_key=True)  # host:pid:thread
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Domain models kept in their own packages, imported so Alembic and the tests see them.
from .returns import models as _returns_models  # noqa: E402,F401
from .help.models import Contact  # noqa: E402,F401
from .surveys import models as _survey_models  # noqa: E402,F401
