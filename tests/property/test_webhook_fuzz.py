"""Fuzzing POST /webhooks: 300 correctly signed deliveries of mutated real
payloads (values of other types, odd values, missing keys) over real HTTP.
No answer is a 5xx, and each delivery either applies fully or fails with its
error, leaving every other table exactly as it was (no half-applied state)."""

from __future__ import annotations

import json
import random

from sqlalchemy import select

from plugin.db import engine
from plugin.models import Base, DeliveryStatus, Order, WebhookDelivery
from webhooks import inbox

from ..conftest import db, load_payload

DELIVERIES = 300
SEED = 20261202
TOPICS = {
    "order_create": ("orders/create", "orders/updated", "orders/cancelled"),
    "fulfillment_create": ("fulfillments/create",),
    "fulfillment_update_in_transit": ("fulfillments/update",),
    "fulfillment_update_delivered": ("fulfillments/update",),
    "fulfillment_event_create": ("fulfillment_events/create",),
}
ODD_VALUES = [None, True, False, 0, -1, 1.5, 2**63, 2**64, "", "x", "12", "€" * 3, [], {}, [1, "a"], {"id": 1},
              "0001-01-01T00:00:00+14:00", "2026-02-30T10:00:00Z", "NaN", 1e308, -0.0, "9" * 30]


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


def mutate(rng: random.Random, body: dict) -> dict:
    """One to three changes: a value replaced by one of another type or an odd
    one, or a key removed; anywhere in the body."""
    body = json.loads(json.dumps(body))
    for _ in range(rng.randint(1, 3)):
        path = rng.choice([p for p in paths(body) if p])
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.3 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = rng.choice(ODD_VALUES)
    return body


TABLES = [t for t in Base.metadata.sorted_tables if t.name not in ("webhook_deliveries", "worker_heartbeats")]


def other_tables(app) -> list:
    """Every row outside the inbox (which records the attempt itself)."""
    with engine(app).connect() as conn:
        return [list(conn.execute(select(table))) for table in TABLES]


def test_fuzzed_deliveries_answer_without_5xx_and_apply_fully_or_not_at_all(app, shop, webhooks):
    rng = random.Random(SEED)
    sent = []
    for i in range(DELIVERIES):
        name = rng.choice(sorted(TOPICS))
        body = load_payload(name)
        if rng.random() < 0.85:
            body = mutate(rng, body)
        topic = rng.choice(TOPICS[name])
        response = webhooks.post(topic, json.dumps(body).encode(), webhook_id=f"fuzz-{i}")
        assert response.status_code < 500, (response.status_code, response.text)
        assert response.status_code == 200 and response.json()["status"] == "accepted"
        sent.append(body)

    outcomes = {DeliveryStatus.PROCESSED.value: 0, DeliveryStatus.FAILED.value: 0}
    before = other_tables(app)
    for delivery_id in list(db().scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id))):
        delivery = inbox.replay(app, delivery_id)  # one at a time, in arrival order
        outcomes[delivery.status] += 1
        after = other_tables(app)
        if delivery.status == DeliveryStatus.FAILED.value:
            assert delivery.error, delivery.webhook_id
            assert after == before, f"delivery {delivery.webhook_id} failed but changed data"
        before = after

    statuses = list(db().scalars(select(WebhookDelivery.status)))
    assert len(statuses) == DELIVERIES and set(statuses) <= set(outcomes)
    assert outcomes[DeliveryStatus.PROCESSED.value] > 0 and outcomes[DeliveryStatus.FAILED.value] > 0
    # What was applied is there in full: each processed order body's order exists.
    orders = set(db().scalars(select(Order.shopify_id)))
    for delivery in db().scalars(select(WebhookDelivery).where(
            WebhookDelivery.status == DeliveryStatus.PROCESSED.value, WebhookDelivery.topic.startswith("orders/"))):
        assert json.loads(delivery.payload)["id"] in orders
