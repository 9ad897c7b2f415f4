"""Asking for a return from the storefront: ``POST /proxy/api/returns`` and
``/widgets/api/returns``, the order view's returns, and the proxy page's
plain forms. Every refusal is a 4xx with a code the widget words for the
shopper, and stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from plugin import links
from plugin.db import engine
from plugin.models import Notification, Order, utcnow
from plugin.returns import ReturnItem, ReturnRequest
from tests.conftest import SHOP, database_dump, db
from tests.notifications.orders import ORDER_ID, add_order

from .conftest import OTHER_SHOP, proxy_query

SHIRT, TOTE = str(ORDER_ID + 1), str(ORDER_ID + 2)  # bought 1 and 2; Shopify's ids, above 2**53


def recent(app, shop_id, **kwargs) -> int:
    """A delivered order placed five days ago (inside the 30-day window)."""
    kwargs.setdefault("status", "delivered")
    return add_order(app, shop_id, start=utcnow() - timedelta(days=5), **kwargs)[0]


def token_for(shop_id: int, order_id: int) -> str:
    return links.dumps("order", shop_id=shop_id, order_id=order_id)


def ask(client, body, **query):
    return client.post("/proxy/api/returns?" + proxy_query(**query), json=body)


def one(line_item=TOTE, quantity=1, reason="SIZE_TOO_SMALL", **more) -> list[dict]:
    return [{"line_item_id": line_item, "quantity": quantity, "reason": reason, **more}]


def counts() -> tuple[int, int]:
    session = db()
    return (session.scalar(select(func.count()).select_from(ReturnRequest)),
            session.scalar(select(func.count()).select_from(ReturnItem)))


def test_the_order_view_says_what_can_go_back_and_why_not(app, client, shop):
    recent(app, shop)
    data = client.post("/proxy/api/lookup?" + proxy_query(), json={"order": "1001", "email": "ana@example.com"}).get_json()
    view = data["returns"]
    assert view["open"] is True and view["requests"] == []
    assert [(i["line_item_id"], i["title"], i["quantity"], i["returnable"], i["why"]) for i in view["items"]] == [
        (SHIRT, "Linen shirt", 1, 1, None), (TOTE, "Canvas tote", 2, 2, None)]
    assert view["items"][0]["until"]  # the last day, written out
    assert view["reasons"][0] == {"code": "SIZE_TOO_SMALL", "label": "Too small"}
    assert [r["code"] for r in view["reasons"]] == ["SIZE_TOO_SMALL", "SIZE_TOO_LARGE", "UNWANTED", "NOT_AS_DESCRIBED",
                                                     "WRONG_ITEM", "DEFECTIVE", "OTHER"]  # the shop's list, in order


def test_a_shopper_asks_for_a_return_and_sees_its_status(app, client, shop):
    order_id = recent(app, shop)
    token = token_for(shop, order_id)
    response = ask(client, {"token": token, "key": "form-1", "locale": "en",
                            "items": one(quantity=2, note="The handle came off.")})
    assert response.status_code == 201
    made = response.get_json()["return"]
    assert isinstance(made["id"], str)
    assert (made["status"], made["status_label"]) == ("requested", "Requested")
    assert made["next"] == "The store will review your request and email you its answer."
    assert made["items"] == [{"line_item_id": TOTE, "title": "Canvas tote", "variant": None, "quantity": 2,
                              "reason": "Too small", "note": "The handle came off."}]
    after = response.get_json()["returns"]
    assert [(i["line_item_id"], i["returnable"], i["why"]) for i in after["items"]] == [
        (SHIRT, 1, None), (TOTE, 0, "already_returned")]
    assert after["items"][1]["why_text"] == "Already in a return request or refunded."
    stored = db().scalars(select(ReturnRequest)).one()
    assert (stored.shop_id, stored.order_id, stored.status) == (shop, order_id, "requested")
    assert [(i.line_item_shopify_id, i.quantity, i.reason, i.note) for i in stored.items] == [
        (int(TOTE), 2, "SIZE_TOO_SMALL", "The handle came off.")]
    assert stored.next_attempt_at is not None  # the worker will pass it to Shopify
    mail = db().scalars(select(Notification).where(Notification.kind == "return_requested")).one()
    assert mail.recipient == "ana@example.com"
    # Later visits show it with its status.
    again = client.get(f"/proxy/api/orders/{token}?" + proxy_query()).get_json()["returns"]
    assert [(r["id"], r["status_label"]) for r in again["requests"]] == [(made["id"], "Requested")]


def test_submitting_twice_makes_one_request(app, client, shop):
    order_id = recent(app, shop)
    body = {"token": token_for(shop, order_id), "key": "form-1", "items": one()}
    first = ask(client, body)
    second = ask(client, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["return"]["id"] == second.get_json()["return"]["id"]
    # Without a key the items asked for are the key: the same request again is the same request.
    body = {"token": token_for(shop, order_id), "items": one(SHIRT)}
    assert [ask(client, body).status_code for _ in range(2)] == [201, 200]
    assert counts() == (2, 2)


def test_asking_again_for_what_is_already_requested_is_refused(app, client, shop):
    order_id = recent(app, shop)
    assert ask(client, {"token": token_for(shop, order_id), "key": "a", "items": one(quantity=2)}).status_code == 201
    before = database_dump(app)
    response = ask(client, {"token": token_for(shop, order_id), "key": "b", "items": one(quantity=1)})
    assert response.status_code == 422
    assert response.get_json()["error"] == "not_returnable" and response.get_json()["why"] == "already_returned"
    assert database_dump(app) == before


def test_a_key_reused_for_other_items_is_refused(app, client, shop):
    order_id = recent(app, shop)
    assert ask(client, {"token": token_for(shop, order_id), "key": "k", "items": one()}).status_code == 201
    before = database_dump(app)
    response = ask(client, {"token": token_for(shop, order_id), "key": "k", "items": one(SHIRT)})
    assert response.status_code == 409 and response.get_json()["error"] == "key_reused"
    assert database_dump(app) == before


BAD_ITEMS = [
    (one(quantity=0), "invalid_quantity", "items[0].quantity"),
    (one(quantity=-1), "invalid_quantity", "items[0].quantity"),
    (one(quantity=1.5), "invalid_quantity", "items[0].quantity"),
    (one(quantity="two"), "invalid_quantity", "items[0].quantity"),
    (one(quantity=True), "invalid_quantity", "items[0].quantity"),
    (one(quantity=3), "invalid_quantity", "items[0].quantity"),  # bought 2
    (one(SHIRT, quantity=2), "invalid_quantity", "items[0].quantity"),  # bought 1
    (one(reason="BROKEN"), "invalid_reason", "items[0].reason"),
    (one(reason="COLOR"), "invalid_reason", "items[0].reason"),  # Shopify has it; this shop does not offer it
    (one(reason="'; DROP TABLE return_requests; --"), "invalid_reason", "items[0].reason"),
    (one(reason=None), "invalid_reason", "items[0].reason"),
    (one(str(ORDER_ID + 900)), "invalid_item", "items[0].line_item_id"),  # an item of another order
    (one("<b>1</b>"), "invalid_item", "items[0].line_item_id"),
    (one(note="x" * 50_000), "invalid_note", "items[0].note"),
    (one(note=["a"]), "invalid_note", "items[0].note"),
    (one() + one(), "invalid_item", "items[1].line_item_id"),  # the same item twice
    ([], "invalid_items", "items"),
    ("everything", "invalid_items", "items"),
    (["x"], "invalid_items", "items[0]"),
    (None, "invalid_items", "items"),
]


@pytest.mark.parametrize("items,error,field", BAD_ITEMS, ids=[f"{e}-{i}" for i, (_, e, _f) in enumerate(BAD_ITEMS)])
def test_bad_items_are_refused_and_nothing_is_stored(app, client, shop, items, error, field):
    order_id = recent(app, shop)
    add_order(app, shop, shopify_id=ORDER_ID + 899, name="#1002", start=utcnow() - timedelta(days=5))
    before = database_dump(app)
    response = ask(client, {"token": token_for(shop, order_id), "items": items})
    assert response.status_code == 422
    body = response.get_json()
    assert (body["error"], body["field"]) == (error, field) and body["message"]
    assert database_dump(app) == before


@pytest.mark.parametrize("order,why", [
    ({"tags": "summer, Final-Sale"}, "final_sale"),
    ({"start": utcnow() - timedelta(days=60)}, "outside_window"),
    ({"status": None, "parcels": 0}, "not_shipped"),
], ids=["final-sale", "outside-window", "not-shipped"])
def test_an_item_that_cannot_go_back_is_refused_with_why(app, client, shop, order, why):
    order.setdefault("start", utcnow() - timedelta(days=5))
    order_id = add_order(app, shop, status=order.pop("status", "delivered"), **order)[0]
    view = client.get(f"/proxy/api/orders/{token_for(shop, order_id)}?" + proxy_query()).get_json()["returns"]
    assert view["open"] is False and {i["why"] for i in view["items"]} == {why}
    assert all(i["why_text"] for i in view["items"])
    before = database_dump(app)
    response = ask(client, {"token": token_for(shop, order_id), "items": one()})
    assert response.status_code == 422
    assert response.get_json()["error"] == "not_returnable" and response.get_json()["why"] == why
    assert database_dump(app) == before


def test_the_window_is_explained_with_its_last_day(app, client, shop):
    order_id = add_order(app, shop, status="delivered", start=utcnow() - timedelta(days=60))[0]
    view = client.get(f"/proxy/api/orders/{token_for(shop, order_id)}?" + proxy_query()).get_json()["returns"]
    assert view["items"][0]["why_text"].startswith("The return period ended on ")


def test_a_forged_missing_or_other_shops_token_stores_nothing(app, client, shop, other_shop):
    order_id = recent(app, shop)
    theirs = recent(app, other_shop, shopify_id=555, name="#2002")
    token = token_for(shop, order_id)
    before = database_dump(app)
    for query, body in [
        ({}, {"token": token[:-3] + "abc", "items": one()}),          # forged
        ({}, {"token": links.dumps("track", shop_id=shop, order_id=order_id), "items": one()}),  # another purpose
        ({}, {"items": one()}),                                        # missing
        ({}, {"token": "x" * 5000, "items": one()}),
        ({}, {"token": token_for(other_shop, theirs), "items": one("556")}),  # the other shop's order, here
        ({"shop": OTHER_SHOP}, {"token": token, "items": one()}),     # this shop's order, at the other shop
    ]:
        response = ask(client, body, **query)
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert database_dump(app) == before


def test_a_body_far_too_large_is_refused_before_it_is_read(app, client, shop):
    order_id = recent(app, shop)
    before = database_dump(app)
    response = ask(client, {"token": token_for(shop, order_id), "items": one(note="x" * 100_000)})
    assert response.status_code == 413
    assert database_dump(app) == before


def test_markup_in_a_note_is_kept_as_text_and_never_becomes_markup(app, client, shop):
    order_id = recent(app, shop)
    note = "<script>alert(1)</script> {{ shop.name }} '; DROP TABLE orders; --"
    response = ask(client, {"token": token_for(shop, order_id), "items": one(note=note)})
    assert response.status_code == 201 and response.get_json()["return"]["items"][0]["note"] == note
    assert db().scalars(select(ReturnItem)).one().note == note
    assert db().scalar(select(func.count()).select_from(Order)) == 1
    page = client.get("/proxy/?" + proxy_query(order=token_for(shop, order_id))).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "{{ shop.name }}" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#123;&#123; shop.name &#125;&#125;" in page


def test_the_order_view_speaks_the_shoppers_language(app, client, shop):
    order_id = recent(app, shop, locale="fr")
    response = ask(client, {"token": token_for(shop, order_id), "items": one(reason="DEFECTIVE")})
    made = response.get_json()["return"]
    assert (made["status_label"], made["items"][0]["reason"]) == ("Demandée", "Abîmé ou défectueux")
    de = client.get(f"/proxy/api/orders/{token_for(shop, order_id)}?" + proxy_query(locale="de")).get_json()["returns"]
    assert de["requests"][0]["status_label"] == "Angefordert" and de["reasons"][0]["label"] == "Zu klein"


def test_a_decision_shows_with_what_happens_next(app, client, shop):
    from plugin import returns
    from plugin.models import Shop

    order_id = recent(app, shop)
    made = ask(client, {"token": token_for(shop, order_id), "items": one()}).get_json()["return"]
    session = db()
    returns.act(session, session.get(Shop, shop), int(made["id"]), "approve", actor="staff@example.com",
                instructions="Drop it at any post office with the label we emailed.")
    session.commit()
    view = client.get(f"/proxy/api/orders/{token_for(shop, order_id)}?" + proxy_query()).get_json()["returns"]
    [shown] = view["requests"]
    assert (shown["status"], shown["status_label"]) == ("approved", "Approved")
    assert shown["instructions"] == "Drop it at any post office with the label we emailed."
    returns.act(session, session.get(Shop, shop), int(made["id"]), "close", actor="staff@example.com")
    session.commit()
    [shown] = client.get(f"/proxy/api/orders/{token_for(shop, order_id)}?" + proxy_query()).get_json()["returns"]["requests"]
    assert shown["status"] == "closed" and shown["next"] == "This return is complete."


def test_the_embedded_widget_asks_from_the_shops_own_origin_only(app, client, shop):
    order_id = recent(app, shop)
    body = {"token": token_for(shop, order_id), "items": one()}
    before = database_dump(app)
    for origin in ("https://evil.example", f"https://{OTHER_SHOP}"):
        foreign = client.post(f"/widgets/api/returns?shop={SHOP}", json=body, headers={"Origin": origin})
        assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign.headers
    assert database_dump(app) == before
    origin = f"https://{SHOP}"
    preflight = client.options(f"/widgets/api/returns?shop={SHOP}", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == origin
    response = client.post(f"/widgets/api/returns?shop={SHOP}", json=body, headers={"Origin": origin})
    assert response.status_code == 201 and response.headers["Access-Control-Allow-Origin"] == origin
    assert counts() == (1, 1)


def test_return_requests_are_rate_limited(app, client, shop):
    order_id = recent(app, shop)
    statuses = [ask(client, {"token": token_for(shop, order_id), "items": one(quantity=n)}).status_code
                for n in range(12)]
    assert statuses[:10].count(429) == 0 and statuses[10:] == [429, 429]


# --- the page without JavaScript ---------------------------------------------------

def form_post(client, token, **fields):
    data = {"token": token, "key": "page-1", "line_item_id": TOTE, "quantity": "1", "reason": "UNWANTED", **fields}
    return client.post("/proxy/returns?" + proxy_query(), data=data)


def test_the_page_offers_a_plain_form_per_returnable_item(app, client, shop):
    order_id = recent(app, shop)
    page = client.get("/proxy/?" + proxy_query(order=token_for(shop, order_id))).get_data(as_text=True)
    assert page.count('<form class="aftercare-return" method="post" action="/apps/aftercare/returns#aftercare-returns">') == 2
    assert f'name="line_item_id" value="{TOTE}"' in page
    assert '<option value="SIZE_TOO_SMALL">Too small</option>' in page
    assert "<summary>Request a return</summary>" in page and "Returnable until" in page


def test_the_plain_form_asks_for_a_return_and_answers_a_page(app, client, shop):
    order_id = recent(app, shop)
    token = token_for(shop, order_id)
    response = form_post(client, token, note="Too big for me")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/liquid")
    page = response.get_data(as_text=True)
    assert 'role="status"' in page and "Your return request was sent." in page
    assert "Requested" in page and "The store will review your request and email you its answer." in page
    assert "Too big for me" in page
    stored = db().scalars(select(ReturnRequest)).one()
    assert (stored.note, [(i.quantity, i.reason, i.note) for i in stored.items]) == (
        None, [(1, "UNWANTED", "Too big for me")])
    assert form_post(client, token, note="Too big for me").status_code == 200  # the same form sent twice
    assert counts() == (1, 1)


@pytest.mark.parametrize("fields,message", [
    ({"quantity": "0"}, "Choose how many to return."),
    ({"quantity": "5"}, "Choose how many to return."),
    ({"reason": "NOPE"}, "Choose a reason from the list."),
    ({"note": "n" * 1001}, "Your note is too long: 1,000 characters at most."),
    ({"line_item_id": "1"}, "This item cannot be returned."),
])
def test_a_bad_form_shows_the_page_again_with_the_message(app, client, shop, fields, message):
    order_id = recent(app, shop)
    before = database_dump(app)
    response = form_post(client, token_for(shop, order_id), **fields)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and message in page
    assert database_dump(app) == before
    if "line_item_id" not in fields:  # the form comes back open, as it was filled in
        form = page.split(f'name="line_item_id" value="{TOTE}"', 1)[1].split("</form>", 1)[0]
        assert "<details open>" in page
        assert f">{fields.get('note', '')}</textarea>" in form
        if fields.get("reason") != "NOPE":
            assert '<option value="UNWANTED" selected>' in form


def test_the_plain_form_with_a_bad_token_stores_nothing(app, client, shop):
    order_id = recent(app, shop)
    before = database_dump(app)
    response = form_post(client, token_for(shop, order_id)[:-2] + "xx")
    assert response.status_code == 404
    assert database_dump(app) == before


def test_a_request_from_the_storefront_reaches_shopify(app, client, shop, fake_shopify, run_worker):
    from tests.plugin.returns.helpers import TOKEN, add_order as add_shopify_order, line_item_id, order_node

    fake_shopify.issue_token(SHOP, token=TOKEN)
    node = order_node(2)  # delivered a week ago; bought 1, 2, 1
    order_id = add_shopify_order(app, fake_shopify, node)
    response = ask(client, {"token": token_for(shop, order_id), "items": [
        {"line_item_id": str(line_item_id(node, 1)), "quantity": 2, "reason": "WRONG_ITEM", "note": "Got blue, not red"}]})
    assert response.status_code == 201
    run_worker()
    [created] = fake_shopify.returns(SHOP)
    assert created["status"] == "REQUESTED" and created["order"]["id"] == node["id"]
    assert [(line["quantity"], line["returnReason"], line["customerNote"]) for line in created["returnLineItems"]] == [
        (2, "WRONG_ITEM", "Got blue, not red")]
    stored = db().get(ReturnRequest, int(response.get_json()["return"]["id"]))
    assert stored.shopify_return_id == int(created["id"].rsplit("/", 1)[1])


def test_the_tracking_page_from_an_email_shows_the_returns_status(app, client, shop):
    from plugin import returns
    from plugin.models import Shop

    order_id = recent(app, shop, locale="fr")
    made = ask(client, {"token": token_for(shop, order_id), "items": one(quantity=2)}).get_json()["return"]
    session = db()
    returns.act(session, session.get(Shop, shop), int(made["id"]), "approve", actor="staff@example.com",
                instructions="Déposez le colis <b>au bureau de poste</b>.")
    session.commit()
    track = links.url("track", shop_id=shop, order_id=order_id).split("/t/", 1)[1]
    page = client.get(f"/t/{track}").get_data(as_text=True)
    assert "<h2 id=\"returns\">Retours</h2>" in page
    assert "Retour demandé le " in page and "· Acceptée</h3>" in page
    assert "2 × Canvas tote · Trop petit" in page
    assert "Instructions de la boutique" in page and "&lt;b&gt;au bureau de poste&lt;/b&gt;" in page


@pytest.mark.parametrize("parcels", [1, 3])
def test_a_lookup_reads_settings_and_return_requests_once(app, client, shop, parcels):
    """The lookup answer is built from one read of the shop's settings and
    one of the order's return requests, however many parts use them, and
    as many statements for three parcels as for one: the storefront's
    latency budget is a handful of statements."""
    recent(app, shop, parcels=parcels)
    assert ask(client, {"token": token_for(shop, _order_id()), "items": one(), "key": "k1"}).status_code == 201
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine(app), "before_cursor_execute", record)
    try:
        data = client.post("/proxy/api/lookup?" + proxy_query(), json={"order": "1001", "email": "ana@example.com"})
    finally:
        event.remove(engine(app), "before_cursor_execute", record)
    assert data.status_code == 200 and len(data.get_json()["returns"]["requests"]) == 1
    assert len(data.get_json()["order"]["parcels"]) == parcels
    reads = [s for s in seen if s.startswith("SELECT")]
    assert sum(s.startswith("SELECT settings.") for s in reads) == 1, reads
    assert sum(s.startswith("SELECT return_requests.") for s in reads) == 1, reads
    # The shop, the order, its items, parcels, their lines and events,
    # settings, return requests and their items, refunds.
    assert len(reads) == 10, reads


def _order_id() -> int:
    return db().scalar(select(Order.id))
