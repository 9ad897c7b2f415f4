"""Shoppers' views of their orders (plugin/visits.py) on the order timeline:
a lookup, an order opened by its token and the tracking link each leave one
line per surface and hour, for this shop only; redaction erases them; a
failure to record never costs the shopper their page."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from plugin import links, shops, visits
from plugin.db import engine, worker_session
from plugin.models import DataExport, utcnow
from plugin.visits import OrderVisit
from tests.conftest import SHOP, db
from tests.notifications.orders import ORDER_ID, add_order
from tests.plugin.test_admin_api import token as admin_token
from tests.plugin.test_admin_pages import link_path

from .conftest import OTHER_SHOP, proxy_query

BODY = {"order": "#1001", "email": "ana@example.com"}
ORIGIN = {"Origin": f"https://{SHOP}"}


def _track_path(shop_id: int, order_id: int) -> str:
    return "/" + links.url("track", shop_id=shop_id, order_id=order_id).split("://", 1)[1].split("/", 1)[1]


def _look(client, shop_id: int, order_id: int) -> None:
    """The shopper finds the order in the widget, opens it again through the
    store's order page, then taps the tracking link of a message."""
    found = client.post(f"/widgets/api/lookup?shop={SHOP}", json=BODY, headers=ORIGIN)
    assert found.status_code == 200
    opened = client.get(f"/proxy/api/orders/{found.json['token']}?{proxy_query()}")
    assert opened.status_code == 200 and opened.json["order"]["order_name"] == "#1001"
    assert client.get(_track_path(shop_id, order_id)).status_code == 200


def _visits(shop_id: int) -> list[tuple[int, str]]:
    return sorted(db().execute(select(OrderVisit.order_id, OrderVisit.surface).where(OrderVisit.shop_id == shop_id)))


def _timeline(client) -> list[dict]:
    response = client.get("/api/admin/orders/%231001", headers={"Authorization": f"Bearer {admin_token()}"})
    assert response.status_code == 200
    return [e for e in response.json["timeline"] if e["type"] == "visit"]


def test_a_lookup_a_token_and_the_tracking_link_show_as_three_visits(app, client, shop):
    order_id, _ = add_order(app, shop)
    before = utcnow()
    _look(client, shop, order_id)

    entries = _timeline(client)
    assert [e["detail"]["surface"] for e in entries] == ["widget", "proxy", "tracking_page"]  # in time order
    assert all(before <= datetime.fromisoformat(e["at"]) <= utcnow() for e in entries)
    assert set(entries[0]["detail"]) == {"surface"}  # no address, no browser: nothing else is kept
    page = client.get(link_path(page="/app/orders") + "&q=1001").get_data(as_text=True)
    for label in ("Viewed in the storefront widget", "Viewed on the store&#39;s order page",
                  "Viewed on the tracking page"):
        assert label in page
    french = client.get(link_path(page="/app/orders") + "&q=1001&locale=fr").get_data(as_text=True)
    assert "Consultée dans le widget de la boutique" in french and "Consultée sur la page de suivi" in french


def test_reloads_within_the_hour_add_nothing_and_the_next_hour_counts(app, client, shop, monkeypatch, caplog):
    order_id, _ = add_order(app, shop)
    _look(client, shop, order_id)
    first = {e["detail"]["surface"]: e["at"] for e in _timeline(client)}
    hour = utcnow().replace(minute=0, second=0, microsecond=0)
    _look(client, shop, order_id)
    _look(client, shop, order_id)
    assert not [r for r in caplog.records if r.name == "plugin.visits"]  # a reload is no failure
    if utcnow().replace(minute=0, second=0, microsecond=0) == hour:  # not across an hour's turn
        assert {e["detail"]["surface"]: e["at"] for e in _timeline(client)} == first  # the first view stays

    later = utcnow() + timedelta(hours=1)
    monkeypatch.setattr(visits, "utcnow", lambda: later)
    assert client.get(_track_path(shop, order_id)).status_code == 200
    shown = [e for e in _timeline(client) if e["detail"]["surface"] == "tracking_page"]
    assert len(shown) >= 2 and shown[-1]["at"] == later.isoformat()


