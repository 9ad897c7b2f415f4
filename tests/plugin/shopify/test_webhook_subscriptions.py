"""plugin.shopify.webhook_subscriptions against the fake Shopify over real HTTP."""

from __future__ import annotations

import pytest

from plugin.shopify.client import ShopifyAPIError
from plugin.shopify.webhook_subscriptions import ensure_webhook_subscriptions, topic_enum


def test_topic_enum():
    assert topic_enum("orders/create") == "ORDERS_CREATE"
    assert topic_enum("fulfillment_events/create") == "FULFILLMENT_EVENTS_CREATE"
    assert topic_enum("APP_UNINSTALLED") == "APP_UNINSTALLED"


def test_ensure_webhook_subscriptions_creates_only_the_missing(fake, shop, client):
    url = "https://app.example/webhooks"
    fake.add_webhook_subscription(shop, "ORDERS_CREATE", url)
    for i in range(120):  # other apps' addresses: forces the listing onto a second page
        fake.add_webhook_subscription(shop, "ORDERS_UPDATED", f"https://elsewhere.example/{i}")
    topics = ["orders/create", "orders/updated", "app/uninstalled", "fulfillments/update",
              "customers/data_request", "customers/redact", "shop/redact", "orders/updated"]

    created = ensure_webhook_subscriptions(client, url, topics)

    assert created == ["orders/updated", "app/uninstalled", "fulfillments/update"]
    ours = sorted(w["topic"] for w in fake.webhook_subscriptions(shop) if w["uri"] == url)
    assert ours == ["APP_UNINSTALLED", "FULFILLMENTS_UPDATE", "ORDERS_CREATE", "ORDERS_UPDATED"]
    creates = fake.calls(operation="webhookSubscriptionCreate")
    assert [c.variables["topic"] for c in creates] == ["ORDERS_UPDATED", "APP_UNINSTALLED", "FULFILLMENTS_UPDATE"]
    assert creates[0].variables["webhookSubscription"] == {"callbackUrl": url, "format": "JSON"}
    assert len(fake.calls(operation="webhookSubscriptions")) == 2

    fake.clear_requests()
    assert ensure_webhook_subscriptions(client, url, topics) == []
    assert fake.calls(operation="webhookSubscriptionCreate") == []


def test_ensure_webhook_subscriptions_only_compliance_makes_no_request(fake, client):
    assert ensure_webhook_subscriptions(client, "https://app.example/webhooks", ["shop/redact"]) == []
    assert fake.calls() == []


def test_ensure_webhook_subscriptions_raises_on_user_errors(fake, client):
    with pytest.raises(ShopifyAPIError, match="could not subscribe .* to orders/create: Address is invalid") as exc:
        ensure_webhook_subscriptions(client, "ftp://app.example/webhooks", ["orders/create"])
    assert exc.value.errors[0]["field"] == ["webhookSubscription", "callbackUrl"]
