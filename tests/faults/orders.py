"""Distinct orders made from the sample payloads, for tests that need many."""

from __future__ import annotations

from ..conftest import load_payload


def order(n: int, **changes) -> dict:
    """orders/create for order number 5000 + n, with ids of its own."""
    body = load_payload("order_create")
    body.update(id=9_000_000 + n, name=f"#{5000 + n}", order_number=5000 + n,
                admin_graphql_api_id=f"gid://shopify/Order/{9_000_000 + n}")
    for i, item in enumerate(body["line_items"]):
        item["id"] = 8_000_000 + n * 10 + i
    body.update(changes)
    return body


def fulfillment(n: int, name: str = "fulfillment_update_delivered", **changes) -> dict:
    """A fulfillment of order(n), from one of the fulfillment payloads."""
    body = load_payload(name)
    body.update(id=7_000_000 + n, order_id=9_000_000 + n, name=f"#{5000 + n}.1")
    for i, item in enumerate(body["line_items"]):
        item["id"] = 8_000_000 + n * 10 + i
    body.update(changes)
    return body
