"""Binding what a webhook body says to what its headers say.

Shopify's HMAC covers the body only: the topic, shop domain and webhook id
headers are not signed. A delivery captured once could be re-sent with other
headers, e.g. one shop's order posted as another shop's, or any body posted
as `shop/redact`. Wherever a body names its shop (or, for orders, carries an
id only one shop can hold), these checks make the body agree with the
headers before a handler acts. They run in the worker, on the parsed body, so
POST /webhooks stays one statement.

A failed check raises Mismatch: the delivery fails for good, not acted on.
Its message names fields, never their values, so neither the stored error
nor the log holds personal data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin import orders
from plugin.models import Shop
from plugin.signatures import normalize_shop_domain

from .payloads import Fields, PayloadError


class Mismatch(PayloadError):
    """The body contradicts the delivery's headers or the shop's identity."""


def compliance(session: Session, shop: Shop, body: dict) -> None:
    """Compliance bodies carry `shop_domain` and `shop_id`: both must be this shop's."""
    f = Fields(body)
    if normalize_shop_domain(f.str("shop_domain")) != shop.domain:
        raise Mismatch("the body's shop_domain is not the shop named by X-Shopify-Shop-Domain; not acted on")
    _shop_id(session, shop, f.id("shop_id", required=False), "shop_id", learn=True)


def uninstall(session: Session, shop: Shop, body: dict) -> None:
    """The app/uninstalled body is the Shop (it has an `id` and a
    `myshopify_domain`, even if null): its `id`, and its domains where they
    are myshopify.com ones (`domain` may be a custom domain, which proves
    nothing), must be this shop's."""
    f = Fields(body)
    if f.id("id", required=False) is None or "myshopify_domain" not in body:
        # e.g. a captured compliance body posted as app/uninstalled
        raise Mismatch("the body is not a Shop (no id or myshopify_domain); not acted on")
    named = [d for d in (f.str("myshopify_domain"), f.str("domain")) if d and d.lower().endswith(".myshopify.com")]
    if any(normalize_shop_domain(d) != shop.domain for d in named):
        raise Mismatch("the body's shop domain is not the shop named by X-Shopify-Shop-Domain; not acted on")
    # The id is learned from this body only when a domain in it vouches for it.
    _shop_id(session, shop, f.id("id"), "id", learn=bool(named))


def shop_named(session: Session, shop: Shop, body: dict) -> None:
    """A body with an optional `shop_id` (fulfillment events): if present, this shop's."""
    shop_id = Fields(body).id("shop_id", required=False)
    if shop_id is not None:
        _shop_id(session, shop, shop_id, "shop_id", learn=False)


def order_id(session: Session, shop: Shop, shopify_order_id: int) -> None:
    """Shopify order ids are global: one another shop holds is not this shop's."""
    if orders.held_by_another_shop(session, shop.id, shopify_order_id):
        raise Mismatch(f"order {shopify_order_id} belongs to another shop; not acted on")


def redactable(shop: Shop) -> None:
    """shop/redact comes 48 hours after an uninstall: an installed shop is never erased."""
    if shop.installed:
        raise Mismatch("shop/redact for a shop that is installed; not erased")


def stale(triggered_at: datetime | None, shop: Shop) -> bool:
    """Whether a delivery was triggered before the shop's latest install (an
    app/uninstalled that arrives after a reinstall). Unknown times are not stale."""
    return triggered_at is not None and shop.installed_at is not None and triggered_at < shop.installed_at


def _shop_id(session: Session, shop: Shop, body_id: int | None, field: str, *, learn: bool) -> None:
    if shop.shopify_id is not None:
        if body_id != shop.shopify_id:
            raise Mismatch(f"the body's {field} is not this shop's Shopify id; not acted on")
        return
    if body_id is None or not learn:
        return
    owner = session.scalar(select(Shop.id).where(Shop.shopify_id == body_id, Shop.id != shop.id))
    if owner is not None:
        raise Mismatch(f"the body's {field} is another shop's Shopify id; not acted on")
    shop.shopify_id = body_id
