"""A customer's return requests: in their data export, and their notes erased on customers/redact."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin.models import DataExport
from plugin.returns import ReturnRequest

from ...conftest import SHOP, database_dump, db
from .helpers import add_order, line_item_id, order_node, request

pytestmark = pytest.mark.usefixtures("shop")

NOTE = "Call me on +1 555 0100, I live at 12 Rue Secrète"


@pytest.fixture
def returned(app, fake_shopify):
    node = order_node(2)
    order_id = add_order(app, fake_shopify, node)
    made = request(app, order_id, [{"line_item_id": line_item_id(node, 1), "quantity": 1, "reason": "UNWANTED",
                                    "note": NOTE}], note=NOTE)
    return made, node


def privacy_body(node: dict, **extra) -> dict:
    return {"shop_id": 1, "shop_domain": SHOP, "customer": {"email": node["email"]},
            "orders_requested": [int(node["id"].rsplit("/", 1)[1])],
            "orders_to_redact": [int(node["id"].rsplit("/", 1)[1])], **extra}


def test_data_request_exports_the_return_requests(app, returned, webhooks, run_worker):
    made, node = returned
    webhooks.post("customers/data_request", privacy_body(node, data_request={"id": 42}))
    run_worker()
    export = db().scalar(select(DataExport))
    [entry] = export.content["returns"]
    assert (entry["id"], entry["note"], entry["items"][0]["note"], entry["items"][0]["reason"]) == (
        made, NOTE, NOTE, "UNWANTED")


def test_customer_redact_erases_return_notes_but_keeps_the_request(app, returned, webhooks, run_worker):
    made, node = returned
    webhooks.post("customers/redact", privacy_body(node))
    run_worker()
    kept = db().get(ReturnRequest, made)
    assert kept.note is None and kept.items[0].note is None
    assert (kept.items[0].quantity, kept.items[0].reason) == (1, "UNWANTED")
    assert "Rue Secr" not in database_dump(app).split("webhook_deliveries:")[0]
