"""Shops: installing, uninstalling, erasing, and keeping their Admin API token
usable (encrypted at rest, refreshed before it lapses)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import crypto
from .models import Base, Shop, utcnow
from .shopify import tokens
from .shopify.client import AdminClient, ShopifyAuthError
from .shopify.tokens import TokenGrant

log = logging.getLogger(__name__)

# Refresh an expiring token this long before it lapses.
REFRESH_MARGIN = timedelta(minutes=5)


class NotInstalled(Exception):
    """The shop has no usable Admin API token: uninstalled, or never installed."""


def token_endpoint() -> dict:
    """The app's credentials and settings for calls to Shopify's token endpoint."""
    config = current_app.config
    return {
        "api_key": config["SHOPIFY_API_KEY"],
        "api_secret": config["SHOPIFY_API_SECRET"],
        "base_url_template": config["SHOPIFY_BASE_URL"],
        "timeout": config["SHOPIFY_TIMEOUT"],
    }


def by_domain(session: Session, domain: str) -> Shop | None:
    return session.scalar(select(Shop).where(Shop.domain == domain))


def gid_number(gid: object) -> int | None:
    """123 from "gid://shopify/Shop/123"; None for anything else."""
    if not isinstance(gid, str) or not gid.startswith("gid://shopify/"):
        return None
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isascii() and tail.isdigit() and 0 < len(tail) < 20 else None


def storefront_origin(url: object) -> str | None:
    """The browser origin of a storefront URL Shopify gave (``primaryDomain.url``):
    ``https://host`` (with a port only if not 443), lowercased; None for anything
    that is not a plain https URL of a host name."""
    if not isinstance(url, str) or len(url) > 255:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme.lower() != "https" or parts.username or parts.password or not _HOST.fullmatch(host):
        return None
    return f"https://{host.lower()}" + (f":{port}" if port not in (None, 443) else "")


_HOST = re.compile(r"(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def static_grant(token: str, scopes: str | None = None) -> TokenGrant:
    """A non-expiring token given by hand (`aftercare shops add`, demo, tests)."""
    return TokenGrant(access_token=token, scope=scopes or "", expires_at=None, refresh_token=None,
                      refresh_token_expires_at=None)


def install(session: Session, domain: str, grant: TokenGrant) -> Shop:
    """Create the shop, or bring an uninstalled one back, with this token."""
    shop = by_domain(session, domain)
    if shop is None:
        shop = Shop(domain=domain)
        session.add(shop)
    store_grant(shop, grant)
    shop.installed_at = utcnow()
    shop.uninstalled_at = None
    return shop


def store_grant(shop: Shop, grant: TokenGrant) -> None:
    key = current_app.config["SECRET_KEY"]
    shop.access_token = crypto.encrypt(key, grant.access_token)
    shop.access_token_expires_at = grant.expires_at
    shop.refresh_token = crypto.encrypt(key, grant.refresh_token) if grant.refresh_token else None
    shop.refresh_token_expires_at = grant.refresh_token_expires_at
    shop.scopes = grant.scope


def access_token(shop: Shop) -> str | None:
    if shop.access_token is None:
        return None
    return crypto.decrypt(_secret_keys(), shop.access_token)


def _secret_keys() -> tuple[str, str | None]:
    """The current key, and the one before a rotation (still decrypts)."""
    return current_app.config["SECRET_KEY"], current_app.config.get("SECRET_KEY_PREVIOUS")


def has_usable_token(shop: Shop) -> bool:
    """A token we can use now, or refresh into one."""
    if not shop.installed or shop.access_token is None:
        return False
    if shop.access_token_expires_at is None or shop.access_token_expires_at > utcnow():
        return True
    return shop.refresh_token is not None and (
        shop.refresh_token_expires_at is None or shop.refresh_token_expires_at > utcnow()
    )


def usable_token(session: Session, shop: Shop, *, force_refresh: bool = False) -> str:
    """The shop's access token, refreshed first if it is about to lapse.

    A refresh invalidates the old refresh token, so the new pair is committed
    at once, under the shop's row lock so that two processes never both
    spend the same refresh token. That commit is the caller's ``session``:
    call this (and call_admin_api) between units of work, as install and
    backfill do, never inside a transaction that may still roll back."""
    if not shop.installed or shop.access_token is None:
        raise NotInstalled(f"{shop.domain} is not installed")
    if force_refresh or _expiring(shop):
        session.refresh(shop, with_for_update=True)
        if force_refresh or _expiring(shop):
            if shop.refresh_token is None:
                raise NotInstalled(f"{shop.domain}: access token expired and no refresh token; reinstall the app")
            grant = tokens.refresh_token(
                shop.domain, crypto.decrypt(_secret_keys(), shop.refresh_token), **token_endpoint()
            )
            store_grant(shop, grant)
            log.info("refreshed the access token of %s", shop.domain)
        session.commit()
    return access_token(shop)


def _expiring(shop: Shop) -> bool:
    expires_at = shop.access_token_expires_at
    return expires_at is not None and expires_at - utcnow() < REFRESH_MARGIN


def call_admin_api(session: Session, shop: Shop, work):
    """Run ``work(client)`` with an AdminClient for the shop. If Shopify says
    the token is no good, refresh it once (when it can be) and run it again.
    A refresh commits ``session`` (see usable_token)."""
    config = current_app.config
    for attempt in (1, 2):
        client = AdminClient(
            shop.domain,
            usable_token(session, shop, force_refresh=attempt == 2),
            base_url_template=config["SHOPIFY_BASE_URL"],
            api_version=config["SHOPIFY_API_VERSION"],
            timeout=config["SHOPIFY_TIMEOUT"],
            max_wait=config.get("SHOPIFY_MAX_WAIT", 60.0),
        )
        try:
            return work(client)
        except ShopifyAuthError:
            if attempt == 2 or shop.refresh_token is None:
                raise
        finally:
            client.close()


def uninstall(shop: Shop) -> None:
    """Stop all work for the shop at once; its data stays until shop/redact."""
    shop.access_token = None
    shop.access_token_expires_at = None
    shop.refresh_token = None
    shop.refresh_token_expires_at = None
    shop.uninstalled_at = utcnow()


def delete_data(session: Session, shop_id: int) -> None:
    """Every row of the shop except the shop itself, children first."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name != "shops" and "shop_id" in table.c:
            session.execute(delete(table).where(table.c.shop_id == shop_id))


def erase(session: Session, shop_id: int) -> None:
    """shop/redact: every row of the shop, the shop itself included."""
    delete_data(session, shop_id)
    session.execute(delete(Shop).where(Shop.id == shop_id))
