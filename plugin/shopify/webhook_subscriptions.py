"""Shop-specific webhook subscriptions through the GraphQL Admin API (shopify.dev
webhooks configuration): ``ensure_webhook_subscriptions`` creates the ones that are
missing. Which topics the app wants, and retrying when Shopify is down, is
plugin/subscriptions.py's business.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from .client import AdminClient, ShopifyAPIError

__all__ = ["ensure_webhook_subscriptions", "topic_enum", "COMPLIANCE_TOPICS"]

log = logging.getLogger(__name__)

#: The mandatory compliance topics: declared in shopify.app.toml, never through the API
#: (shopify.dev webhooks configuration).
COMPLIANCE_TOPICS = frozenset({"CUSTOMERS_DATA_REQUEST", "CUSTOMERS_REDACT", "SHOP_REDACT"})


_LIST_SUBSCRIPTIONS = """
query AftercareWebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

_CREATE_SUBSCRIPTION = """
mutation AftercareWebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
"""


def topic_enum(topic: str) -> str:
    """``orders/create`` → ``ORDERS_CREATE`` (an enum-form topic is returned as is)."""
    return topic.strip().replace("/", "_").upper()


def ensure_webhook_subscriptions(client: AdminClient, callback_url: str, topics: Iterable[str]) -> list[str]:
    """Create the subscriptions of ``topics`` to ``callback_url`` that the shop lacks.

    Returns the topics created, in the form given. Compliance topics are skipped (they live
    in shopify.app.toml only). A subscription of the same topic to another address is left
    alone. ``userErrors`` raise ShopifyAPIError, except "already been taken" (a retried
    request may have created it), which counts as present.
    """
    wanted: dict[str, str] = {}
    for topic in topics:
        enum = topic_enum(topic)
        if enum in COMPLIANCE_TOPICS:
            log.info("skipping compliance topic %s: declared in shopify.app.toml, not through the API", topic)
            continue
        wanted.setdefault(enum, topic)
    if not wanted:
        return []
    existing = set()
    for node in client.paginate(_LIST_SUBSCRIPTIONS, {"first": 100}, ["webhookSubscriptions"]):
        endpoint = node.get("endpoint") or {}
        existing.add((node.get("topic"), endpoint.get("callbackUrl") or node.get("uri") or node.get("callbackUrl")))
    created = []
    for enum, topic in wanted.items():
        if (enum, callback_url) in existing:
            continue
        data = client.graphql(_CREATE_SUBSCRIPTION, {
            "topic": enum,
            "webhookSubscription": {"callbackUrl": callback_url, "format": "JSON"},
        })
        result = data.get("webhookSubscriptionCreate") or {}
        user_errors = result.get("userErrors") or []
        if user_errors:
            messages = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in user_errors]
            if all("already been taken" in m for m in messages):
                log.info("webhook subscription %s for %s already exists", topic, client.shop_domain)
                continue
            raise ShopifyAPIError(f"could not subscribe {client.shop_domain} to {topic}: {'; '.join(messages)}",
                                  errors=user_errors)
        log.info("subscribed %s to %s", client.shop_domain, topic)
        created.append(topic)
    return created
