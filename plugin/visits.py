"""Shoppers looking at their order: the timeline's "Viewed in the storefront
widget" lines (issue 11, page 7).

One row per order, surface and hour (the primary key), so reloads add nothing.
Only what the merchant needs is kept: the order, where it was seen and when;
no IP address, no user agent. ``record`` is one INSERT … ON CONFLICT DO
NOTHING, committed once the shopper's answer is built: a failure to record
is logged and never fails the page.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime

from sqlalchemy import ForeignKey, String, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import describe_error
from .models import Base, BigId, UTCDateTime, shop_ref, utcnow

log = logging.getLogger(__name__)


class Surface(str, enum.Enum):
    WIDGET = "widget"  # <aftercare-widget> on the store's pages (/widgets/api/…)
    PROXY = "proxy"  # the order page through Shopify's app proxy (/proxy/…)
    TRACKING_PAGE = "tracking_page"  # /t/<token>, the link in every shipping message


class OrderVisit(Base):
    __tablename__ = "order_visits"
    __table_args__ = (
        # Erased with the order's customer (privacy.redact_customer) or the shop (shops.delete_data).
        shop_ref("order_id", "orders"),
    )

    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    surface: Mapped[str] = mapped_column(String(16), primary_key=True)
    # The hour the visit fell in: the key that keeps reloads to one row.
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    # The first view in that hour, as the timeline shows it.
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def record(session: Session, shop_id: int, order_id: int, surface: Surface) -> None:
    """Note that the shopper looked at the order on ``surface`` and commit;
    a repeat within the same hour adds nothing. Called once the answer is
    built (the request's session holds nothing else to commit). Never raises:
    on failure the transaction is rolled back and a line logged."""
    now = utcnow()
    values = {"shop_id": shop_id, "order_id": order_id, "surface": surface.value,
              "hour": now.replace(minute=0, second=0, microsecond=0), "viewed_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    try:
        if dialect is postgresql:
            # A visit lost to a crash in the next fraction of a second costs
            # nothing; the shopper should not wait for the WAL to reach disk.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        session.execute(dialect.insert(OrderVisit).values(**values).on_conflict_do_nothing())
        session.commit()
    except Exception as exc:  # noqa: BLE001 - the shopper's page matters more than the record
        session.rollback()
        log.warning("visit not recorded (shop %s, %s): %s", shop_id, surface.value, describe_error(exc))
