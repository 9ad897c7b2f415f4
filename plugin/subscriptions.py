"""Webhook subscriptions owed to a shop, retried by the worker until Shopify
has them.

Install asks Shopify for the shop's subscriptions at once; when Shopify is
down, throttling past our patience or answering garbage, the install still
succeeds and the shop is marked ``subscriptions_due_at``. This worker job
tries again when that time comes, with backoff, for as long as the shop stays
installed: an outage delays the subscriptions, it never loses them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select

from . import shops
from .db import worker_session
from .models import Shop, utcnow
from .shopify.client import AdminClient, ShopifyAPIError
from .shopify.tokens import TokenEndpointError
from .shopify.webhook_subscriptions import ensure_webhook_subscriptions

log = logging.getLogger(__name__)

# Waits before each further try; the last one repeats for as long as it takes.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2))

# Topics the app subscribes each shop to (shopify.app.toml declares the same
# app-wide, plus the compliance topics, which only the TOML can declare).
WEBHOOK_TOPICS = (
    "app/uninstalled",
    "orders/create", "orders/updated", "orders/paid", "orders/cancelled",
    "orders/fulfilled", "orders/partially_fulfilled",
    "fulfillments/create", "fulfillments/update", "fulfillment_events/create",
    "returns/request", "returns/approve", "returns/decline", "returns/cancel", "returns/close",
    "returns/reopen", "refunds/create",
)


def ensure(client: AdminClient) -> list[str]:
    """Create the shop's missing subscriptions to this app's /webhooks."""
    url = f"{current_app.config['APP_URL']}/webhooks"
    return ensure_webhook_subscriptions(client, url, WEBHOOK_TOPICS)


def subscribe_and_describe(client: AdminClient, shop: Shop) -> list[str]:
    """Create the missing subscriptions, then learn the shop's id, name, owner
    email and primary storefront domain (webhook bodies are bound to the id;
    data exports go to the email; the widget's CORS admits the domain).
    Clears what the shop was owed. The topics created."""
    created = ensure(client)
    about = client.graphql("query { shop { id name email primaryDomain { url } } }").get("shop") or {}
    shop.name = about.get("name") or shop.name
    shop.email = about.get("email") or shop.email
    shop.shopify_id = shops.gid_number(about.get("id")) or shop.shopify_id
    primary = about.get("primaryDomain")
    if isinstance(primary, dict):  # the shop's current domain, or none: a domain it gave up is no longer admitted
        shop.primary_domain_url = shops.storefront_origin(primary.get("url"))
    shop.subscriptions_due_at = None
    return created


def owe(shop: Shop, now: datetime | None = None, failures: int = 0) -> None:
    """Remember that the shop's subscriptions still have to be made."""
    delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
    shop.subscriptions_due_at = (now or utcnow()) + delay


def process_due(app: Flask, limit: int = 20) -> int:
    """The worker job: try the shops whose subscriptions are due. Each shop is
    its own unit of work (a token refresh commits); the number tried."""
    with worker_session(app) as session:
        due = list(session.scalars(
            select(Shop.id).where(Shop.subscriptions_due_at <= utcnow()).order_by(Shop.subscriptions_due_at).limit(limit)
        ))
    for shop_id in due:
        _retry(app, shop_id)
    return len(due)


def _retry(app: Flask, shop_id: int) -> None:
    with worker_session(app) as session:
        shop = session.scalars(select(Shop).where(Shop.id == shop_id).with_for_update(skip_locked=True)).first()
        if shop is None or shop.subscriptions_due_at is None or shop.subscriptions_due_at > utcnow():
            return  # another worker took it
        due_at = shop.subscriptions_due_at
        # Claim it for a while, so that a slow Shopify does not have two workers on it.
        shop.subscriptions_due_at = utcnow() + RETRY_DELAYS[0]
        session.commit()
        if not shop.installed:
            shop.subscriptions_due_at = None
            session.commit()
            return
        try:
            created = shops.call_admin_api(session, shop, lambda client: subscribe_and_describe(client, shop))
        except (ShopifyAPIError, TokenEndpointError, shops.NotInstalled) as exc:
            failures = _failures_so_far(shop, due_at)
            owe(shop, failures=failures)
            session.commit()
            log.warning("webhook subscriptions of %s still not made (next try %s): %s",
                        shop.domain, shop.subscriptions_due_at.isoformat(), exc)
            return
        session.commit()
        log.info("webhook subscriptions of %s made on retry: %s", shop.domain, ", ".join(created) or "none needed")


def _failures_so_far(shop: Shop, due_at: datetime) -> int:
    """A guess from how long the shop has been waiting, so no counter column is needed."""
    waited = due_at - shop.installed_at
    return sum(1 for delay in RETRY_DELAYS if waited >= delay)
