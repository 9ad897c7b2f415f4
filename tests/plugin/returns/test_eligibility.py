"""What a shopper may return, and why not: one test per reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin import returns
from plugin.db import worker_session
from plugin.models import LineItem, Order, Shop
from plugin.returns import Why

from ...conftest import db, load_payload
from .helpers import act, add_order, eligibility, order_node, request, set_settings

pytestmark = pytest.mark.usefixtures("shop")


def test_shipped_items_are_returnable_in_full(app, fake_shopify):
    order = add_order(app, fake_shopify, order_node(2))
    items = eligibility(app, order)
    assert [(e.bought, e.returnable, e.why) for e in items] == [(1, 1, None), (2, 2, None), (1, 1, None)]
    assert all(e.window_ends_at is not None for e in items)


def test_cancelled_order(app, fake_shopify):
    order = add_order(app, fake_shopify, order_node(2, cancelledAt="2026-11-20T10:00:00Z"))
    assert {(e.returnable, e.why) for e in eligibility(app, order)} == {(0, Why.ORDER_CANCELLED)}


def test_gift_card_line_item(app, fake_shopify):
    node = order_node(2)
    node["lineItems"]["nodes"][1]["isGiftCard"] = True
    order = add_order(app, fake_shopify, node)
    assert [(e.returnable, e.why) for e in eligibility(app, order)] == [
        (1, None), (0, Why.GIFT_CARD), (1, None)]


def test_gift_card_is_read_from_order_webhooks(app, webhooks, run_worker):
    body = load_payload("order_create")
    body["line_items"][0]["gift_card"] = True
    webhooks.post("orders/create", body)
    run_worker()
    assert list(db().scalars(select(LineItem.gift_card).order_by(LineItem.id))) == [True, False]


def test_final_sale_tag_on_the_order_any_case(app, fake_shopify):
    order = add_order(app, fake_shopify, order_node(2, tags=["vip", "Final-Sale"]))
    assert {(e.returnable, e.why) for e in eligibility(app, order)} == {(0, Why.FINAL_SALE)}


def test_final_sale_tag_is_the_shops_setting(app, fake_shopify):
    set_settings(app, {"returns.final_sale_tag": "clearance"})
    tagged_default = add_order(app, fake_shopify, order_node(2, tags=["final-sale"]))
    tagged_clearance = add_order(app, fake_shopify, order_node(6, tags=["clearance"]))
    assert {e.why for e in eligibility(app, tagged_default)} == {None}
    assert {e.why for e in eligibility(app, tagged_clearance)} == {Why.FINAL_SALE}


def test_not_yet_shipped(app, fake_shopify):
    order = add_order(app, fake_shopify, order_node(2, fulfilled=None, delivered=None))
    assert {(e.returnable, e.why) for e in eligibility(app, order)} == {(0, Why.NOT_SHIPPED)}


def test_already_requested_then_free_again_after_a_decline(app, fake_shopify):
    node = order_node(2)
    order = add_order(app, fake_shopify, node)
    first, second, _ = eligibility(app, order)
    made = request(app, order, [{"line_item_id": first.line_item_id, "quantity": 1, "reason": "UNWANTED"},
                                {"line_item_id": second.line_item_id, "quantity": 1, "reason": "DEFECTIVE"}])
    items = eligibility(app, order)
    assert [(e.requested, e.returnable, e.why) for e in items] == [
        (1, 0, Why.ALREADY_RETURNED), (1, 1, None), (0, 1, None)]
    act(app, made, "decline")
    assert [(e.returnable, e.why) for e in eligibility(app, order)] == [(1, None), (2, None), (1, None)]


def test_refunded_items_are_not_returnable(app, fake_shopify):
    node = order_node(2)
    order = add_order(app, fake_shopify, node)
    first, second, _ = eligibility(app, order)
    with worker_session(app) as session, session.begin():
        shop_id = session.get(Order, order).shop_id
        data = returns.RefundData(shopify_id=77, order_shopify_id=session.get(Order, order).shopify_id, lines=(
            returns.RefundLineData(shopify_id=771, line_item_shopify_id=first.line_item_id, quantity=1,
                                   restock_type="return"),
            returns.RefundLineData(shopify_id=772, line_item_shopify_id=second.line_item_id, quantity=1,
                                   restock_type="no_restock")))
        returns.refund_created(session, shop_id, data)
        returns.refund_created(session, shop_id, data)  # the same webhook twice counts once
    assert [(e.refunded, e.returnable, e.why) for e in eligibility(app, order)] == [
        (1, 0, Why.ALREADY_RETURNED), (1, 1, None), (0, 1, None)]


def test_outside_the_window(app, fake_shopify):
    order = add_order(app, fake_shopify, order_node(2, ordered=45, fulfilled=44, delivered=31))
    assert {(e.returnable, e.why) for e in eligibility(app, order)} == {(0, Why.OUTSIDE_WINDOW)}


@pytest.mark.parametrize("starts, window_days, open_", [
    ("delivered", 30, True),   # delivered 25 days ago
    ("delivered", 20, False),
    ("fulfilled", 30, False),  # fulfilled 45 days ago
    ("fulfilled", 46, True),
    ("ordered", 46, False),    # ordered 50 days ago
    ("ordered", 51, True),
])
def test_window_counted_from_each_start(app, fake_shopify, starts, window_days, open_):
    set_settings(app, {"returns.window_starts": starts, "returns.window_days": window_days})
    order = add_order(app, fake_shopify, order_node(6, ordered=50, fulfilled=45, delivered=25))
    [item] = eligibility(app, order)
    assert (item.returnable, item.why) == ((1, None) if open_ else (0, Why.OUTSIDE_WINDOW))


def test_window_from_delivery_falls_back_to_the_fulfillment_when_no_delivery_is_known(app, fake_shopify):
    set_settings(app, {"returns.window_days": 30})
    order = add_order(app, fake_shopify, order_node(6, ordered=50, fulfilled=35, delivered=None))
    [item] = eligibility(app, order)
    assert item.why is Why.OUTSIDE_WINDOW


def test_reasons_are_the_shops(app):
    set_settings(app, {"returns.reasons": ["DEFECTIVE", "OTHER"]})
    shop = db().scalar(select(Shop))
    with worker_session(app) as session:
        assert returns.allowed_reasons(session, shop.id) == ["DEFECTIVE", "OTHER"]
