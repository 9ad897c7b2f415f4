"""GET/PUT /api/admin/settings and GET /api/admin/notifications: the shop of
the session token only, every bad value refused by name with nothing saved."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from plugin import settings
from plugin.models import Notification, Shop

from ..conftest import API_KEY, SECRET, SHOP, db
from ..fake_shopify import make_session_token
from .test_admin_api import token, unsigned

OTHER = "other-shop.myshopify.com"


def call(client, method, path, bearer, *, scheme="Bearer", **kwargs):
    headers = {"Authorization": f"{scheme} {bearer}"} if bearer is not None else {}
    return client.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture
def other_shop(runner):
    runner("shops", "add", OTHER, "--token", "t")
    return db().scalar(select(Shop.id).where(Shop.domain == OTHER))


def test_get_returns_every_setting_with_its_default(client, shop):
    response = call(client, "GET", "/api/admin/settings", token())
    assert response.status_code == 200
    assert response.json == settings.DEFAULTS
    assert response.json["notifications.delay_grace_hours"] == 24


def test_put_saves_the_changes_and_returns_every_setting_after(client, shop):
    response = call(client, "PUT", "/api/admin/settings", token(),
                    json={"notifications.shipped.sms": True, "survey.kinds": ["nps", "csat"], "mail.from": "Ada"})
    assert response.status_code == 200
    assert response.json["notifications.shipped.sms"] is True
    assert response.json["survey.kinds"] == ["csat", "nps"]
    assert response.json["returns.window_days"] == 30  # untouched keys are there too
    stored = settings.load(db(), shop)
    assert (stored["notifications.shipped.sms"], stored["mail.from"]) == (True, "Ada")
    assert call(client, "GET", "/api/admin/settings", token()).json == stored


def test_null_resets_a_setting_to_its_default(client, shop):
    call(client, "PUT", "/api/admin/settings", token(), json={"returns.window_days": 60})
    response = call(client, "PUT", "/api/admin/settings", token(), json={"returns.window_days": None})
    assert response.json["returns.window_days"] == 30


@pytest.mark.parametrize("changes, field, words", [
    ({"notifications.shipped.email": "yes"}, "notifications.shipped.email", "true or false"),
    ({"notifications.delay_grace_hours": "36"}, "notifications.delay_grace_hours", "whole number"),
    ({"notifications.delay_grace_hours": 9999}, "notifications.delay_grace_hours", "from 0 to 720"),
    ({"notifications.stalled_days": 0}, "notifications.stalled_days", "from 1 to 60"),
    ({"survey.kinds": ["csat", "stars"]}, "survey.kinds", "list of csat, ces, nps"),
    ({"returns.window_starts": "shipped"}, "returns.window_starts", "one of"),
    ({"returns.reasons": []}, "returns.reasons", "at least one"),
    ({"branding.color": "green"}, "branding.color", "colour"),
    ({"branding.logo_url": "javascript:alert(1)"}, "branding.logo_url", "https://"),
    ({"mail.reply_to": "Ada <ada@example.com>"}, "mail.reply_to", "email address"),
    ({"notifications.quiet_hours": "25:00-08:00"}, "notifications.quiet_hours", "time range"),
    ({"mail.from": "x" * 101}, "mail.from", "at most 100"),
    ({"help.answers": [{"question": "Where?", "answer": ""}]}, "help.answers[0].answer", "empty"),
    ({"no.such.key": 1}, "no.such.key", "not a setting"),
    # one good change and one bad: the good one is not saved either
    ({"returns.window_days": 45, "survey.cap_days": -1}, "survey.cap_days", "from 0 to 365"),
])
def test_a_bad_value_is_422_naming_the_field_and_nothing_is_saved(client, shop, changes, field, words):
    before = settings.load(db(), shop)
    response = call(client, "PUT", "/api/admin/settings", token(), json=changes)
    assert response.status_code == 422
    assert response.json["field"] == field
    assert words in response.json["error"]
    assert settings.load(db(), shop) == before


def test_the_error_speaks_the_admin_users_language(client, shop):
    response = call(client, "PUT", "/api/admin/settings?locale=fr-CA", token(),
                    json={"notifications.delay_grace_hours": 9999})
    assert response.status_code == 422
    assert response.json == {"error": "doit être compris entre 0 et 720", "field": "notifications.delay_grace_hours"}


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_400(client, shop, body):
    response = call(client, "PUT", "/api/admin/settings", token(), data=body, content_type="application/json")
    assert response.status_code == 400
    assert settings.load(db(), shop) == settings.DEFAULTS


def test_markup_in_text_is_stored_as_text(client, shop):
    markup = '<img src=x onerror="alert(1)">Shop'
    response = call(client, "PUT", "/api/admin/settings", token(), json={"mail.from": markup})
    assert response.json["mail.from"] == markup
    assert settings.get(db(), shop, "mail.from") == markup


ROUTES = [("GET", "/api/admin/settings"), ("PUT", "/api/admin/settings"), ("GET", "/api/admin/notifications"),
          ("POST", "/api/admin/session-token")]


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("case", ["missing", "alg none", "expired", "wrong secret", "not a bearer"])
def test_bad_session_tokens_are_401_and_change_nothing(client, shop, method, path, case):
    call(client, "PUT", "/api/admin/settings", token(), json={"mail.from": "Secret Sender"})
    now = int(time.time())
    bearer = {
        "missing": None,
        "alg none": unsigned(),
        "expired": token(exp=now - 60, nbf=now - 120, iat=now - 120),
        "wrong secret": token(secret="shpss_not_ours_000000000000000000000000"),
        "not a bearer": token(),
    }[case]
    kwargs = {"json": {"mail.from": "Mallory"}} if method == "PUT" else {}
    response = call(client, method, path, bearer, scheme="Basic" if case == "not a bearer" else "Bearer", **kwargs)
    assert response.status_code == 401
    assert "Secret Sender" not in response.get_data(as_text=True)
    assert settings.get(db(), shop, "mail.from") == "Secret Sender"


def test_another_shops_token_reads_and_writes_only_that_shop(client, shop, other_shop):
    call(client, "PUT", "/api/admin/settings", token(), json={"mail.from": "Test Shop Sender"})
    other = make_session_token(API_KEY, SECRET, OTHER)
    read = call(client, "GET", "/api/admin/settings", other)
    assert read.status_code == 200 and read.json["mail.from"] is None
    call(client, "PUT", "/api/admin/settings", other, json={"mail.from": "Other Sender"})
    assert settings.get(db(), shop, "mail.from") == "Test Shop Sender"
    assert settings.get(db(), other_shop, "mail.from") == "Other Sender"


def test_a_token_for_an_uninstalled_shop_is_403(client, app):
    assert call(client, "GET", "/api/admin/settings", token()).status_code == 403


# --- the outbox ------------------------------------------------------------

def add_notifications(shop_id, count, recipient="ada@example.com", **fields):
    session = db()
    for i in range(count):
        session.add(Notification(shop_id=shop_id, kind="shipped", channel="email", recipient=recipient,
                                 dedupe_key=f"{recipient}-{i}", **fields))
    session.commit()


def test_the_outbox_lists_the_shops_messages_newest_first_by_page(client, shop, other_shop):
    add_notifications(shop, 3, status="failed", attempts=5, error="550 mailbox unavailable")
    add_notifications(other_shop, 2, recipient="not-yours@example.com")
    first = call(client, "GET", "/api/admin/notifications?per_page=2", token())
    assert first.status_code == 200
    assert (first.json["total"], first.json["pages"], first.json["page"]) == (3, 2, 1)
    row = first.json["items"][0]
    assert {k: row[k] for k in ("kind", "channel", "recipient", "status", "attempts", "error")} == {
        "kind": "shipped", "channel": "email", "recipient": "ada@example.com", "status": "failed",
        "attempts": 5, "error": "550 mailbox unavailable"}
    assert row["created_at"] and "sent_at" in row and "next_attempt_at" in row
    second = call(client, "GET", "/api/admin/notifications?per_page=2&page=2", token())
    ids = [r["id"] for r in first.json["items"] + second.json["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert "not-yours" not in first.get_data(as_text=True) + second.get_data(as_text=True)


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=x", "per_page=0", "per_page=1.5",
                                   "page=%C2%B2", "page=99999999999999999999", "per_page=1%C2%B2"])
def test_bad_paging_is_400(client, shop, query):
    assert call(client, "GET", f"/api/admin/notifications?{query}", token()).status_code == 400


def test_a_bad_page_of_the_outbox_page_shows_the_first(client, shop):
    """"²" and a page past BIGINT were a 500 (int() refused the one, the OFFSET overflowed with the other)."""
    from .test_admin_pages import link_path
    add_notifications(shop, 1)
    for page in ("%C2%B2", "99999999999999999999"):
        response = client.get(link_path(page="/app/outbox") + f"&page={page}")
        assert response.status_code == 200 and "ada@example.com" in response.get_data(as_text=True)


def test_per_page_is_capped(client, shop):
    assert call(client, "GET", "/api/admin/notifications?per_page=100000", token()).json["per_page"] == 200
