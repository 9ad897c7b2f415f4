"""A refund decided in the admin reaches Shopify (the fake, over real HTTP)
through the worker with `returnProcess`, exactly once: not twice when
Shopify's answer is lost or Shopify is down, not at all when the merchant
already refunded in Shopify. Shopify's refusals show on the return in the
admin queue; the shopper hears "refunded" once, when Shopify has it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugin.returns import ReturnRequest, ReturnStatus

from ...conftest import SHOP, db
from ...webhooks.test_returns import deliver, order_id_of
from ..test_admin_api import token
from ..test_admin_pages import link_path
from ..test_admin_settings import call
from .helpers import TOKEN, act, add_order, line_item_id, order_node, request
from .test_sync import make_due

pytestmark = pytest.mark.usefixtures("shop")


@pytest.fixture
def shopify(app, fake_shopify, monkeypatch):
    fake_shopify.issue_token(SHOP, token=TOKEN)
    monkeypatch.setitem(app.config, "RETURNS_SYNC_MAX_WAIT", 0.3)  # give up an attempt fast when Shopify is down
    return fake_shopify


def price(node: dict, i: int) -> Decimal:
    return Decimal(node["lineItems"]["nodes"][i]["originalUnitPriceSet"]["shopMoney"]["amount"])


def make(app, shopify, run_worker, smtp, **overrides) -> tuple[int, dict]:
    """A request for 2 of item 1 and 1 of item 2 of order #1002, in Shopify and approved there."""
    node = order_node(2, **overrides)  # bought 1, 2, 1; one parcel, delivered
    order_id = add_order(app, shopify, node)
    made = request(app, order_id, [
        {"line_item_id": line_item_id(node, 1), "quantity": 2, "reason": "SIZE_TOO_SMALL"},
        {"line_item_id": line_item_id(node, 2), "quantity": 1, "reason": "DEFECTIVE"}])
    run_worker()
    act(app, made, "approve", instructions="Send it back.")
    run_worker()
    assert stored(made).shopify_status == "OPEN"
    return made, node


def stored(request_id: int) -> ReturnRequest:
    return db().get(ReturnRequest, request_id)


def kinds(smtp) -> list[str]:
    return [m["X-Aftercare-Kind"] for m in smtp.messages]


def queue_row(client, request_id: int) -> dict:
    response = call(client, "GET", "/api/admin/returns", token())
    assert response.status_code == 200
    [row] = [r for r in response.json["items"] if r["id"] == request_id]
    return row


def test_approve_receive_refund_close_works_the_return_in_shopify(app, client, shopify, run_worker, smtp):
    made, node = make(app, shopify, run_worker, smtp)
    act(app, made, "receive")
    run_worker()
    assert shopify.refunds(SHOP) == [] and stored(made).shopify_status == "OPEN"  # receiving refunds nothing

    act(app, made, "refund")
    assert "return_refunded" not in kinds(smtp)  # not before Shopify has made it
    run_worker()
    [refund] = shopify.refunds(SHOP)
    [ret] = shopify.returns(SHOP)
    assert Decimal(refund["amount"]) == 2 * price(node, 1) + price(node, 2)
    assert refund["parentId"].startswith("gid://shopify/OrderTransaction/")
    assert [line["processedQuantity"] for line in ret["returnLineItems"]] == [2, 1]
    assert ret["notifyCustomer"] is False  # our own email tells the shopper
    done = stored(made)
    assert done.state is ReturnStatus.REFUNDED and done.shopify_refund_id == int(refund["id"].rsplit("/", 1)[1])
    assert (done.next_attempt_at, done.sync_error) == (None, None)
    assert kinds(smtp) == ["return_requested", "return_approved", "return_refunded"]
    assert queue_row(client, made)["shopify"]["state"] == "synced"

    act(app, made, "close")
    run_worker()
    assert shopify.returns(SHOP)[0]["status"] == "CLOSED" and stored(made).shopify_status == "CLOSED"
    assert len(shopify.refunds(SHOP)) == 1 and len(shopify.calls(operation="returnProcess")) == 1
    assert kinds(smtp) == ["return_requested", "return_approved", "return_refunded"]  # closing says nothing
    assert [a["action"] for a in queue_row(client, made)["history"]] == ["approve", "receive", "refund", "close"]


