"""The shopper hears about their return: one email per request and status,
whichever side acted (the admin here, or the merchant in Shopify's admin),
through the real worker and a real SMTP sink."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin import returns
from plugin.db import worker_session
from plugin.models import Notification, NotificationStatus, Shop, utcnow
from plugin.notifications import Category, suppress
from plugin.returns import ReturnRefused, ReturnRequest

from ...conftest import SHOP, db
from ...webhooks.test_returns import deliver, full, order_id_of
from .helpers import TOKEN, act, add_order, line_item_id, order_node, request, set_settings

pytestmark = pytest.mark.usefixtures("shop")

MARKUP = '<b onclick="x()">fragile</b> & <script>alert(1)</script>'


@pytest.fixture
def order(app, fake_shopify):
    fake_shopify.issue_token(SHOP, token=TOKEN)
    node = order_node(2, customerLocale="en")  # line items bought 1, 2, 1; all shipped and delivered
    return add_order(app, fake_shopify, node), node


def items(node: dict) -> list[dict]:
    return [{"line_item_id": line_item_id(node, 1), "quantity": 2, "reason": "SIZE_TOO_SMALL", "note": "tight"},
            {"line_item_id": line_item_id(node, 0), "quantity": 1, "reason": "DEFECTIVE"}]


def title(node: dict, i: int) -> str:
    return node["lineItems"]["nodes"][i]["title"]


def of_kind(smtp, kind: str) -> list:
    return [m for m in smtp.messages if m["X-Aftercare-Kind"] == kind]


def parts(message) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    return text, message.get_body(("html",)).get_content()


def asked(app, order, smtp, run_worker, **kwargs) -> int:
    """A request made, passed to Shopify, and its confirmation sent."""
    order_id, node = order
    made = request(app, order_id, items(node), **kwargs)
    run_worker()
    assert db().get(ReturnRequest, made).shopify_return_id is not None
    assert len(of_kind(smtp, "return_requested")) == 1
    return made


def test_a_request_sends_one_confirmation_naming_its_items(app, order, smtp, run_worker):
    order_id, node = order
    made = request(app, order_id, items(node), note=MARKUP)
    request(app, order_id, items(node), note=MARKUP)  # the same submission again (same key)
    run_worker()
    run_worker()
    [mail] = smtp.messages
    assert mail["X-Aftercare-Kind"] == "return_requested" and mail["To"] == node["email"]
    assert node["name"] in mail["Subject"]
    text, html = parts(mail)
    assert f"- 2 × {title(node, 1)}" in text and "Too small" in text and "tight" in text
    assert f"- 1 × {title(node, 0)}" in text and "Damaged or defective" in text
    assert MARKUP in text  # text is text
    assert MARKUP not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "/t/" in text  # the signed link to the order's page
    # Transactional: no unsubscribe link or header.
    assert mail["List-Unsubscribe"] is None and "/u/" not in text
    [row] = db().scalars(select(Notification)).all()
    assert (row.status, row.context) == (NotificationStatus.SENT.value, {"return_id": made})


def test_approve_sends_the_instructions_once_whichever_side_reports_it(app, order, smtp, run_worker, webhooks):
    made = asked(app, order, smtp, run_worker)
    _order_id, node = order
    instructions = "Print the label.\nDrop the parcel <i>at</i> any post office."
    act(app, made, "approve", instructions=instructions)
    with pytest.raises(ReturnRefused):  # a second click
        act(app, made, "approve", instructions=instructions)
    run_worker()
    return_id = db().get(ReturnRequest, made).shopify_return_id
    # Shopify reports the approval it was told of, twice (a replayed delivery).
    deliver(webhooks, run_worker, "returns/approve", full(return_id, node, "open"))
    deliver(webhooks, run_worker, "returns/approve", full(return_id, node, "open"))
    [mail] = of_kind(smtp, "return_approved")
    assert len(smtp.messages) == 2 and mail["To"] == node["email"]
    text, html = parts(mail)
    assert "How to send the items back:" in text and instructions in text
    assert "Print the label.<br>Drop the parcel &lt;i&gt;at&lt;/i&gt; any post office." in html


def test_a_decline_in_shopify_sends_the_reason_once(app, order, smtp, run_worker, webhooks):
    made = asked(app, order, smtp, run_worker)
    _order_id, node = order
    return_id = db().get(ReturnRequest, made).shopify_return_id
    body = full(return_id, node, "declined", decline={"reason": "return_period_ended", "note": MARKUP})
    deliver(webhooks, run_worker, "returns/decline", body)
    deliver(webhooks, run_worker, "returns/decline", body)
    with pytest.raises(ReturnRefused):  # the admin here cannot decline it again either
        act(app, made, "decline", reason="OTHER")
    run_worker()
    [mail] = of_kind(smtp, "return_declined")
    assert len(smtp.messages) == 2
    text, html = parts(mail)
    assert "The return period for this order has ended." in text and MARKUP in text
    assert "<script" not in html and "&lt;b onclick=" in html


def test_a_decline_here_sends_the_reason_in_plain_words(app, order, smtp, run_worker):
    made = asked(app, order, smtp, run_worker)
    act(app, made, "decline", reason="final_sale", instructions="Sale items are final.")
    run_worker()
    [mail] = of_kind(smtp, "return_declined")
    text, _html = parts(mail)
    assert "These items were sold as final sale and cannot be returned." in text
    assert "A note from the store:" in text and "Sale items are final." in text
    assert "FINAL_SALE" not in text


def test_a_refund_sends_one_email_whether_the_admin_or_shopify_reports_it(app, order, smtp, run_worker, webhooks):
    made = asked(app, order, smtp, run_worker)
    _order_id, node = order
    act(app, made, "approve")
    act(app, made, "refund")
    run_worker()
    return_id = db().get(ReturnRequest, made).shopify_return_id
    refund = {"id": 9001, "order_id": order_id_of(node), "return": {"id": return_id},
              "refund_line_items": [{"id": 90011, "line_item_id": line_item_id(node, 1), "quantity": 2,
                                     "restock_type": "return"}]}
    deliver(webhooks, run_worker, "refunds/create", refund)
    assert [m["X-Aftercare-Kind"] for m in smtp.messages] == ["return_requested", "return_approved",
                                                            "return_refunded"]
    text, _html = parts(of_kind(smtp, "return_refunded")[0])
    assert "the store has refunded you" in text


def test_receiving_and_closing_send_nothing(app, order, smtp, run_worker):
    made = asked(app, order, smtp, run_worker)
    act(app, made, "approve")
    act(app, made, "receive")
    act(app, made, "close")
    run_worker()
    assert [m["X-Aftercare-Kind"] for m in smtp.messages] == ["return_requested", "return_approved"]


def test_an_unsubscribe_from_shipping_updates_does_not_stop_return_emails(app, order, smtp, run_worker):
    _order_id, node = order
    with worker_session(app) as session, session.begin():
        shop = session.scalar(select(Shop).where(Shop.domain == SHOP))
        suppress(session, shop.id, node["email"], Category.SHIPPING)
    made = asked(app, order, smtp, run_worker)
    act(app, made, "approve")
    run_worker()
    assert [m["X-Aftercare-Kind"] for m in smtp.messages] == ["return_requested", "return_approved"]


def test_the_shops_switch_turns_a_kind_off(app, order, smtp, run_worker):
    order_id, node = order
    set_settings(app, {"notifications.return_requested.email": False})
    made = request(app, order_id, items(node))
    with worker_session(app) as session, session.begin():
        assert returns.queue_confirmation(session, session.get(ReturnRequest, made)) is None
    act(app, made, "approve")  # queued while its switch is on...
    set_settings(app, {"notifications.return_approved.email": False})  # ...switched off before it goes
    run_worker()
    assert smtp.messages == []
    assert {(row.kind, row.status, row.error) for row in db().scalars(select(Notification))} == {
        ("return_approved", NotificationStatus.SKIPPED.value, "switched off")}


def test_preview_of_a_return_kind_with_the_sample_order(app, runner):
    result = runner("notifications", "preview", "--shop", SHOP, "return_approved")
    assert result.exit_code == 0, result.output
    assert "Subject: Your return for order #1001 is approved" in result.output
    assert "How to send the items back:" in result.output and "Drop the parcel at any post office." in result.output
    assert "- 1 × Linen shirt (M) — Too small" in result.output
    declined = runner("notifications", "preview", "--shop", SHOP, "return_declined", "--locale", "fr")
    assert declined.exit_code == 0, declined.output
    assert "Le délai de retour de cette commande est dépassé." in declined.output


def test_preview_of_a_real_order_shows_its_return(app, order, runner):
    order_id, node = order
    request(app, order_id, items(node), note="Wrong size")
    result = runner("notifications", "preview", "--shop", SHOP, "return_requested", "--order", node["name"])
    assert result.exit_code == 0, result.output
    assert f"- 2 × {title(node, 1)}" in result.output and "Wrong size" in result.output


def test_quiet_hours_hold_an_approval_but_not_the_confirmation_the_shopper_waits_for(app, order, smtp, run_worker):
    set_settings(app, {"notifications.quiet_hours": "00:00-23:59"})  # always quiet, in the shop's zone (UTC)
    made = asked(app, order, smtp, run_worker)
    act(app, made, "approve")
    run_worker()
    assert [m["X-Aftercare-Kind"] for m in smtp.messages] == ["return_requested"]
    held = db().scalar(select(Notification).where(Notification.kind == "return_approved"))
    assert held.status == NotificationStatus.PENDING.value and held.next_attempt_at > utcnow()
