"""Shipment statuses and the order they move in.

Shopify's ``shipment_status`` (FulfillmentEventStatus in snake_case) is an open
enum that grows with API versions. Each status we know has a stage; a
fulfillment's status is the one of its tracking events with the highest
(stage, time). That makes the status move forward only (a late ``in_transit``
after ``delivered`` changes nothing) and makes the result independent of the
order webhooks arrive in. Statuses we do not know are kept as events but have
no stage, so they never change state.
"""

from __future__ import annotations

PRE_TRANSIT, IN_TRANSIT, LAST_MILE, DELIVERED = 0, 1, 2, 3

STAGES: dict[str, int] = {
    "confirmed": PRE_TRANSIT,
    "label_printed": PRE_TRANSIT,
    "label_purchased": PRE_TRANSIT,
    "carrier_picked_up": IN_TRANSIT,
    "in_transit": IN_TRANSIT,
    "delayed": IN_TRANSIT,
    "out_for_delivery": LAST_MILE,
    "attempted_delivery": LAST_MILE,
    "ready_for_pickup": LAST_MILE,
    "ready_for_recipient_pickup": LAST_MILE,
    "buyer_action_required": LAST_MILE,
    "failure": LAST_MILE,
    "returning_to_sender": LAST_MILE,
    "delivered": DELIVERED,
    "picked_up": DELIVERED,
}

DELIVERED_STATUSES = frozenset(s for s, stage in STAGES.items() if stage == DELIVERED)


def stage(status: str | None) -> int | None:
    """The stage of a status, or None for a status we do not know."""
    return STAGES.get(status) if status else None
