"""The order timeline: `GET /api/admin/orders/<name>` and the Order timeline
page. One list, oldest first, of what Aftercare knows about the order, for
the shop of the session token only."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from plugin.admin import timeline
from plugin.models import Notification, Order

from ..conftest import API_KEY, SECRET, db, load_payload
from ..fake_shopify import make_session_token
from .test_admin_api import token
from .test_admin_pages import OTHER, link_path


def get(client, path, bearer=None):
    bearer = token() if bearer is None else bearer
    return client.get(path, headers={"Authorization": f"Bearer {bearer}"} if bearer else {})


@pytest.fixture
def order(app, shop, webhooks, run_worker):
    """#1001 with a shipment, a tracking event and a message in the outbox."""
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
    event = load_payload("fulfillment_event_create")
    event["message"] = 'Departed <img src=x onerror="alert(1)"> facility'
    webhooks.post("fulfillment_events/create", event)
    run_worker()
    session = db()
    order_id = session.scalar(select(Order.id).where(Order.shop_id == shop))
    session.add(Notification(shop_id=shop, order_id=order_id, kind="shipped", channel="email",
                             recipient="ada@example.com", dedupe_key="t1", status="failed", attempts=5,
                             error="SMTP 550 <script>alert(1)</script>"))
    session.commit()
    return order_id


def test_the_timeline_holds_webhooks_tracking_and_messages_oldest_first(client, order):
    response = get(client, "/api/admin/orders/%231001")
    assert response.status_code == 200
    body = response.json
    assert body["name"] == "#1001" and body["fulfillments"]  # what it returned before stays
    entries = body["timeline"]
    times = [e["at"] for e in entries]
    assert times == sorted(times, key=datetime.fromisoformat)
    types = [e["type"] for e in entries]
    assert types[0] == "order" and entries[0]["detail"] == {"event": "placed"}
    webhooks = [e for e in entries if e["type"] == "webhook"]
    assert sorted(w["detail"]["topic"] for w in webhooks) == [
        "fulfillment_events/create", "fulfillments/create", "orders/create"]
    assert all(w["detail"]["status"] == "processed" for w in webhooks)
    tracking = [e for e in entries if e["type"] == "tracking"]
    assert any(t["detail"]["status"] == "in_transit" and t["detail"]["place"].startswith("Louisville")
               for t in tracking)
    # The messages the webhooks decided, and the failed one added by hand.
    messages = [e for e in entries if e["type"] == "message"]
    assert messages and {m["detail"]["kind"] for m in messages} <= {"shipped", "delayed"}
    (message,) = [m for m in messages if m["detail"]["status"] == "failed"]
    assert message["detail"]["kind"] == "shipped"
    assert "SMTP 550" in message["detail"]["error"]
    assert set(entries[0]) == {"at", "type", "summary", "detail"}
    # The sample parcel's estimate (2026-11-04) is long past: flagged delayed.
    assert body["flags"] == {"cancelled": False, "test": False, "delayed": True}


@pytest.mark.parametrize("name", ["1001", "%231001", "%20%23%201001%20", "%20%201001"])
def test_names_are_found_however_they_are_written(client, order, name):
    response = get(client, f"/api/admin/orders/{name}")
    assert response.status_code == 200 and response.json["name"] == "#1001"


def test_an_unknown_name_is_a_clear_404(client, order):
    response = get(client, "/api/admin/orders/%231234")
    assert response.status_code == 404
    assert response.json == {"error": "no order #1234"}


@pytest.mark.parametrize("name", ["١٠٠١", "%23１００１", "1001²"])
def test_a_name_of_non_ascii_digits_is_404(client, order, name):
    assert get(client, f"/api/admin/orders/{name}").status_code == 404


def test_a_cancelled_order_is_flagged(client, shop, webhooks, run_worker):
    body = load_payload("order_create")
    body["cancelled_at"] = "2026-11-03T09:00:00-05:00"
    body["updated_at"] = "2026-11-03T09:00:00-05:00"
    webhooks.post("orders/create", body)
    run_worker()
    response = get(client, "/api/admin/orders/1001")
    assert response.json["flags"]["cancelled"] is True
    assert {"event": "cancelled"} in [e["detail"] for e in response.json["timeline"] if e["type"] == "order"]


def test_another_shops_token_finds_nothing_of_this_shop(client, order, runner):
    runner("shops", "add", OTHER, "--token", "t")
    other = make_session_token(API_KEY, SECRET, OTHER)
    response = get(client, "/api/admin/orders/%231001", other)
    assert response.status_code == 404
    assert "ada@example.com" not in response.get_data(as_text=True)


@pytest.mark.parametrize("case", ["missing", "expired"])
def test_without_a_valid_token_the_timeline_is_401(client, order, case):
    now = int(time.time())
    bearer = "" if case == "missing" else token(exp=now - 60, nbf=now - 120, iat=now - 120)
    response = get(client, "/api/admin/orders/%231001", bearer)
    assert response.status_code == 401
    assert "timeline" not in response.get_data(as_text=True)


def test_sources_are_one_explicit_list():
    assert timeline.SOURCES == [timeline.order_events, timeline.webhooks, timeline.tracking, timeline.messages,
                                timeline.visits, timeline.returns, timeline.contacts, timeline.survey_answers]


