"""The returns queue over /api/admin: the shop of the session token only,
each decision through returns.act with an audit line, every bad input
refused with nothing changed, and an approval reaching Shopify (the fake,
over real HTTP) once the worker runs, even when Shopify was down."""

from __future__ import annotations

import re

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from plugin.db import worker_session
from plugin.models import utcnow
from plugin.returns import ReturnAction, ReturnRequest, ReturnStatus

from ..conftest import SHOP, db
from .returns.helpers import TOKEN, add_order, line_item_id, order_node, request
from .test_admin_api import token
from .test_admin_pages import link_path
from .test_admin_settings import OTHER, call, other_shop  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("shop")


@pytest.fixture
def shopify(app, fake_shopify, monkeypatch):
    fake_shopify.issue_token(SHOP, token=TOKEN)
    monkeypatch.setitem(app.config, "RETURNS_SYNC_MAX_WAIT", 0.3)
    return fake_shopify


@pytest.fixture
def made(app, shopify):
    """A return request of order #1002 (two items, with notes), not yet in Shopify."""
    node = order_node(2)
    order_id = add_order(app, shopify, node)
    return request(app, order_id, [
        {"line_item_id": line_item_id(node, 1), "quantity": 1, "reason": "SIZE_TOO_SMALL",
         "note": "<script>alert(1)</script> too tight"},
        {"line_item_id": line_item_id(node, 2), "quantity": 1, "reason": "DEFECTIVE"},
    ], note="<b>please</b> hurry")


def post(client, request_id, action, bearer=None, **body):
    return call(client, "POST", f"/api/admin/returns/{request_id}/{action}", bearer or token(),
                **({"json": body} if body else {}))


def stored(request_id) -> ReturnRequest:
    return db().get(ReturnRequest, request_id)


def audit(request_id) -> list[tuple]:
    return [(a.action, a.actor, a.reason, a.note) for a in
            db().scalars(select(ReturnAction).where(ReturnAction.request_id == request_id).order_by(ReturnAction.id))]


def test_the_queue_lists_requests_with_items_notes_and_sync_state(client, made):
    response = call(client, "GET", "/api/admin/returns", token())
    assert response.status_code == 200
    [row] = response.json["items"]
    assert (row["id"], row["order"], row["status"], row["note"]) == (made, "#1002", "requested", "<b>please</b> hurry")
    assert [(i["quantity"], i["reason"], i["note"]) for i in row["items"]] == [
        (1, "SIZE_TOO_SMALL", "<script>alert(1)</script> too tight"), (1, "DEFECTIVE", None)]
    assert all(i["title"] for i in row["items"])
    assert row["shopify"]["state"] == "pending" and row["actions"] == ["approve", "decline"]
    assert row["requested_at"] and row["history"] == []


def test_the_queue_filters_by_status_newest_first_and_pages(app, client, shopify, made):
    node = order_node(6)
    second = request(app, add_order(app, shopify, node),
                     [{"line_item_id": line_item_id(node, 0), "quantity": 1, "reason": "UNWANTED"}], key="k2")
    assert post(client, made, "decline", reason="FINAL_SALE").status_code == 200
    every = call(client, "GET", "/api/admin/returns", token()).json
    assert [r["id"] for r in every["items"]] == [second, made]
    assert [r["id"] for r in call(client, "GET", "/api/admin/returns?status=requested", token()).json["items"]] == [second]
    assert [r["id"] for r in call(client, "GET", "/api/admin/returns?status=declined", token()).json["items"]] == [made]
    paged = call(client, "GET", "/api/admin/returns?per_page=1&page=2", token()).json
    assert ([r["id"] for r in paged["items"]], paged["pages"], paged["total"]) == ([made], 2, 2)
    # The page's filter: a tab per status with its count, the current one marked.
    html = client.get(link_path(page="/app/returns") + "&status=declined&locale=fr").get_data(as_text=True)
    tabs = html[html.index('<nav class="tabs"'):html.index("</nav>", html.index('<nav class="tabs"'))]
    shown = re.findall(r'<a href="[^"]*"( aria-current="page")?>([^<]*) <span class="count">(\d+)</span>', tabs)
    assert [(label, count) for _current, label, count in shown] == [
        ("Tous", "2"), ("Demandé", "1"), ("Approuvé", "0"), ("Refusé", "1"), ("Reçu", "0"), ("Remboursé", "0"),
        ("Clôturé", "0"), ("Annulé", "0")]  # un retour annulé; une commande annulée
    assert [label for current, label, _count in shown if current] == ["Refusé"]