def test_refund_then_close_before_the_worker_runs_still_refunds_first(app, shopify, run_worker, smtp):
    made, _node = make(app, shopify, run_worker, smtp)
    act(app, made, "refund")
    act(app, made, "close")
    run_worker()
    assert len(shopify.refunds(SHOP)) == 1 and shopify.returns(SHOP)[0]["status"] == "CLOSED"
    assert [c.operations for c in shopify.calls(endpoint="graphql")][-2:] == [["returnProcess"], ["returnClose"]]
    assert stored(made).state is ReturnStatus.CLOSED and stored(made).next_attempt_at is None
    assert kinds(smtp).count("return_refunded") == 1  # the refund is told even though the return is closed


def test_a_lost_answer_is_read_back_not_refunded_twice(app, client, shopify, run_worker, smtp):
    made, _node = make(app, shopify, run_worker, smtp)
    act(app, made, "refund")
    shopify.lose_answer_next(operation="returnProcess")  # Shopify refunds, the app hears 502
    run_worker()
    [refund] = shopify.refunds(SHOP)
    waiting = stored(made)
    assert waiting.shopify_refund_id is None and "ShopifyAPIError" in waiting.sync_error
    assert "not sent again" in waiting.sync_error  # the client did not repeat the mutation by itself
    assert queue_row(client, made)["shopify"]["state"] == "failed"
    assert "return_refunded" not in kinds(smtp)

    make_due(app, made)
    run_worker()
    assert shopify.refunds(SHOP) == [refund]  # still the one refund
    assert len(shopify.calls(operation="returnProcess")) == 1
    done = stored(made)
    assert done.shopify_refund_id == int(refund["id"].rsplit("/", 1)[1]) and done.sync_error is None
    assert kinds(smtp).count("return_refunded") == 1
    make_due(app, made)
    run_worker()
    assert len(shopify.calls(operation="returnProcess")) == 1  # nothing more owed


def test_shopify_down_keeps_the_refund_owed_and_makes_it_once_when_back(app, shopify, run_worker, smtp):
    made, _node = make(app, shopify, run_worker, smtp)
    act(app, made, "refund")
    shopify.stop()
    try:
        run_worker()
    finally:
        shopify.start()
    assert shopify.refunds(SHOP) == [] and stored(made).shopify_refund_id is None
    assert stored(made).next_attempt_at is not None and "ShopifyAPIError" in stored(made).sync_error
    shopify.fail_next(1, status=503, endpoint="graphql")  # the first read after the outage fails too
    make_due(app, made)
    run_worker()
    make_due(app, made)
    run_worker()
    assert len(shopify.refunds(SHOP)) == 1 and stored(made).shopify_refund_id is not None
    assert kinds(smtp).count("return_refunded") == 1


def test_shopifys_user_errors_show_on_the_return_in_the_admin_queue(app, client, shopify, run_worker, smtp):
    made, _node = make(app, shopify, run_worker, smtp)
    [ret] = shopify.returns(SHOP)
    shopify.set_return_status(SHOP, ret["id"], "CLOSED")  # the merchant closed it in Shopify; no webhook yet
    act(app, made, "refund")
    run_worker()
    assert shopify.refunds(SHOP) == []
    row = queue_row(client, made)
    assert row["status"] == "refunded" and row["shopify"]["state"] == "failed"
    assert "Return must be open to be processed" in row["shopify"]["error"]
    html = client.get(link_path(page="/app/returns")).get_data(as_text=True)
    assert "Return must be open to be processed; it is CLOSED." in html  # on the Returns page too
    assert "return_refunded" not in kinds(smtp)  # nobody was refunded, nobody is told so


def test_an_order_with_no_payment_to_refund_says_so(app, client, shopify, run_worker, smtp):
    made, _node = make(app, shopify, run_worker, smtp, transactions=[])
    act(app, made, "refund")
    run_worker()
    assert shopify.refunds(SHOP) == [] and shopify.calls(operation="returnProcess") == []
    assert "no payment to refund" in queue_row(client, made)["shopify"]["error"]


def test_a_refund_the_merchant_made_in_shopify_is_not_made_again(app, shopify, run_worker, smtp, webhooks):
    made, node = make(app, shopify, run_worker, smtp)
    act(app, made, "refund")
    return_id = stored(made).shopify_return_id
    refund = {"id": 9001, "order_id": order_id_of(node), "return": {"id": return_id},
              "refund_line_items": [{"id": 90011, "line_item_id": line_item_id(node, 1), "quantity": 2,
                                     "restock_type": "return"}]}
    deliver(webhooks, run_worker, "refunds/create", refund)  # the worker runs after it too
    assert shopify.calls(operation="returnProcess") == [] and shopify.refunds(SHOP) == []
    done = stored(made)
    assert (done.shopify_refund_id, done.next_attempt_at) == (9001, None)
    assert kinds(smtp).count("return_refunded") == 1
