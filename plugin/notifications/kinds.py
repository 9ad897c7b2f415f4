"""The notification kinds and channels: one place names them all.

Each kind is a step of an order's journey that a customer is told about.
``default_on`` says whether its email goes out before a merchant changes
anything: `order_confirmed` is off because the store already sends one.
"""

from __future__ import annotations

import enum


class Kind(str, enum.Enum):
    ORDER_CONFIRMED = "order_confirmed"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    ATTEMPTED_DELIVERY = "attempted_delivery"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERY_FAILED = "delivery_failed"
    DELAYED = "delayed"

    @property
    def default_on(self) -> bool:
        return self is not Kind.ORDER_CONFIRMED


KINDS: tuple[str, ...] = tuple(kind.value for kind in Kind)

CHANNELS: tuple[str, ...] = ("email", "sms")
