"""A shopper who still needed a person after reading the order's view and
its help answers: one row per contact request, so the dashboard can count
contacts per 100 orders and see which answers did not help.

Only the length of the message is kept here; the message itself went to the
shop's support address and is not stored twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from ..models import Base, BigId, UTCDateTime, shop_fk, shop_ref, utcnow


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index(None, "shop_id", "created_at"),
        # No action, not SET NULL (which would null shop_id too): orders are only
        # deleted with their shop (shops.delete_data), which takes contacts first.
        shop_ref("order_id", "orders", ondelete=None),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shop_id: Mapped[int] = shop_fk()
    order_id: Mapped[int | None] = mapped_column(BigId)
    message_length: Mapped[int] = mapped_column(Integer)
    # The questions of the help answers the shopper was shown before asking.
    answers_shown: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
