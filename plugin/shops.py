"""Shops: registering, uninstalling, and the access token kept encrypted."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import crypto
from .models import Base, Shop, utcnow


def by_domain(session: Session, domain: str) -> Shop | None:
    return session.scalar(select(Shop).where(Shop.domain == domain))


def install(session: Session, domain: str, token: str, scopes: str | None = None) -> Shop:
    """Create the shop, or bring an uninstalled one back with its new token."""
    shop = by_domain(session, domain)
    if shop is None:
        shop = Shop(domain=domain)
        session.add(shop)
    shop.access_token = crypto.encrypt(current_app.config["SECRET_KEY"], token)
    shop.scopes = scopes
    shop.installed_at = utcnow()
    shop.uninstalled_at = None
    return shop


def access_token(shop: Shop) -> str | None:
    if shop.access_token is None:
        return None
    return crypto.decrypt(current_app.config["SECRET_KEY"], shop.access_token)


def uninstall(shop: Shop) -> None:
    """Stop all work for the shop at once; its data stays until shop/redact."""
    shop.access_token = None
    shop.uninstalled_at = utcnow()


def delete_data(session: Session, shop_id: int) -> None:
    """Every row of the shop except the shop itself, children first."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name != "shops" and "shop_id" in table.c:
            session.execute(delete(table).where(table.c.shop_id == shop_id))
