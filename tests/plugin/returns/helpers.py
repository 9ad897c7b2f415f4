"""Orders for return tests: one GraphQL node seeded in the fake Shopify and
the same order applied to the database, so ids agree on both sides."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from plugin import backfill, orders, returns, settings
from plugin.db import worker_session
from plugin.models import Order, Shop

from ...conftest import SHOP
from ...fake_shopify import make_order_node

TOKEN = "shpat_test_token"  # what the `shop` fixture stored


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


def order_node(n: int, *, ordered: float = 10, fulfilled: float | None = 9, delivered: float | None = 7,
               **overrides) -> dict:
    """``make_order_node(n)`` (n % 4 == 2: shipped in one parcel) placed in
    time: ordered, fulfilled and delivered so many days ago (None: not
    fulfilled / no delivery reported). ``overrides`` replace top-level keys."""
    assert n % 4 == 2, "use a shipped order shape"
    node = make_order_node(n)
    node["createdAt"] = node["processedAt"] = iso(days_ago(ordered))
    if fulfilled is None:
        node["fulfillments"] = []
        node["displayFulfillmentStatus"] = "UNFULFILLED"
    for f in node["fulfillments"]:
        f["createdAt"] = iso(days_ago(fulfilled))
        f["displayStatus"] = "DELIVERED" if delivered is not None else "IN_TRANSIT"
        f["deliveredAt"] = iso(days_ago(delivered)) if delivered is not None else None
        f["updatedAt"] = iso(days_ago(delivered if delivered is not None else fulfilled))
    node["updatedAt"] = iso(days_ago(0.001))
    node.update(overrides)
    return node


def add_order(app, fake, node: dict, shop_domain: str = SHOP) -> int:
    """Seed ``node`` in the fake Shopify and store it; returns the order's row id."""
    fake.seed_orders(shop_domain, [node])
    with worker_session(app) as session, session.begin():
        shop = session.scalar(select(Shop).where(Shop.domain == shop_domain))
        order = orders.apply_order(session, shop.id, backfill.order_from_graphql(node))
        session.flush()
        return order.id


def line_item_id(node: dict, i: int) -> int:
    return int(node["lineItems"]["nodes"][i]["id"].rsplit("/", 1)[1])


def fulfillment_line_item_gid(node: dict, i: int) -> str:
    return node["fulfillments"][0]["fulfillmentLineItems"]["nodes"][i]["id"]


def eligibility(app, order_id: int, shop_domain: str = SHOP) -> list[returns.ItemEligibility]:
    with worker_session(app) as session, session.begin():
        shop = session.scalar(select(Shop).where(Shop.domain == shop_domain))
        order = session.scalar(select(Order).where(Order.shop_id == shop.id, Order.id == order_id))
        return returns.returnable(session, shop, order)


def request(app, order_id: int, items: list[dict], *, key: str = "k1", note=None,
            shop_domain: str = SHOP) -> int:
    """A return request made and committed; returns its id."""
    with worker_session(app) as session, session.begin():
        shop = session.scalar(select(Shop).where(Shop.domain == shop_domain))
        order = session.scalar(select(Order).where(Order.id == order_id))
        made = returns.request_return(session, shop, order, items, key=key, note=note)
        session.flush()
        return made.id


def act(app, request_id: int, action: str, shop_domain: str = SHOP, **kwargs) -> returns.ReturnRequest:
    with worker_session(app) as session, session.begin():
        shop = session.scalar(select(Shop).where(Shop.domain == shop_domain))
        return returns.act(session, shop, request_id, action, actor=kwargs.pop("actor", "staff@example.com"),
                           **kwargs)


def set_settings(app, changes: dict, shop_domain: str = SHOP) -> None:
    with worker_session(app) as session, session.begin():
        shop = session.scalar(select(Shop).where(Shop.domain == shop_domain))
        settings.update(session, shop.id, changes)

