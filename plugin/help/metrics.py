"""How often shoppers still needed a person: contacts per 100 orders, for
the dashboard (a pure summary, like the survey metrics)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Order
from .models import Contact


def contact_rate(session: Session, shop_id: int, start: datetime, end: datetime) -> dict:
    """Contacts made and orders placed in [start, end), and contacts per 100
    orders (None without orders)."""
    contacts = session.scalar(select(func.count()).select_from(Contact).where(
        Contact.shop_id == shop_id, Contact.created_at >= start, Contact.created_at < end)) or 0
    orders = session.scalar(select(func.count()).select_from(Order).where(
        Order.shop_id == shop_id, Order.shopify_created_at >= start, Order.shopify_created_at < end)) or 0
    return {"contacts": contacts, "orders": orders,
            "per_100_orders": round(100 * contacts / orders, 1) if orders else None}
