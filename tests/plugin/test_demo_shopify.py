"""The demo's stand-in Shopify: the demo's parts (its shop prepared as
`aftercare demo` does, the scenario's webhooks, the worker) with the stand-in
on a real local port, and a return worked from the shopper's request to
refunded and closed, each step reaching the stand-in through the worker."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from plugin import create_app, demo, migrate, shops, worker
from plugin.db import engine, worker_session
from plugin.demo import install, scenario
from plugin.demo.fake_shopify import SHOP_NAME, DemoShopify
from plugin.models import Notification
from plugin.returns import ReturnRequest, sync

from ..conftest import API_KEY, SECRET, environ, fresh_database
from ..fake_shopify import make_session_token

MAYA = scenario.MAYA
BEANIE, SOCKS = MAYA.line_item_id(0), MAYA.line_item_id(1)


@pytest.fixture
def stand_in():
    shopify = DemoShopify(install.DEMO_TOKEN).start()
    try:
        yield shopify
    finally:
        shopify.stop()


@pytest.fixture
def demo_app(backend, tmp_path, stand_in):
    with fresh_database(backend, tmp_path) as url:
        app = create_app({"TESTING": True, "DEMO": True, "RETURNS_SYNC_MAX_WAIT": 0.3, "LOOKUP_SECONDS": 0},
                         environ=environ(url, stand_in.base_url_template), instance_path=str(tmp_path / "instance"))
        migrate.upgrade(app)
        install.prepare(app, stand_in)
        try:
            yield app
        finally:
            engine(app).dispose()


def run_worker(app) -> None:
    with app.app_context():  # as the demo runs its worker
        worker.run(app, once=True)


def play(app, client) -> None:
    for step in scenario.scenario():
        for topic, payload in step.deliveries:
            body = json.dumps(payload).encode()
            headers = scenario.webhook_headers(topic, body, SECRET, "2026-07")
            assert client.post("/webhooks", data=body, headers=headers).json["status"] == "accepted"
        run_worker(app)


def act(client, request_id: int, action: str):
    bearer = make_session_token(API_KEY, SECRET, demo.DEMO_SHOP)
    return client.post(f"/api/admin/returns/{request_id}/{action}", headers={"Authorization": f"Bearer {bearer}"})


def stored(app, request_id: int) -> ReturnRequest:
    with worker_session(app) as session:
        return session.get(ReturnRequest, request_id)


def test_a_return_goes_from_the_shoppers_request_to_refunded_and_closed_in_the_stand_in(demo_app, stand_in):
    client = demo_app.test_client()
    play(demo_app, client)
    # The install's subscriptions were made in the stand-in, and the shop learnt its name there.
    assert {s["topic"] for s in stand_in.subscriptions} >= {"ORDERS_CREATE", "RETURNS_APPROVE", "REFUNDS_CREATE"}
    with worker_session(demo_app) as session:
        shop = shops.by_domain(session, demo.DEMO_SHOP)
        assert (shop.name, shop.subscriptions_due_at) == (SHOP_NAME, None)

    # Maya, on the storefront, finds her order and asks to return the two pairs of socks.
    query = f"?shop={demo.DEMO_SHOP}"
    found = client.post("/widgets/api/lookup" + query, json={"order": MAYA.name, "email": MAYA.customer.email})
    assert found.status_code == 200
    asked = client.post("/widgets/api/returns" + query, json={
        "token": found.json["token"], "items": [{"line_item_id": str(SOCKS), "quantity": 2, "reason": "UNWANTED"}]})
    assert asked.status_code == 201
    request_id = int(asked.json["return"]["id"])
    assert stored(demo_app, request_id).shopify_return_id is None

    run_worker(demo_app)
    made = stored(demo_app, request_id)
    assert (made.shopify_status, made.sync_error) == ("REQUESTED", None)
    assert stand_in.return_status(made.shopify_return_id) == "REQUESTED"
    [ret] = stand_in.returns.values()
    assert [(line["line_item_id"], line["quantity"]) for line in ret.lines] == [(SOCKS, 2)]

    def step(action: str, shopify_status: str) -> None:
        assert act(client, request_id, action).status_code == 200
        run_worker(demo_app)
        now = stored(demo_app, request_id)
        assert (now.status, now.shopify_status, now.sync_error, now.next_attempt_at) == (
            {"approve": "approved", "receive": "received", "refund": "refunded", "close": "closed"}[action],
            shopify_status, None, None)
        assert stand_in.return_status(made.shopify_return_id) == shopify_status

    step("approve", "OPEN")
    step("receive", "OPEN")
    step("refund", "OPEN")
    [refund] = ret.refunds  # the worker refunded through returnProcess
    assert refund["amount"] == "36.00"  # two pairs at 18.00; shipping stays
    assert [line["processed"] for line in ret.lines] == [2]
    step("close", "CLOSED")

    # Maya was told at each step, by email, through the outbox.
    with worker_session(demo_app) as session:
        kinds = [n.kind for n in session.scalars(select(Notification).where(
            Notification.recipient == MAYA.customer.email, Notification.kind.like("return_%"))
            .order_by(Notification.id))]
    assert kinds == ["return_requested", "return_approved", "return_refunded"]


def test_the_stand_in_refuses_what_shopify_would_and_only_the_demo_shops_token(demo_app, stand_in):
    api = stand_in.base_url_template.format(shop=demo.DEMO_SHOP) + "/admin/api/2026-07/graphql.json"
    ask = {"query": sync.RETURN_REQUEST, "variables": {"input": {
        "orderId": f"gid://shopify/Order/{scenario.AMARA.id}",  # not shipped
        "returnLineItems": [{"fulfillmentLineItemId": f"gid://shopify/FulfillmentLineItem/"
                                                      f"{scenario.AMARA.line_item_id(0)}", "quantity": 1}]}}}
    for shop, token in ((demo.DEMO_SHOP, "shpat_wrong"), ("other.myshopify.com", install.DEMO_TOKEN)):
        url = stand_in.base_url_template.format(shop=shop) + "/admin/api/2026-07/graphql.json"
        assert requests.post(url, json=ask, headers={"X-Shopify-Access-Token": token}, timeout=5).status_code == 401
    headers = {"X-Shopify-Access-Token": install.DEMO_TOKEN}
    refused = requests.post(api, json=ask, headers=headers, timeout=5).json()["data"]["returnRequest"]
    assert refused["return"] is None and "does not exist" in refused["userErrors"][0]["message"]

    too_many = {"query": sync.RETURN_REQUEST, "variables": {"input": {
        "orderId": f"gid://shopify/Order/{MAYA.id}",
        "returnLineItems": [{"fulfillmentLineItemId": f"gid://shopify/FulfillmentLineItem/{BEANIE}", "quantity": 2}]}}}
    refused = requests.post(api, json=too_many, headers=headers, timeout=5).json()["data"]["returnRequest"]
    assert "more than can be returned" in refused["userErrors"][0]["message"]
    close = {"query": sync.RETURN_CLOSE, "variables": {"id": "gid://shopify/Return/1"}}
    assert requests.post(api, json=close, headers=headers, timeout=5).json()["data"]["returnClose"]["userErrors"]
    assert stand_in.returns == {}

    unknown = requests.post(api, json={"query": "mutation AftercareSomethingNew { x }"}, headers=headers,
                            timeout=5).json()
    assert unknown["errors"][0]["message"] == "the demo's stand-in Shopify does not answer AftercareSomethingNew"


def test_a_history_return_acted_on_is_created_in_the_stand_in_then_moved(demo_app, stand_in):
    """The dashboard's history returns never reached Shopify; acting on one
    creates it in the stand-in first, from the history order it was stocked with."""
    with worker_session(demo_app) as session:
        approved = session.scalars(select(ReturnRequest).where(
            ReturnRequest.status == "approved", ReturnRequest.key.like("history-%"))).first()
        assert approved is not None and approved.shopify_return_id is None
        request_id = approved.id
    assert act(demo_app.test_client(), request_id, "receive").status_code == 200
    run_worker(demo_app)
    now = stored(demo_app, request_id)
    assert (now.status, now.shopify_status, now.sync_error) == ("received", "OPEN", None)
    assert stand_in.return_status(now.shopify_return_id) == "OPEN"


def test_only_the_demo_knows_the_stand_in():
    """The stand-in is started by `aftercare demo` and nothing else in the app refers to it."""
    from pathlib import Path

    root = Path(demo.__file__).resolve().parents[2]
    users = sorted(path.relative_to(root).as_posix() for folder in ("plugin", "webhooks", "widgets")
                   for path in (root / folder).rglob("*.py")
                   if "fake_shopify" in path.read_text(encoding="utf-8") and path.name != "fake_shopify.py")
    assert users == ["plugin/demo/__init__.py", "plugin/demo/install.py", "plugin/demo/run.py"]