@pytest.mark.parametrize("query", ["status=lost", "page=0", "per_page=abc", "page=%C2%B2"])
def test_a_bad_filter_or_page_is_400(client, made, query):
    response = call(client, "GET", f"/api/admin/returns?{query}", token())
    assert response.status_code == 400 and response.json["error"]


def test_approve_with_instructions_records_who_and_when(client, made):
    response = post(client, made, "approve", token(sub="4242"), instructions="Drop it at any post office.")
    assert response.status_code == 200
    assert (response.json["status"], response.json["instructions"]) == ("approved", "Drop it at any post office.")
    assert response.json["actions"] == ["receive", "refund", "close"]
    [line] = response.json["history"]
    assert (line["action"], line["actor"], line["note"]) == ("approve", "4242", "Drop it at any post office.")
    assert line["at"]
    assert audit(made) == [("approve", "4242", None, "Drop it at any post office.")]
    assert stored(made).last_actor == "4242" and stored(made).next_attempt_at is not None


def test_the_whole_way_approve_receive_refund_close(client, made):
    for action, status in (("approve", "approved"), ("receive", "received"), ("refund", "refunded"),
                           ("close", "closed")):
        response = post(client, made, action)
        assert (response.status_code, response.json["status"]) == (200, status)
    assert [a[0] for a in audit(made)] == ["approve", "receive", "refund", "close"]
    assert stored(made).closed_at is not None


def test_approving_twice_is_a_clear_409_and_one_audit_line(client, made):
    assert post(client, made, "approve").status_code == 200
    again = post(client, made, "approve")
    assert again.status_code == 409
    assert again.json["error"] == "The return request is already approved."
    assert again.json["status"] == "approved"
    assert len(audit(made)) == 1


def test_a_move_not_allowed_is_409_with_the_message_in_the_admins_language(client, made):
    response = post(client, made, "close")
    assert response.status_code == 409 and response.json["error"] == "Cannot close a return request that is requested."
    french = call(client, "POST", f"/api/admin/returns/{made}/receive?locale=fr", token())
    assert french.status_code == 409 and french.json["error"] == "Impossible pour l'instant : ce retour est demandé."
    assert stored(made).state is ReturnStatus.REQUESTED and audit(made) == []


def test_decline_with_a_reason_and_a_note(client, made):
    response = post(client, made, "decline", reason="RETURN_PERIOD_ENDED", note="Past 30 days, sorry.")
    assert response.status_code == 200
    assert (response.json["decline_reason"], response.json["decline_note"]) == ("RETURN_PERIOD_ENDED", "Past 30 days, sorry.")
    assert audit(made) == [("decline", "42", "RETURN_PERIOD_ENDED", "Past 30 days, sorry.")]  # the token's sub


@pytest.mark.parametrize("body, field", [
    ({"reason": "BECAUSE"}, "reason"),
    ({"reason": 3}, "reason"),
    ({"reason": "OTHER", "note": "x" * 1001}, "note"),
    ({"reason": "OTHER", "note": ["not", "text"]}, "note"),
])
def test_a_bad_decline_is_422_naming_the_field_and_changes_nothing(client, made, body, field):
    response = post(client, made, "decline", **body)
    assert response.status_code == 422 and response.json["field"] == field
    assert stored(made).state is ReturnStatus.REQUESTED and audit(made) == []


def test_bad_instructions_are_422(client, made):
    response = post(client, made, "approve", instructions="x" * 1001)
    assert response.status_code == 422 and response.json["field"] == "instructions"
    assert stored(made).state is ReturnStatus.REQUESTED


