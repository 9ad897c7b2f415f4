"""The demo shop, installed afresh on every run with its history and
settings, and the stand-in Shopify stocked with the same orders."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import settings, shops
from ..db import worker_session
from ..models import Order, utcnow
from . import fake_shopify, history
from .scenario import AMARA, DEMO_SHOP, KENTA, LUCAS, MAYA, ZOE

DEMO_TOKEN = "shpat_demo_not_a_real_token"
# The scenario's clock runs three days in a minute: its shop asks for surveys
# an hour after delivery (the least the setting allows), so Maya's parcel,
# delivered 18 hours ago on that clock, gets its invitation at the worker's
# next survey scan; a low answer's alert waits in the outbox like the rest.
DEMO_SETTINGS = {"survey.delay_hours": 1, "alerts.low_score_email": "care@aftercare-demo.example"}
SHIPPED = (MAYA, KENTA, ZOE)  # the scenario ships these; Amara's waits, Lucas's is cancelled


def prepare(app: Flask, shopify: fake_shopify.DemoShopify) -> None:
    """Install the demo shop afresh with its history and settings, and have the
    stand-in Shopify sell the same orders."""
    with app.app_context(), worker_session(app) as session, session.begin():
        grant = shops.static_grant(DEMO_TOKEN, "read_orders,read_fulfillments")
        shop = shops.install(session, DEMO_SHOP, grant)
        session.flush()
        shops.delete_data(session, shop.id)  # a second run starts afresh
        history.seed(session, shop.id, datetime.now(timezone.utc))  # weeks of figures for the dashboard
        settings.update(session, shop.id, DEMO_SETTINGS)
        # The worker makes the webhook subscriptions at once, as after an install that could not reach Shopify.
        shop.subscriptions_due_at = utcnow()
        session.flush()
        stock_stand_in(session, shop.id, shopify)


def stock_stand_in(session: Session, shop_id: int, shopify: fake_shopify.DemoShopify) -> None:
    """The scenario's orders as the scenario leaves them, and the history's as stored."""
    for sample in (MAYA, KENTA, ZOE, AMARA, LUCAS):
        shopify.add_sample(sample, shipped=sample in SHIPPED)
    stored = session.scalars(select(Order).where(Order.shop_id == shop_id)
                             .options(selectinload(Order.line_items), selectinload(Order.fulfillments)))
    for order in stored:
        lines = [fake_shopify.Line(li.shopify_id, li.quantity, li.price or 0) for li in order.line_items]
        shopify.add_order(fake_shopify.DemoOrder(
            order.shopify_id, order.name, order.currency or "EUR", lines, order.total_price or 0,
            order.fulfillments[0].shopify_id if order.fulfillments else None))