# --- the page -----------------------------------------------------------------

def test_the_page_shows_the_orders_timeline_with_markup_escaped(client, order):
    html = client.get(link_path(page="/app/orders") + "&q=1001").get_data(as_text=True)
    assert "#1001" in html and "orders/create" in html and "In transit" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    items = re.findall(r'<time datetime="([^"]+)"', html)
    assert len(items) >= 6


@pytest.mark.parametrize("query, shown", [("1234", "#1234"), ("%23%D9%A1%D9%A0%D9%A0%D9%A1", "#١٠٠١")])
def test_an_unknown_order_says_so_kindly(client, order, query, shown):
    response = client.get(link_path(page="/app/orders") + f"&q={query}")
    assert response.status_code == 200
    assert f"No order {shown}" in response.get_data(as_text=True)


def test_another_shops_page_does_not_show_this_shops_order(client, order, runner):
    runner("shops", "add", OTHER, "--token", "t")
    other = make_session_token(API_KEY, SECRET, OTHER)
    html = client.get(f"/app/orders?id_token={other}&q=1001").get_data(as_text=True)
    assert "No order #1001" in html and "ada@example.com" not in html


def test_markup_searched_for_is_shown_escaped(client, order):
    response = client.get(link_path(page="/app/orders") + "&q=%3Cscript%3Ealert(1)%3C/script%3E")
    html = response.get_data(as_text=True)
    assert "No order #&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


def test_the_page_without_a_search_shows_the_form_only(client, shop):
    response = client.get(link_path(page="/app/orders"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="q"' in html and "No order" not in html


def test_the_page_speaks_french_with_french_dates(client, order):
    html = client.get(link_path(page="/app/orders") + "&q=1001&locale=fr").get_data(as_text=True)
    assert "Historique" in html and "Commande passée" in html
    assert re.search(r"<time[^>]*>01/11/2026", html)  # Babel's short French date, in the shop's zone (UTC)


def test_the_timeline_holds_the_return_and_its_actions_contacts_and_survey_answers(client, order, shop, app):
    """The return asked for, each action on it (who, when, what), the
    shopper's "still need help?" and the survey answers, each in time order,
    on the API and the page; another shop's never."""
    from plugin.help.models import Contact
    from plugin.returns.models import ReturnAction, ReturnItem, ReturnRequest
    from plugin.surveys.models import SurveyInvitation, SurveyResponse

    session = db()
    line_item = session.scalar(select(Order).where(Order.id == order)).line_items[0]
    placed = session.scalar(select(Order.shopify_created_at).where(Order.id == order))
    request = ReturnRequest(shop_id=shop, order_id=order, key="k1", fingerprint="f1", status="approved",
                            requested_at=placed + timedelta(days=5), note="Too <b>small</b>")
    session.add(request)
    session.flush()
    session.add(ReturnItem(shop_id=shop, request_id=request.id, line_item_shopify_id=line_item.shopify_id,
                           quantity=1, reason="SIZE_TOO_SMALL"))
    session.add(ReturnAction(shop_id=shop, request_id=request.id, action="approve", actor="Ada Admin",
                             at=placed + timedelta(days=6), note="Use the label"))
    session.add(Contact(shop_id=shop, order_id=order, message_length=42, answers_shown=[],
                        created_at=placed + timedelta(days=4)))
    invitation = SurveyInvitation(shop_id=shop, order_id=order, touchpoint="delivery", kinds=["csat"],
                                  status="answered", due_at=placed, sent_at=placed, locale="en")
    session.add(invitation)
    session.flush()
    session.add(SurveyResponse(shop_id=shop, invitation_id=invitation.id, kind="csat", score=2, order_id=order,
                               touchpoint="delivery", comment="Box <i>crushed</i>", locale="en",
                               answered_at=placed + timedelta(days=7)))
    session.commit()

    entries = get(client, "/api/admin/orders/%231001").json["timeline"]
    mine = [(e["type"], e["detail"].get("event") or e["detail"].get("kind")) for e in entries
            if e["type"] in ("return", "contact", "survey")]
    assert mine == [("contact", None), ("return", "requested"), ("return", "approve"), ("survey", "csat")]
    requested = next(e for e in entries if e["type"] == "return" and e["detail"]["event"] == "requested")
    assert requested["detail"]["items"] == [{"line_item_id": str(line_item.shopify_id), "title": line_item.title,
                                             "quantity": 1, "reason": "SIZE_TOO_SMALL"}]
    answer = next(e for e in entries if e["type"] == "survey")["detail"]
    assert answer["score"] == 2 and answer["low"] is True and answer["comment"] == "Box <i>crushed</i>"

    page = client.get(link_path(page="/app/orders") + "&q=1001").get_data(as_text=True)
    assert "Return requested" in page and "Approved" in page and "Ada Admin" in page
    assert "Asked for help from the storefront" in page
    assert "Box &lt;i&gt;crushed&lt;/i&gt;" in page and "<i>crushed" not in page
    assert "Too &lt;b&gt;small&lt;/b&gt;" in page

    other = make_session_token(API_KEY, SECRET, OTHER)
    refused = get(client, "/api/admin/orders/%231001", bearer=other)
    assert refused.status_code == 403 and "crushed" not in refused.get_data(as_text=True)  # not installed there
