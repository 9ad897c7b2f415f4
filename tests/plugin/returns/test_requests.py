"""Asking for a return: stored at once, once per key, and every bad input
refused with the field named and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from plugin import returns, shops
from plugin.db import worker_session
from plugin.models import Notification, Order, Shop, utcnow
from plugin.returns import ReturnItem, ReturnRefused, ReturnRequest, ReturnStatus

from ...conftest import db
from .helpers import add_order, line_item_id, order_node, request

pytestmark = pytest.mark.usefixtures("shop")

OTHER_SHOP = "other-shop.myshopify.com"


@pytest.fixture
def order(app, fake_shopify):
    node = order_node(2)  # line items bought 1, 2, 1; all shipped
    return add_order(app, fake_shopify, node), node


def counts() -> tuple[int, int]:
    session = db()
    return (session.scalar(select(func.count()).select_from(ReturnRequest)),
            session.scalar(select(func.count()).select_from(ReturnItem)))


def test_a_request_is_stored_at_once_with_items_reasons_and_times(app, order):
    order_id, node = order
    before = utcnow()
    made = request(app, order_id, [
        {"line_item_id": str(line_item_id(node, 1)), "quantity": 2, "reason": "SIZE_TOO_SMALL", "note": "tight"},
        {"line_item_id": line_item_id(node, 2), "quantity": 1, "reason": "defective"},
    ], note="Please send a label")
    stored = db().get(ReturnRequest, made)
    assert (stored.state, stored.note, stored.shopify_return_id) == (ReturnStatus.REQUESTED, "Please send a label", None)
    assert before <= stored.requested_at <= utcnow()
    assert stored.first_response_at is None and stored.resolved_at is None
    assert stored.next_attempt_at is not None  # due for the worker to tell Shopify
    assert [(i.line_item_shopify_id, i.quantity, i.reason, i.note) for i in stored.items] == [
        (line_item_id(node, 1), 2, "SIZE_TOO_SMALL", "tight"), (line_item_id(node, 2), 1, "DEFECTIVE", None)]


def test_submitting_twice_makes_one_request(app, order):
    order_id, node = order
    items = [{"line_item_id": line_item_id(node, 1), "quantity": 2, "reason": "UNWANTED"}]
    first = request(app, order_id, items, key="form-1")
    again = request(app, order_id, items, key="form-1")
    assert first == again
    assert counts() == (1, 1)


def test_a_key_reused_for_other_items_is_refused(app, order):
    order_id, node = order
    request(app, order_id, [{"line_item_id": line_item_id(node, 1), "quantity": 1, "reason": "UNWANTED"}], key="k")
    with pytest.raises(ReturnRefused) as refused:
        request(app, order_id, [{"line_item_id": line_item_id(node, 0), "quantity": 1, "reason": "UNWANTED"}], key="k")
    assert refused.value.field == "key"
    assert counts() == (1, 1)


def test_content_key_is_the_same_for_the_same_items_and_new_after_a_decline(app, order):
    order_id, node = order
    items = [{"line_item_id": line_item_id(node, 1), "quantity": 1, "reason": "UNWANTED"}]

    def key():
        with worker_session(app) as session:
            shop = session.scalar(select(Shop))
            return returns.content_key(session, shop, session.get(Order, order_id), items)

    first = key()
    assert key() == first
    made = request(app, order_id, items, key=first)
    assert request(app, order_id, items, key=key()) == made  # the double submit
    with worker_session(app) as session, session.begin():
        returns.act(session, session.scalar(select(Shop)), made, "decline", actor="staff")
    assert key() != first
    assert request(app, order_id, items, key=key()) != made


def item(node, **changes) -> dict:
    return {"line_item_id": line_item_id(node, 1), "quantity": 1, "reason": "UNWANTED", **changes}


BAD_ITEMS = {
    "zero quantity": (lambda n: [item(n, quantity=0)], "items[0].quantity", "at least 1"),
    "negative quantity": (lambda n: [item(n, quantity=-1)], "items[0].quantity", "at least 1"),
    "fractional quantity": (lambda n: [item(n, quantity=1.5)], "items[0].quantity", "whole number"),
    "quantity as true": (lambda n: [item(n, quantity=True)], "items[0].quantity", "whole number"),
    "quantity as words": (lambda n: [item(n, quantity="two")], "items[0].quantity", "whole number"),
    "above returnable": (lambda n: [item(n, quantity=3)], "items[0].quantity", "at most 2"),
    "another order's item": (lambda n: [item(n, line_item_id=999_999_999)], "items[0].line_item_id",
                             "not an item of this order"),
    "not an id": (lambda n: [item(n, line_item_id="1; DROP TABLE")], "items[0].line_item_id", "line item id"),
    "a digit int() refuses": (lambda n: [item(n, line_item_id="²")], "items[0].line_item_id", "line item id"),
    "an id past BIGINT": (lambda n: [item(n, line_item_id=2**63)], "items[0].line_item_id", "line item id"),
    "an id past BIGINT as text": (lambda n: [item(n, line_item_id="9" * 19)], "items[0].line_item_id",
                                  "line item id"),
    "quantity as a superscript": (lambda n: [item(n, quantity="²")], "items[0].quantity", "whole number"),
    "unknown reason": (lambda n: [item(n, reason="BORED")], "items[0].reason", "must be one of"),
    "reason the shop does not offer": (lambda n: [item(n, reason="STYLE")], "items[0].reason", "must be one of"),
    "no reason": (lambda n: [item(n, reason=None)], "items[0].reason", "must be one of"),
    "item note over the limit": (lambda n: [item(n, note="x" * 1001)], "items[0].note", "at most 1000"),
    "item note of 50 KB": (lambda n: [item(n, note="é" * 50_000)], "items[0].note", "at most 1000"),
    "NUL in a note": (lambda n: [item(n, note="a\x00b")], "items[0].note", "NUL"),
    "no items": (lambda n: [], "items", "at least one"),
    "items not a list": (lambda n: {"line_item_id": 1}, "items", "at least one"),
    "item not an object": (lambda n: ["abc"], "items[0]", "must be an object"),
    "the same item twice": (lambda n: [item(n), item(n)], "items[1].line_item_id", "listed twice"),
    "second item bad": (lambda n: [item(n), item(n, line_item_id=line_item_id(n, 2), quantity=2)],
                        "items[1].quantity", "at most 1"),
}


@pytest.mark.parametrize("case", BAD_ITEMS, ids=list(BAD_ITEMS))
def test_bad_items_are_refused_and_nothing_is_written(app, order, case):
    order_id, node = order
    items, field, message = BAD_ITEMS[case]
    with pytest.raises(ReturnRefused) as refused:
        request(app, order_id, items(node))
    assert refused.value.field == field
    assert message in refused.value.message
    assert counts() == (0, 0)


@pytest.mark.parametrize("note, key, field", [
    ("n" * 50_000, "k", "note"), (["a list"], "k", "note"), (None, "", "key"), (None, "k" * 65, "key"),
])
def test_bad_note_or_key_is_refused_and_nothing_is_written(app, order, note, key, field):
    order_id, node = order
    with pytest.raises(ReturnRefused) as refused:
        request(app, order_id, [item(node)], note=note, key=key)
    assert refused.value.field == field
    assert counts() == (0, 0)


def test_items_not_returnable_are_refused_with_why(app, fake_shopify):
    node = order_node(6, tags=["final-sale"])
    order_id = add_order(app, fake_shopify, node)
    with pytest.raises(ReturnRefused) as refused:
        request(app, order_id, [{"line_item_id": line_item_id(node, 0), "quantity": 1, "reason": "UNWANTED"}])
    assert (refused.value.field, refused.value.message) == ("items[0].line_item_id", "cannot be returned: final_sale")
    assert counts() == (0, 0)


def test_markup_in_notes_is_kept_as_text(app, order):
    order_id, node = order
    markup = '<script>alert("x")</script> & <b>bold</b>'
    made = request(app, order_id, [item(node, note=markup)], note=markup)
    stored = db().get(ReturnRequest, made)
    assert stored.note == markup and stored.items[0].note == markup


def test_a_request_is_never_visible_to_another_shop(app, order):
    order_id, node = order
    made = request(app, order_id, [item(node)])
    with worker_session(app) as session, session.begin():
        other = shops.install(session, OTHER_SHOP, shops.static_grant("shpat_other"))
    with worker_session(app) as session, session.begin():
        other = session.scalar(select(Shop).where(Shop.domain == OTHER_SHOP))
        assert returns.get(session, other.id, made) is None
        with pytest.raises(LookupError):
            returns.act(session, other, made, "approve", actor="intruder")
        foreign_order = session.get(Order, order_id)
        with pytest.raises(ReturnRefused) as refused:
            returns.request_return(session, other, foreign_order, [item(node)], key="steal")
        assert refused.value.field == "order"
        with pytest.raises(LookupError):
            returns.returnable(session, other, foreign_order)
    stored = db().get(ReturnRequest, made)
    assert stored.state is ReturnStatus.REQUESTED and stored.first_response_at is None
    assert counts() == (1, 1)



def test_confirmation_hook_queues_one_outbox_row_per_request(app, order):
    order_id, node = order
    made = request(app, order_id, [item(node)])
    for _ in range(2):
        with worker_session(app) as session, session.begin():
            returns.queue_confirmation(session, session.get(ReturnRequest, made))
    [row] = db().scalars(select(Notification)).all()
    assert (row.kind, row.recipient, row.context, row.order_id) == (
        "return_requested", node["email"], {"return_id": made}, order_id)
