"""`aftercare backfill` against the fake Shopify's GraphQL Admin API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from plugin import backfill, orders
from plugin.models import Backfill, Fulfillment, LineItem, Order

from ..conftest import SHOP, db, load_payload
from ..fake_shopify import make_order_node

TOKEN = "shpat_test_token"


def seed(fake, count: int) -> None:
    now = datetime.now(timezone.utc)
    nodes = []
    for n in range(count):
        node = make_order_node(n)
        created = now - timedelta(days=5) + timedelta(seconds=n)
        node["createdAt"] = created.isoformat()
        node["updatedAt"] = max(node["updatedAt"], created.isoformat())
        nodes.append(node)
    fake.seed_orders(SHOP, nodes)
    fake.issue_token(SHOP, "read_orders", token=TOKEN)


def count(model) -> int:
    return db().scalar(select(func.count()).select_from(model))


def test_backfill_imports_1000_orders_through_throttling_with_a_progress_bar(app, shop, fake_shopify, runner):
    seed(fake_shopify, 1000)
    fake_shopify.throttle_next(3, mode="graphql")
    fake_shopify.throttle_next(1, mode="http429", retry_after=0.05)
    result = runner("backfill", "--shop", SHOP, "--days", "30")
    assert result.exit_code == 0, result.output
    assert "imported 1000 order(s)" in result.output
    assert "Importing orders of test-shop.myshopify.com" in result.stderr
    assert result.stderr.splitlines()[-1] == f"Importing orders of {SHOP} [{'#' * 30}] 1000/1000"
    assert count(Order) == 1000
    assert count(Fulfillment) == 750  # n % 4 != 0 are shipped
    faults = [c.fault for c in fake_shopify.calls(endpoint="graphql") if c.fault]
    assert sorted(faults) == ["http429", "throttled", "throttled", "throttled"]  # all waited out

    again = runner("backfill", "--shop", SHOP, "--days", "30")  # idempotent
    assert again.exit_code == 0
    assert count(Order) == 1000 and count(Fulfillment) == 750


def test_backfilled_order_matches_the_graphql_node(app, shop, fake_shopify, runner):
    seed(fake_shopify, 3)
    runner("backfill", "--shop", SHOP)
    node = fake_shopify.orders(SHOP)[2]
    order = orders.find_order(db(), _shop_id(), node["name"])
    state = orders.order_state(order)
    assert state["id"] == node["id"].rsplit("/", 1)[1]
    assert state["email"] == node["email"]
    assert state["financial_status"] == "paid"
    [fulfillment] = state["fulfillments"]
    assert fulfillment["shipment_status"] == "delivered"
    assert fulfillment["tracking_numbers"] == [node["fulfillments"][0]["trackingInfo"][0]["number"]]
    assert [li["quantity"] for li in fulfillment["line_items"]] == [
        li["quantity"] for li in node["lineItems"]["nodes"]]


def _shop_id() -> int:
    from plugin.models import Shop
    return db().scalar(select(Shop.id).where(Shop.domain == SHOP))


def test_an_interrupted_backfill_resumes_where_it_stopped(app, shop, fake_shopify, runner, monkeypatch):
    seed(fake_shopify, 250)
    monkeypatch.setattr(backfill, "PAGE_SIZE", 50)
    monkeypatch.setitem(app.config, "SHOPIFY_TIMEOUT", 0.5)
    # The third page fails for good (every retry), as if Shopify went away.
    calls = {"n": 0}
    original = backfill.apply_order

    def flaky(session, shop_id, data):
        calls["n"] += 1
        if calls["n"] == 101:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C mid-page
        return original(session, shop_id, data)

    monkeypatch.setattr(backfill, "apply_order", flaky)
    try:
        runner("backfill", "--shop", SHOP)
    finally:
        monkeypatch.setattr(backfill, "apply_order", original)
    assert count(Order) == 100  # two whole pages; the half page was rolled back
    [state] = db().scalars(select(Backfill)).all()
    assert state.finished_at is None and state.imported == 100

    before = len(fake_shopify.calls(endpoint="graphql"))
    result = runner("backfill", "--shop", SHOP)
    assert result.exit_code == 0, result.output
    assert "imported 150 order(s)" in result.output
    assert count(Order) == 250
    pages = [c for c in fake_shopify.calls(endpoint="graphql")[before:] if "orders" in c.operations]
    assert len(pages) == 3  # pages 3, 4 and 5 only


def test_backfill_and_webhooks_agree_whichever_comes_first(app, shop, fake_shopify, runner, webhooks, run_worker):
    seed(fake_shopify, 2)
    node = fake_shopify.orders(SHOP)[1]
    body = load_payload("order_create")
    body.update(id=int(node["id"].rsplit("/", 1)[1]), name=node["name"], order_number=int(node["name"][1:]),
                financial_status="refunded", updated_at="2099-01-01T00:00:00Z", line_items=[])
    webhooks.post("orders/updated", body)  # newer than the backfill's copy
    run_worker()
    runner("backfill", "--shop", SHOP)
    assert count(Order) == 2
    order = orders.find_order(db(), _shop_id(), node["name"])
    assert order.financial_status == "refunded"
    assert count(LineItem) == len(fake_shopify.orders(SHOP)[0]["lineItems"]["nodes"])


def test_backfill_of_an_uninstalled_shop_says_so(app, shop, fake_shopify, runner, webhooks, run_worker):
    webhooks.post("app/uninstalled", load_payload("app_uninstalled"))
    run_worker()
    result = runner("backfill", "--shop", SHOP)
    assert result.exit_code == 1
    assert "is not installed" in result.output