def test_another_shops_lookups_record_nothing_on_this_shop(app, client, shop, other_shop):
    order_id, _ = add_order(app, shop)
    other_order, _ = add_order(app, other_shop)
    # The other shop's shopper finds their own #1001: theirs is recorded, not ours.
    assert client.post(f"/widgets/api/lookup?shop={OTHER_SHOP}", json=BODY,
                       headers={"Origin": f"https://{OTHER_SHOP}"}).status_code == 200
    assert _visits(other_shop) == [(other_order, "widget")]
    # This shop's token through the other shop's proxy, and a miss: nothing anywhere.
    mine = links.dumps("order", shop_id=shop, order_id=order_id)
    assert client.get(f"/proxy/api/orders/{mine}?{proxy_query(shop=OTHER_SHOP)}").status_code in (401, 404)
    # The other shop's page reading this shop's genuine token gets no CORS, and is no visit.
    assert "Access-Control-Allow-Origin" not in client.get(
        f"/widgets/api/orders/{mine}?shop={SHOP}", headers={"Origin": f"https://{OTHER_SHOP}"}).headers
    miss = client.post(f"/widgets/api/lookup?shop={SHOP}", json={**BODY, "email": "eve@example.com"}, headers=ORIGIN)
    assert miss.status_code == 404
    assert _visits(shop) == [] and _visits(other_shop) == [(other_order, "widget")]
    assert _timeline(client) == []


def test_data_request_exports_them_and_redact_and_shop_erase_take_them(app, client, shop, other_shop, webhooks, run_worker):
    order_id, _ = add_order(app, shop)
    other_order, _ = add_order(app, other_shop)
    _look(client, shop, order_id)
    with worker_session(app) as session:
        visits.record(session, other_shop, other_order, visits.Surface.WIDGET)
    assert len(_visits(shop)) == 3

    customer = {"id": 207119551, "email": "ana@example.com", "phone": "+33612345678"}
    webhooks.post("customers/data_request", {"shop_id": 954889, "shop_domain": SHOP, "customer": customer,
                                             "orders_requested": [ORDER_ID], "data_request": {"id": 1}})
    run_worker()
    (export,) = db().scalars(select(DataExport).where(DataExport.shop_id == shop))
    assert [(v["order"], v["surface"]) for v in export.content["order_visits"]] == [
        ("#1001", "widget"), ("#1001", "proxy"), ("#1001", "tracking_page")]

    webhooks.post("customers/redact", {
        "shop_id": 954889, "shop_domain": SHOP, "orders_to_redact": [ORDER_ID], "customer": customer})
    run_worker()
    assert _visits(shop) == [] and _timeline(client) == []
    assert _visits(other_shop) == [(other_order, "widget")]  # another shop's customer is not this request's

    with worker_session(app) as session, session.begin():
        shops.erase(session, other_shop)
    assert db().scalar(select(func.count()).select_from(OrderVisit)) == 0


def test_a_visit_that_cannot_be_stored_still_shows_the_order(app, client, shop, caplog):
    order_id, _ = add_order(app, shop)
    with engine(app).begin() as connection:  # a real failure: the table is not there
        connection.execute(text("ALTER TABLE order_visits RENAME TO order_visits_away"))
    try:
        with caplog.at_level(logging.WARNING, logger="plugin.visits"):
            _look(client, shop, order_id)
            page = client.get(f"/proxy/?{proxy_query(order=links.dumps('order', shop_id=shop, order_id=order_id))}")
            assert page.status_code == 200 and "#1001" in page.get_data(as_text=True)
    finally:
        with engine(app).begin() as connection:
            connection.execute(text("ALTER TABLE order_visits_away RENAME TO order_visits"))
    failures = [r.getMessage() for r in caplog.records if r.name == "plugin.visits"]
    assert len(failures) == 4 and all("visit not recorded" in f for f in failures)
    assert not any("ana@example.com" in f or "+3361" in f for f in failures)  # the shopper is not logged
    assert _visits(shop) == []
