"""returns/* and refunds/create keep a return request's status true when the
merchant acts in Shopify's own admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from plugin import shops
from plugin.db import worker_session
from plugin.models import WebhookDelivery, utcnow
from plugin.returns import ReturnRequest, ReturnStatus, Why

from ..conftest import SHOP, db
from ..plugin.returns.helpers import TOKEN, add_order, eligibility, line_item_id, order_node, request

pytestmark = pytest.mark.usefixtures("shop")


@pytest.fixture
def pushed(app, fake_shopify, run_worker):
    """A request of ours that reached Shopify: (request id, Shopify return id, order node)."""
    fake_shopify.issue_token(SHOP, token=TOKEN)
    node = order_node(2)
    order_id = add_order(app, fake_shopify, node)
    made = request(app, order_id, [{"line_item_id": line_item_id(node, 1), "quantity": 2, "reason": "UNWANTED"}])
    run_worker()
    return_id = db().get(ReturnRequest, made).shopify_return_id
    assert return_id is not None
    fake_shopify.clear_requests()
    return made, return_id, node


def order_id_of(node: dict) -> int:
    return int(node["id"].rsplit("/", 1)[1])


def full(return_id: int, node: dict, status: str, **extra) -> dict:
    """The shape of returns/request, approve and decline."""
    return {"id": return_id, "admin_graphql_api_id": f"gid://shopify/Return/{return_id}", "status": status,
            "order": {"id": order_id_of(node), "admin_graphql_api_id": node["id"]}, "name": "#1002-R1",
            "total_return_line_items": 1, "return_line_items": [], "return_shipping_fees": [],
            "exchange_line_items": [], "total_exchange_line_items": 0, **extra}


def thin(return_id: int, node: dict, status: str) -> dict:
    """The shape of returns/cancel, close and reopen."""
    return {"id": return_id, "admin_graphql_api_id": f"gid://shopify/Return/{return_id}",
            "order_id": order_id_of(node), "status": status}


def deliver(webhooks, run_worker, topic: str, body: dict, shop: str = SHOP) -> None:
    assert webhooks.post(topic, body, shop=shop).status_code == 200
    run_worker()


def stored(request_id: int) -> ReturnRequest:
    return db().get(ReturnRequest, request_id)


def test_approve_decline_cancel_close_reopen_in_shopify_move_the_status(app, pushed, webhooks, run_worker,
                                                                      fake_shopify):
    made, return_id, node = pushed
    deliver(webhooks, run_worker, "returns/approve", full(return_id, node, "open"))
    approved = stored(made)
    assert (approved.state, approved.shopify_status) == (ReturnStatus.APPROVED, "OPEN")
    assert approved.first_response_at is not None and approved.resolved_at is None

    deliver(webhooks, run_worker, "returns/close", thin(return_id, node, "closed"))
    closed = stored(made)
    assert closed.state is ReturnStatus.CLOSED and closed.closed_at is not None and closed.resolved_at is not None

    deliver(webhooks, run_worker, "returns/reopen", thin(return_id, node, "open"))
    reopened = stored(made)
    assert (reopened.state, reopened.closed_at, reopened.resolved_at) == (ReturnStatus.APPROVED, None, None)

    deliver(webhooks, run_worker, "returns/cancel", thin(return_id, node, "canceled"))
    assert stored(made).state is ReturnStatus.CANCELLED
    assert fake_shopify.calls(endpoint="graphql") == []  # Shopify's word is not pushed back to it


def test_decline_in_shopify_keeps_the_reason(app, pushed, webhooks, run_worker):
    made, return_id, node = pushed
    deliver(webhooks, run_worker, "returns/decline",
            full(return_id, node, "declined", decline={"reason": "return_period_ended", "note": "Too late"}))
    declined = stored(made)
    assert (declined.state, declined.decline_reason, declined.decline_note) == (
        ReturnStatus.DECLINED, "RETURN_PERIOD_ENDED", "Too late")
    assert declined.first_response_at == declined.resolved_at is not None


def test_returns_request_of_our_own_request_changes_nothing(app, pushed, webhooks, run_worker):
    made, return_id, node = pushed
    deliver(webhooks, run_worker, "returns/request", full(return_id, node, "requested"))
    assert (stored(made).state, stored(made).shopify_status) == (ReturnStatus.REQUESTED, "REQUESTED")


def test_matched_by_order_when_shopify_id_never_reached_us(app, fake_shopify, webhooks, run_worker):
    node = order_node(2)
    order_id = add_order(app, fake_shopify, node)
    made = request(app, order_id, [{"line_item_id": line_item_id(node, 0), "quantity": 1, "reason": "UNWANTED"}])
    deliver(webhooks, run_worker, "returns/request", full(5550, node, "requested"))  # the merchant's own, in Shopify
    assert stored(made).shopify_return_id is None  # never mistaken for ours: ours was not sent yet
    with worker_session(app) as session, session.begin():  # the worker claimed it, called Shopify, and died
        session.execute(update(ReturnRequest).values(sync_attempts=1, next_attempt_at=utcnow() + timedelta(minutes=10)))
    deliver(webhooks, run_worker, "returns/request", full(5551, node, "requested"))
    matched = stored(made)
    assert (matched.shopify_return_id, matched.shopify_status, matched.next_attempt_at) == (5551, "REQUESTED", None)
    deliver(webhooks, run_worker, "returns/approve", full(5551, node, "open"))
    assert stored(made).state is ReturnStatus.APPROVED


def test_refund_of_our_return_marks_it_refunded(app, pushed, webhooks, run_worker):
    made, return_id, node = pushed
    deliver(webhooks, run_worker, "returns/approve", full(return_id, node, "open"))
    refund = {"id": 9001, "order_id": order_id_of(node), "created_at": "2026-11-20T10:00:00Z",
              "return": {"id": return_id, "admin_graphql_api_id": f"gid://shopify/Return/{return_id}"},
              "refund_line_items": [{"id": 90011, "line_item_id": line_item_id(node, 1), "quantity": 2,
                                     "restock_type": "return", "subtotal": 258.0, "total_tax": 0.0}],
              "transactions": [{"id": 1, "kind": "refund", "status": "success", "amount": "258.00"}]}
    deliver(webhooks, run_worker, "refunds/create", refund)
    refunded = stored(made)
    assert refunded.state is ReturnStatus.REFUNDED and refunded.resolved_at is not None
    # Counted once: the request holds the items, the refund of it adds nothing.
    item = eligibility(app, refunded.order_id)[1]
    assert (item.requested, item.refunded, item.returnable, item.why) == (2, 0, 0, Why.ALREADY_RETURNED)


def test_refund_without_a_return_uses_up_returnable_quantity(app, fake_shopify, webhooks, run_worker):
    node = order_node(2)
    order_id = add_order(app, fake_shopify, node)
    refund = {"id": 9002, "order_id": order_id_of(node), "return": None,
              "refund_line_items": [{"id": 90021, "line_item_id": line_item_id(node, 1), "quantity": 1,
                                     "restock_type": "no_restock"}]}
    deliver(webhooks, run_worker, "refunds/create", refund)
    deliver(webhooks, run_worker, "refunds/create", refund)  # a duplicate delivery counts once
    item = eligibility(app, order_id)[1]
    assert (item.refunded, item.returnable) == (1, 1)


def test_another_shops_webhook_never_touches_our_request(app, pushed, webhooks, run_worker):
    made, return_id, node = pushed
    with worker_session(app) as session, session.begin():
        shops.install(session, "other-shop.myshopify.com", shops.static_grant("shpat_other"))
    deliver(webhooks, run_worker, "returns/decline", full(return_id, node, "declined"),
            shop="other-shop.myshopify.com")
    deliver(webhooks, run_worker, "returns/close", thin(return_id, node, "closed"), shop="other-shop.myshopify.com")
    untouched = stored(made)
    assert (untouched.state, untouched.shopify_status, untouched.first_response_at) == (
        ReturnStatus.REQUESTED, "REQUESTED", None)


def test_a_malformed_return_webhook_fails_its_delivery_and_changes_nothing(app, pushed, webhooks, run_worker):
    made, return_id, node = pushed
    deliver(webhooks, run_worker, "returns/approve", {"id": "not-an-id", "status": "open"})
    delivery = db().scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc())).first()
    assert delivery.status == "failed" and "id" in delivery.error
    assert stored(made).state is ReturnStatus.REQUESTED


def test_refund_of_a_return_made_in_shopify_leaves_ours_alone(app, fake_shopify, webhooks, run_worker):
    node = order_node(2)
    order_id = add_order(app, fake_shopify, node)
    made = request(app, order_id, [{"line_item_id": line_item_id(node, 1), "quantity": 1, "reason": "UNWANTED"}])
    with worker_session(app) as session, session.begin():  # ours was sent; its id has not come back yet
        session.execute(update(ReturnRequest).values(sync_attempts=1, next_attempt_at=utcnow() + timedelta(minutes=10)))
    refund = {"id": 9003, "order_id": order_id_of(node), "return": {"id": 7777},
              "refund_line_items": [{"id": 90031, "line_item_id": line_item_id(node, 0), "quantity": 1,
                                     "restock_type": "return"}]}
    deliver(webhooks, run_worker, "refunds/create", refund)
    kept = stored(made)
    assert (kept.state, kept.shopify_return_id, kept.resolved_at) == (ReturnStatus.REQUESTED, None, None)
    assert eligibility(app, order_id)[0].why is Why.ALREADY_RETURNED  # the refunded item is used up
