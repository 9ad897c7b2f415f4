"""Help that carries its context: the answers that fit an order, then a
contact request that reaches the store's support with the order's state."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin import settings
from plugin.help import fitting, order_states
from plugin.help.models import Contact
from plugin.models import Notification, Shop
from tests.conftest import database_dump, db
from tests.notifications.orders import add_order

from .conftest import OTHER_SHOP, proxy_query

ANSWERS = [
    {"question": "When will my parcel arrive?", "answer": "Most parcels arrive in 3 days.", "states": ["in_transit"]},
    {"question": "The carrier could not deliver", "answer": "Call us.", "states": ["failed"]},
    {"question": "Can I change my address?", "answer": "Before it ships.", "states": ["ordered"]},
    {"question": "Où est mon colis ?", "answer": "En route.", "states": [], "locale": "fr"},
    {"question": "Returns", "answer": "Within 30 days.", "states": []},
]


def _set(app, shop_id, changes):
    session = db()
    settings.update(session, shop_id, changes)
    session.commit()


def _token(client, **query):
    response = client.post("/proxy/api/lookup?" + proxy_query(**query), json={"order": "1001", "email": "ana@example.com"})
    assert response.status_code == 200
    return response.get_json()


def test_answers_fit_the_orders_state_and_locale():
    view = {"locale": "en", "parcels": [{"stage": "in_transit", "status": "in_transit"},
                                        {"stage": "out_for_delivery", "status": "failure", "exception": "failure"}],
            "not_yet_shipped": []}
    assert order_states(view) == {"in_transit", "out_for_delivery", "failed"}
    assert [a["question"] for a in fitting(settings.help_answers("k", ANSWERS), view)] == [
        "When will my parcel arrive?", "The carrier could not deliver", "Returns"]
    assert order_states({"parcels": [], "locale": "fr"}) == {"ordered"}


def test_the_lookup_shows_the_answers_that_fit(app, client, shop):
    add_order(app, shop, status="in_transit")
    _set(app, shop, {"help.answers": ANSWERS, "help.support_email": "help@maison-ana.example"})
    data = _token(client)
    assert [a["question"] for a in data["help"]["answers"]] == ["When will my parcel arrive?", "Returns"]
    assert data["help"]["contact"] is True
    page = client.post("/proxy/?" + proxy_query(), data={"order": "1001", "email": "ana@example.com"})
    assert "<summary>When will my parcel arrive?</summary>" in page.get_data(as_text=True)


def test_a_contact_request_reaches_support_with_the_orders_context(app, client, shop, smtp, run_worker):
    add_order(app, shop, status="out_for_delivery")
    _set(app, shop, {"help.answers": ANSWERS, "help.support_email": "help@maison-ana.example"})
    token = _token(client)["token"]
    response = client.post("/proxy/api/contact?" + proxy_query(),
                           json={"token": token, "message": "The driver left?\nPlease check."})
    assert response.status_code == 201 and response.get_json()["sent"] is True
    contact = db().scalars(select(Contact)).one()
    assert (contact.shop_id, contact.message_length) == (shop, len("The driver left?\nPlease check."))
    assert contact.answers_shown == ["Returns"]  # out for delivery: only the answer for every state
    run_worker()
    [mail] = to_store(smtp)
    assert mail["To"] == "help@maison-ana.example" and mail["Reply-To"] == "ana@example.com"
    assert mail["Subject"] == "Help needed with order #1001"
    body = mail.get_content().replace("\r\n", "\n")
    assert "> The driver left?\n> Please check." in body
    assert "Parcel 1 of 1: Out for delivery, UPS" in body and "1Z999AA10123456780" in body
    assert "Departed facility" in body and "Help answers they were shown first:\n  - Returns" in body
    assert db().scalars(select(Notification).where(Notification.kind == "support_contact")).one().status == "sent"


def test_without_a_support_address_the_store_owner_is_written_to(app, client, shop, smtp, run_worker):
    add_order(app, shop)
    session = db()
    session.get(Shop, shop).email = "owner@maison-ana.example"
    session.commit()
    token = _token(client)["token"]
    assert client.post("/proxy/api/contact?" + proxy_query(), json={"token": token, "message": "Hi"}).status_code == 201
    run_worker()
    assert [m["To"] for m in to_store(smtp)] == ["owner@maison-ana.example"]


def test_a_shop_with_nowhere_to_write_says_so(app, client, shop):
    add_order(app, shop)
    data = _token(client)
    assert data["help"]["contact"] is False
    response = client.post("/proxy/api/contact?" + proxy_query(), json={"token": data["token"], "message": "Hi"})
    assert response.status_code == 503 and "contact page" in response.get_json()["message"]
    assert db().scalars(select(Contact)).all() == []


@pytest.mark.parametrize("message, status, error", [
    ("x" * 50_000, 422, "too_long"),
    ("x" * 5001, 422, "too_long"),
    ("   \n\t ", 400, "empty"),
    (None, 400, "empty"),
    (["a list"], 400, "empty"),
])
def test_bad_messages_are_refused_and_nothing_is_stored(app, client, shop, message, status, error):
    add_order(app, shop)
    _set(app, shop, {"help.support_email": "help@maison-ana.example"})
    token = _token(client)["token"]
    before = database_dump(app)
    response = client.post("/proxy/api/contact?" + proxy_query(), json={"token": token, "message": message})
    assert (response.status_code, response.get_json()["error"]) == (status, error)
    if error == "too_long":
        assert "5000 characters at most" in response.get_json()["message"]
    assert database_dump(app) == before


def test_a_body_far_too_large_is_refused_before_it_is_read(app, client, shop):
    response = client.post("/proxy/api/contact?" + proxy_query(), data=b"x" * 200_000,
                           content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"


def test_markup_in_a_message_is_sent_as_text(app, client, shop, smtp, run_worker):
    add_order(app, shop)
    _set(app, shop, {"help.support_email": "help@maison-ana.example"})
    token = _token(client)["token"]
    message = "<script>alert(1)</script> ' OR 1=1 -- {{ x }}"
    assert client.post("/proxy/api/contact?" + proxy_query(), json={"token": token, "message": message}).status_code == 201
    run_worker()
    [mail] = to_store(smtp)
    assert mail.get_content_type() == "text/plain" and f"> {message}" in mail.get_content().replace("\r\n", "\n")


def test_a_forged_or_foreign_token_writes_nothing(app, client, shop, other_shop):
    add_order(app, shop)
    _set(app, shop, {"help.support_email": "help@maison-ana.example"})
    token = _token(client)["token"]
    before = database_dump(app)
    for query, body in [
        (proxy_query(), {"token": token[:-3] + "abc", "message": "Hi"}),
        (proxy_query(shop=OTHER_SHOP), {"token": token, "message": "Hi"}),  # another shop's proxy
        (proxy_query(), {"message": "Hi"}),
        (proxy_query(), {"token": "x" * 5000, "message": "Hi"}),
    ]:
        assert client.post("/proxy/api/contact?" + query, json=body).status_code == 404
    assert database_dump(app) == before


def test_contact_requests_are_rate_limited(app, client, shop):
    add_order(app, shop)
    _set(app, shop, {"help.support_email": "help@maison-ana.example"})
    token = _token(client)["token"]
    statuses = [client.post("/proxy/api/contact?" + proxy_query(), json={"token": token, "message": f"Hi {n}"}).status_code
                for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert len(db().scalars(select(Contact)).all()) == 3


def test_contacts_are_counted_per_100_orders_and_per_shop(app, client, shop, other_shop):
    from datetime import datetime, timedelta, timezone

    from plugin.help import contact_rate

    add_order(app, shop)
    add_order(app, shop, shopify_id=777, name="#1002")
    add_order(app, other_shop, shopify_id=555, name="#2002")
    _set(app, shop, {"help.support_email": "help@maison-ana.example"})
    token = _token(client)["token"]
    assert client.post("/proxy/api/contact?" + proxy_query(), json={"token": token, "message": "Hi"}).status_code == 201
    start, end = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime.now(timezone.utc) + timedelta(minutes=1)
    assert contact_rate(db(), shop, start, end) == {"contacts": 1, "orders": 2, "per_100_orders": 50.0}
    assert contact_rate(db(), other_shop, start, end) == {"contacts": 0, "orders": 1, "per_100_orders": 0.0}
    assert contact_rate(db(), shop, start, start)["per_100_orders"] is None


def to_store(smtp) -> list:
    """The mail to the store. The worker's survey scan may also invite the
    customer (these orders were shipped long enough ago): not what these
    tests look at."""
    return [m for m in smtp.messages if m["To"] != "ana@example.com"]
