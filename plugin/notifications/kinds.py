"""The notification kinds and channels: one place names them all.

Each kind is a step a customer is told about: of an order's journey
(shipping kinds) or of a return they asked for (return kinds); or the
survey invitation after a delivery or a return (plugin/surveys/sending.py).
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
    RETURN_REQUESTED = "return_requested"
    RETURN_APPROVED = "return_approved"
    RETURN_DECLINED = "return_declined"
    RETURN_REFUNDED = "return_refunded"
    SURVEY = "survey"

    @property
    def default_on(self) -> bool:
        return self is not Kind.ORDER_CONFIRMED

    @property
    def is_return(self) -> bool:
        """About a return the customer asked for. These are transactional:
        an unsubscribe from shipping updates does not stop them (README, Mail)."""
        return self in RETURN_KINDS

    @property
    def is_survey(self) -> bool:
        """A survey invitation: surveys have an unsubscribe of their own."""
        return self is Kind.SURVEY


KINDS: tuple[str, ...] = tuple(kind.value for kind in Kind)
RETURN_KINDS: frozenset[Kind] = frozenset({Kind.RETURN_REQUESTED, Kind.RETURN_APPROVED, Kind.RETURN_DECLINED,
                                           Kind.RETURN_REFUNDED})
SHIPPING_KINDS: tuple[Kind, ...] = tuple(kind for kind in Kind if kind not in RETURN_KINDS and not kind.is_survey)

CHANNELS: tuple[str, ...] = ("email", "sms")
