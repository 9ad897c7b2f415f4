"""Rendering the return messages: each kind in English and one other language
against golden files (see test_render.py: UPDATE_GOLDEN=1 rewrites them),
and what every one of them carries: the items with their reasons, the
shopper's note, a link to the order, no unsubscribe."""

from __future__ import annotations

import re

import pytest

from plugin import settings
from plugin.db import worker_session
from plugin.models import Notification, Shop
from plugin.notifications import render_email, render_sms
from plugin.notifications.kinds import RETURN_KINDS
from plugin.returns import ReturnItem, ReturnRequest, ReturnStatus
from tests.conftest import db

from .orders import ORDER_ID, add_notification, add_order
from .test_render import _golden, _tokens

OTHER = {"return_requested": "fr", "return_approved": "de", "return_declined": "es", "return_refunded": "fr"}
STATUS = {"return_requested": ReturnStatus.REQUESTED, "return_approved": ReturnStatus.APPROVED,
          "return_declined": ReturnStatus.DECLINED, "return_refunded": ReturnStatus.REFUNDED}
CASES = [(kind.value, locale) for kind in sorted(RETURN_KINDS) for locale in ("en", OTHER[kind.value])]


def _queue(app, shop_id: int, kind: str, locale: str, **request) -> int:
    order_id, _parcels = add_order(app, shop_id, locale=locale, status="delivered")
    with worker_session(app) as session, session.begin():
        made = ReturnRequest(
            shop_id=shop_id, order_id=order_id, key="k", fingerprint="f", status=STATUS[kind].value,
            note=request.get("note", "The shirt is lovely but\nthe collar is tight."),
            instructions=request.get("instructions", "Print the attached label.\nDrop the parcel at any post office."
                                     if kind == "return_approved" else None),
            decline_reason="FINAL_SALE" if kind == "return_declined" else None,
            decline_note=request.get("decline_note", "Sale items are final." if kind == "return_declined" else None),
            items=[ReturnItem(shop_id=shop_id, line_item_shopify_id=ORDER_ID + 1, quantity=1, reason="SIZE_TOO_SMALL",
                              note="Too tight at the neck"),
                   ReturnItem(shop_id=shop_id, line_item_shopify_id=ORDER_ID + 2, quantity=2, reason="UNWANTED")])
        session.add(made)
        session.flush()
        request_id = made.id
    return add_notification(app, shop_id, order_id, kind, {"return_id": request_id})


def _render(shop_id: int, notification_id: int):
    session = db()
    return render_email(session, session.get(Shop, shop_id), session.get(Notification, notification_id))


@pytest.mark.parametrize("kind,locale", CASES)
def test_each_return_kind_renders_as_its_golden_files(app, shop, kind, locale):
    notification_id = _queue(app, shop, kind, locale)
    message = _render(shop, notification_id)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    _golden(f"{kind}.{locale}.subject", message["Subject"] + "\n")
    _golden(f"{kind}.{locale}.txt", _tokens(text))
    session = db()
    sms = render_sms(session, session.get(Shop, shop), session.get(Notification, notification_id))
    _golden(f"{kind}.{locale}.sms", _tokens(sms) + "\n")
    assert len(sms) < 320
    # The HTML part: the order's page as a button, the items, no unsubscribe (transactional).
    assert re.search(r'<a class="button" href="http://127.0.0.1:8000/t/[^"]+"', html)
    assert "Linen shirt (M)" in html and "/u/" not in html and message["List-Unsubscribe"] is None
    assert f'lang="{locale}"' in html


def test_notes_and_instructions_arrive_escaped_with_their_line_breaks(app, shop):
    markup = '<img src=x onerror="alert(1)">'
    notification_id = _queue(app, shop, "return_approved", "en", note=f"{markup}\nsecond line",
                             instructions=f"Step 1 {markup}\nStep 2 & done")
    html = _render(shop, notification_id).get_body(("html",)).get_content()
    assert "<img" not in html
    assert "Step 1 &lt;img src=x onerror=\"alert(1)\"&gt;<br>Step 2 &amp; done" in html
    assert "&lt;img src=x onerror=\"alert(1)\"&gt;<br>second line" in html


def test_a_return_erased_after_queueing_fails_to_render_plainly(app, shop):
    notification_id = _queue(app, shop, "return_requested", "en")
    with worker_session(app) as session, session.begin():
        session.query(ReturnItem).delete()
        session.query(ReturnRequest).delete()
    with pytest.raises(LookupError, match="return request was erased"):
        _render(shop, notification_id)


def test_a_merchants_own_template_keeps_the_returns_details(app, shop):
    notification_id = _queue(app, shop, "return_approved", "en")
    with worker_session(app) as session, session.begin():
        settings.update(session, shop, {"templates.return_approved.en": {
            "subject": "Approved: {{ order_name }}", "body": "Hello {{ first_name }}, send it back soon."}})
    message = _render(shop, notification_id)
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Approved: #1001" and "Hello Ana, send it back soon." in text
    assert "Drop the parcel at any post office." in text and "Canvas tote" in text and "/t/" in text
