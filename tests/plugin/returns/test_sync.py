"""Passing requests and the admin's decisions to Shopify (the fake, over real
HTTP), outside any transaction, retried while Shopify is down."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from plugin.db import worker_session
from plugin.models import utcnow
from plugin.returns import ReturnRefused, ReturnRequest, ReturnStatus

from ...conftest import SHOP, db
from .helpers import TOKEN, act, add_order, fulfillment_line_item_gid, line_item_id, order_node, request

pytestmark = pytest.mark.usefixtures("shop")


@pytest.fixture
def shopify(app, fake_shopify, monkeypatch):
    fake_shopify.issue_token(SHOP, token=TOKEN)
    monkeypatch.setitem(app.config, "RETURNS_SYNC_MAX_WAIT", 0.3)  # give up an attempt fast when Shopify is down
    return fake_shopify


@pytest.fixture
def order(app, shopify):
    node = order_node(2)  # bought 1, 2, 1; one parcel
    return add_order(app, shopify, node), node


def make_due(app, request_id: int) -> None:
    """Time passes: the retry is due now."""
    with worker_session(app) as session, session.begin():
        session.execute(update(ReturnRequest).where(ReturnRequest.id == request_id)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def stored(request_id: int) -> ReturnRequest:
    return db().get(ReturnRequest, request_id)


def two_items(node) -> list[dict]:
    return [{"line_item_id": line_item_id(node, 1), "quantity": 2, "reason": "SIZE_TOO_SMALL",
             "note": "Too tight " + "x" * 400},
            {"line_item_id": line_item_id(node, 2), "quantity": 1, "reason": "DEFECTIVE"}]


def test_shopify_down_keeps_the_request_and_retries_until_it_gets_there(app, shopify, order, run_worker):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    shopify.stop()
    try:
        run_worker()
    finally:
        shopify.start()
    kept = stored(made)
    assert kept.shopify_return_id is None and kept.state is ReturnStatus.REQUESTED
    assert kept.sync_attempts == 1 and "ShopifyAPIError" in kept.sync_error
    assert kept.next_attempt_at > utcnow() + timedelta(seconds=30)  # backs off
    assert shopify.returns(SHOP) == []

    shopify.fail_next(5, status=503, endpoint="graphql")  # slow to recover: still failing
    make_due(app, made)
    run_worker()
    assert stored(made).sync_attempts == 2 and stored(made).shopify_return_id is None

    shopify.reset_faults()  # Shopify is back
    make_due(app, made)
    run_worker()
    [created] = shopify.returns(SHOP)
    assert created["status"] == "REQUESTED" and created["order"]["id"] == node["id"]
    assert [(line["fulfillmentLineItemId"], line["quantity"], line["returnReason"]) for line in created["returnLineItems"]] == [
        (fulfillment_line_item_gid(node, 1), 2, "SIZE_TOO_SMALL"), (fulfillment_line_item_gid(node, 2), 1, "DEFECTIVE")]
    assert created["returnLineItems"][0]["customerNote"] == ("Too tight " + "x" * 400)[:300]  # Shopify's limit
    done = stored(made)
    assert done.shopify_return_id == int(created["id"].rsplit("/", 1)[1])
    assert (done.shopify_status, done.sync_error, done.next_attempt_at, done.sync_attempts) == ("REQUESTED", None, None, 0)
    assert done.items[0].note.endswith("x" * 400)  # the whole note stays ours

    run_worker()
    assert len(shopify.calls(operation="returnRequest")) == 1  # nothing more to push


def test_approve_reaches_shopify_once_and_approving_twice_is_refused(app, shopify, order, run_worker):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    run_worker()
    approved = act(app, made, "approve", instructions="Print the label and drop it at any post office.")
    assert approved.first_response_at is not None and approved.resolved_at is None
    with pytest.raises(ReturnRefused) as refused:
        act(app, made, "approve")
    assert (refused.value.field, refused.value.message) == ("action", "the return request is already approved")
    run_worker()
    [ret] = shopify.returns(SHOP)
    assert (ret["status"], ret["notifyCustomer"]) == ("OPEN", False)  # our own email tells the shopper
    assert len(shopify.calls(operation="returnApproveRequest")) == 1
    done = stored(made)
    assert (done.state, done.shopify_status, done.next_attempt_at, done.last_actor) == (
        ReturnStatus.APPROVED, "OPEN", None, "staff@example.com")
    assert done.instructions.startswith("Print the label")


def test_decline_with_reason_and_note(app, shopify, order, run_worker):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    run_worker()
    declined = act(app, made, "decline", reason="final_sale", instructions="Sale items are final.")
    assert declined.first_response_at == declined.resolved_at is not None
    run_worker()
    [ret] = shopify.returns(SHOP)
    assert (ret["status"], ret["declineReason"], ret["declineNote"]) == ("DECLINED", "FINAL_SALE", "Sale items are final.")
    with pytest.raises(ReturnRefused):
        act(app, made, "approve")


def test_bad_decline_reason_changes_nothing(app, shopify, order):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    with pytest.raises(ReturnRefused) as refused:
        act(app, made, "decline", reason="BECAUSE")
    assert refused.value.field == "reason"
    assert stored(made).state is ReturnStatus.REQUESTED and stored(made).first_response_at is None


def test_approved_before_it_reached_shopify_is_created_then_approved_then_closed(app, shopify, order, run_worker):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    act(app, made, "approve")
    run_worker()
    assert [r.operations for r in shopify.calls(endpoint="graphql")] == [
        ["returnableFulfillments"], ["returnRequest"], ["returnApproveRequest"]]
    act(app, made, "receive")
    act(app, made, "close")
    run_worker()
    [ret] = shopify.returns(SHOP)
    assert ret["status"] == "CLOSED"
    done = stored(made)
    assert (done.state, done.shopify_status) == (ReturnStatus.CLOSED, "CLOSED")
    assert done.closed_at is not None and done.resolved_at == done.closed_at


def test_declined_before_it_reached_shopify_is_never_sent(app, shopify, order, run_worker):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    act(app, made, "decline")
    run_worker()
    assert shopify.calls(endpoint="graphql") == [] and stored(made).next_attempt_at is None


def test_shopify_refusing_keeps_the_error_and_retries_later(app, shopify, order, run_worker):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    run_worker()
    shopify.set_return_status(SHOP, shopify.returns(SHOP)[0]["id"], "CANCELED")  # meanwhile, in Shopify
    act(app, made, "approve")
    run_worker()
    kept = stored(made)
    assert kept.state is ReturnStatus.APPROVED and "not in the REQUESTED status" in kept.sync_error
    assert kept.next_attempt_at > utcnow()


def test_nothing_is_locked_while_shopify_answers(app, shopify, order, run_worker):
    order_id, node = order
    made = request(app, order_id, two_items(node))
    shopify.slow_next(1, seconds=1.5, endpoint="graphql")
    worker = threading.Thread(target=run_worker)
    worker.start()
    try:
        while not shopify.calls(endpoint="graphql"):  # the worker is now waiting for Shopify
            time.sleep(0.01)
        started = time.monotonic()
        act(app, made, "approve")  # takes the same row, and the write lock on SQLite
        assert time.monotonic() - started < 1.0
    finally:
        worker.join(10)
    # The approval made during the call is pushed right after the request reached Shopify.
    assert shopify.returns(SHOP)[0]["status"] == "OPEN"
    assert stored(made).shopify_status == "OPEN"
