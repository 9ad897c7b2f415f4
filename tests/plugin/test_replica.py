"""AFTERCARE_DATABASE_REPLICA_URL: the dashboard, the metrics and the CSV
export read from the replica; everything else, and every write, stays on
the primary. The "replica" here is a second PostgreSQL database holding
answers the primary lacks, so where each read went shows in the figures."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from plugin import create_app, migrate, shops
from plugin.db import engine, worker_session
from plugin.models import Setting
from plugin.surveys import SurveyResponse

from ..conftest import API_KEY, SECRET, SHOP, environ, fresh_database
from ..fake_shopify import make_session_token
from .surveys.conftest import add_answers
from .test_admin_pages import link_path


@pytest.fixture
def primary_and_replica(tmp_path):
    with fresh_database("postgresql", tmp_path) as primary, fresh_database("postgresql", tmp_path) as replica:
        apps = {}
        for name, url in (("primary", primary), ("replica", replica)):
            apps[name] = create_app({"TESTING": True}, environ=environ(url), instance_path=str(tmp_path / name))
            migrate.upgrade(apps[name])
            with apps[name].app_context(), worker_session(apps[name]) as session, session.begin():
                shops.install(session, SHOP, shops.static_grant("shpat_test_token", "read_orders"))
        app = create_app({"TESTING": True}, environ={**environ(primary), "AFTERCARE_DATABASE_REPLICA_URL": replica},
                         instance_path=str(tmp_path / "app"))
        yield app, apps["primary"], apps["replica"]
        for each in (app, *apps.values()):
            engine(each).dispose()
        app.extensions["aftercare.db"]["replica_sessions"].kw["bind"].dispose()


def _headers():
    return {"Authorization": f"Bearer {make_session_token(API_KEY, SECRET, SHOP)}"}


def _count(app) -> int:
    with engine(app).connect() as conn:
        return conn.scalar(select(func.count()).select_from(SurveyResponse))


def test_the_dashboards_reads_go_to_the_replica_and_writes_to_the_primary(primary_and_replica):
    app, primary, replica = primary_and_replica
    add_answers(replica, 1)  # the replica alone has answers: what the primary has not seen yet
    assert (_count(primary), _count(replica) > 0) == (0, True)
    client = app.test_client()
    span = {"from": "2026-11-02", "to": "2026-11-16"}

    metrics = client.get("/api/admin/metrics", query_string=span, headers=_headers()).json
    assert metrics["csat"]["count"] == 5
    export = client.get("/api/admin/surveys/responses.csv", query_string=span, headers=_headers())
    assert export.status_code == 200 and len(export.text.strip().splitlines()) > 1  # the primary has none
    with app.app_context():
        page = client.get(link_path() + "&from=2026-11-02&to=2026-11-15").get_data(as_text=True)
    assert 'data-metric="csat"' in page and "40%" in page  # the replica's CSAT (the primary has none)

    # A write, and what must read its own write, go to the primary.
    saved = client.put("/api/admin/settings", json={"survey.delay_hours": 72}, headers=_headers())
    assert saved.status_code == 200, saved.json
    for each, expected in ((primary, [72]), (replica, [])):
        with engine(each).connect() as conn:
            assert conn.scalars(select(Setting.value).where(Setting.key == "survey.delay_hours")).all() == expected
    assert client.get("/api/admin/surveys/low-answers", headers=_headers()).json["total"] == 0  # the primary's


def test_without_a_replica_the_same_reads_go_to_the_primary(client, shop):
    add_answers(client.application, shop)
    metrics = client.get("/api/admin/metrics", query_string={"from": "2026-11-02", "to": "2026-11-16"},
                         headers=_headers()).json
    assert metrics["csat"]["count"] == 5