def test_an_unknown_action_is_404_naming_the_actions(client, made):
    response = post(client, made, "delete")
    assert response.status_code == 404 and "approve" in response.json["error"]
    assert stored(made).state is ReturnStatus.REQUESTED


def test_a_body_that_is_not_an_object_is_400(client, made):
    response = call(client, "POST", f"/api/admin/returns/{made}/approve", token(), json=["approve"])
    assert response.status_code == 400
    assert stored(made).state is ReturnStatus.REQUESTED


def test_another_shops_return_is_404_and_not_listed(client, made, other_shop):  # noqa: F811
    theirs = token(dest=f"https://{OTHER}", iss=f"https://{OTHER}/admin")
    assert call(client, "GET", "/api/admin/returns", theirs).json["items"] == []
    response = post(client, made, "approve", theirs)
    assert response.status_code == 404 and "hurry" not in response.get_data(as_text=True)
    assert stored(made).state is ReturnStatus.REQUESTED and audit(made) == []
    assert post(client, 10**12, "approve").status_code == 404


@pytest.mark.parametrize("bearer", [None, "expired"])
def test_no_or_an_expired_token_is_401(client, made, bearer):
    if bearer == "expired":
        now = int(time.time())
        bearer = token(exp=now - 60, nbf=now - 120, iat=now - 120)
    for method, path in (("GET", "/api/admin/returns"), ("POST", f"/api/admin/returns/{made}/approve")):
        response = call(client, method, path, bearer)
        assert response.status_code == 401 and "hurry" not in response.get_data(as_text=True)
    assert stored(made).state is ReturnStatus.REQUESTED


def test_notes_show_escaped_on_the_page(client, made):
    html = client.get(link_path(page="/app/returns")).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; too tight" in html
    assert "<b>please</b>" not in html and "&lt;b&gt;please&lt;/b&gt; hurry" in html


def make_due(app, request_id: int) -> None:
    with worker_session(app) as session, session.begin():
        session.execute(update(ReturnRequest).where(ReturnRequest.id == request_id)
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_approving_through_the_api_reaches_shopify_after_the_worker_runs(client, shopify, made, run_worker):
    run_worker()  # the request reaches Shopify
    assert post(client, made, "approve", instructions="Use the prepaid label.").status_code == 200
    assert post(client, made, "approve").status_code == 409
    run_worker()
    [ret] = shopify.returns(SHOP)
    assert ret["status"] == "OPEN"
    assert len(shopify.calls(operation="returnApproveRequest")) == 1
    row = call(client, "GET", "/api/admin/returns", token()).json["items"][0]
    assert row["shopify"] == {**row["shopify"], "state": "synced", "status": "OPEN", "error": None}


def test_an_approval_while_shopify_is_down_stays_queued_then_completes(app, client, shopify, made, run_worker):
    run_worker()
    assert post(client, made, "approve").status_code == 200
    shopify.stop()
    try:
        run_worker()
    finally:
        shopify.start()
    row = call(client, "GET", "/api/admin/returns", token()).json["items"][0]
    assert (row["status"], row["shopify"]["state"], row["shopify"]["status"]) == ("approved", "failed", "REQUESTED")
    assert "ShopifyAPIError" in row["shopify"]["error"]
    assert shopify.returns(SHOP)[0]["status"] == "REQUESTED"

    make_due(app, made)
    run_worker()
    assert shopify.returns(SHOP)[0]["status"] == "OPEN"
    assert len(shopify.calls(operation="returnApproveRequest")) == 1
    row = call(client, "GET", "/api/admin/returns", token()).json["items"][0]
    assert (row["shopify"]["state"], row["shopify"]["error"]) == ("synced", None)


def test_a_token_without_a_user_is_recorded_as_admin(client, made):
    assert post(client, made, "receive", token(sub="")).status_code == 409
    assert post(client, made, "approve", token(sub="")).status_code == 200
    assert audit(made) == [("approve", "admin", None, None)]
