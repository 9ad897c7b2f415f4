"""A parcel's steps as a customer hears of them, in the order they happen.

Each fulfillment of an order is a parcel. Its shipment status (plugin/
shipments.py, which only moves forward) maps to the one kind of message that
tells the customer where it is now; ``RANK`` orders those kinds, so that no
message is ever sent for a step behind one the customer already has, or is
about to get.
"""

from __future__ import annotations

from ..models import Fulfillment, Order
from .kinds import Kind

RANK: dict[Kind, int] = {
    Kind.ORDER_CONFIRMED: 0,
    Kind.SHIPPED: 1,
    Kind.DELAYED: 2,
    Kind.OUT_FOR_DELIVERY: 3,
    Kind.ATTEMPTED_DELIVERY: 4,
    Kind.DELIVERY_FAILED: 4,
    Kind.READY_FOR_PICKUP: 5,  # often what follows a failed attempt
    Kind.DELIVERED: 6,
}

# Shipment statuses that have a message of their own; every other known one
# (none yet, label printed, picked up by the carrier, in transit, delayed) is
# still "shipped". A delay gets its own message from delays.py.
STATUS_KINDS: dict[str, Kind] = {
    "out_for_delivery": Kind.OUT_FOR_DELIVERY,
    "attempted_delivery": Kind.ATTEMPTED_DELIVERY,
    "ready_for_pickup": Kind.READY_FOR_PICKUP,
    "ready_for_recipient_pickup": Kind.READY_FOR_PICKUP,
    "failure": Kind.DELIVERY_FAILED,
    "returning_to_sender": Kind.DELIVERY_FAILED,
    # The carrier cannot deliver until the customer acts: they must hear of it.
    "buyer_action_required": Kind.DELIVERY_FAILED,
    "delivered": Kind.DELIVERED,
    "picked_up": Kind.DELIVERED,
}

# Fulfillment statuses of a parcel that has not left, or never will.
NOT_SHIPPED = frozenset({"pending", "open", "cancelled", "error", "failure"})


def parcel_kind(fulfillment: Fulfillment) -> Kind | None:
    """The message for the parcel's current step; None if it has not shipped.
    A parcel without a known carrier or tracking number is still shipped."""
    if fulfillment.status in NOT_SHIPPED:
        return None
    return STATUS_KINDS.get(fulfillment.shipment_status or "", Kind.SHIPPED)


def parcels(order: Order) -> list[tuple[Fulfillment, dict]]:
    """The order's shipped parcels, each with the context its messages carry:
    which parcel, and of how many ("parcel 2 of 3")."""
    shipped = sorted((f for f in order.fulfillments if parcel_kind(f) is not None),
                     key=lambda f: (f.shopify_created_at is None, f.shopify_created_at, f.shopify_id))
    return [(f, {"fulfillment_id": f.id, "parcel": n, "parcels": len(shipped)})
            for n, f in enumerate(shipped, 1)]


def sendable(order: Order) -> bool:
    """Cancelled and test orders get no message; nor does an order we only
    know as a shell (its own payload has not arrived: no address yet)."""
    return order.cancelled_at is None and not order.test and order.shopify_updated_at is not None
