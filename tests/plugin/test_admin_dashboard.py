"""The dashboard (the admin's home) over HTTP, and the figures behind it.

The store: the survey fixture (tests/plugin/surveys/conftest.py, figures
worked out in test_metrics.py), plus, in the range [11-02, 11-16), orders
#1001–#1005 placed (two in the week of 11-02, three in the week of 11-09),
two help contacts, the outbox's customer messages and two return requests,
each with hand-computed figures below.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from plugin import shops
from plugin.admin import dashboard
from plugin.db import worker_session
from plugin.demo import history
from plugin.help.models import Contact
from plugin.models import Notification, Order
from plugin.returns.models import ReturnRequest
from plugin.surveys import SurveyResponse, durations_summary, summary
from plugin.surveys.metrics import weekly_durations

from ..conftest import SHOP, db
from .surveys.conftest import RANGE, add_answers, at
from .test_admin_pages import link_path

OTHER = "other-shop.myshopify.com"
SHOWN = "&from=2026-11-02&to=2026-11-15"  # the page's range: both days included


@pytest.fixture
def store(app, shop):
    add_answers(app, shop, comment="Late & <b>crushed</b>")
    session = db()
    placed = {"#1001": at("11-02"), "#1002": at("11-03"), "#1003": at("11-09"), "#1004": at("11-10"),
              "#1005": at("11-11"), "#1006": at("11-20"), "#1007": at("10-30")}
    for name, when in placed.items():
        session.execute(update(Order).where(Order.shop_id == shop, Order.name == name).values(shopify_created_at=when))
    order = session.scalar(select(Order.id).where(Order.shop_id == shop, Order.name == "#1001"))
    session.add_all([Contact(shop_id=shop, order_id=order, message_length=10, answers_shown=[], created_at=when)
                     for when in (at("11-03"), at("11-10"), at("12-01"))])
    for key, (kind, status, when) in enumerate([
        ("shipped", "sent", at("11-02")), ("delivered", "sent", at("11-04")), ("delayed", "failed", at("11-10")),
        ("support_contact", "sent", at("11-03")),  # to the store's staff: not counted
        ("shipped", "sent", at("10-20")),  # before the range
    ]):
        session.add(Notification(shop_id=shop, order_id=order, kind=kind, channel="email", recipient="a@example.com",
                                 dedupe_key=f"k{key}", status=status, created_at=when))
    for key, (requested, answered, resolved) in enumerate([
        (at("11-02"), at("11-02", 14), at("11-04")),  # 2 h to answer, 48 h to resolve
        (at("11-10"), at("11-11"), None),  # 24 h to answer, still open
        (at("10-01"), at("10-02"), at("10-03")),  # before the range
    ]):
        session.add(ReturnRequest(shop_id=shop, order_id=order, key=f"r{key}", fingerprint="f",
                                  requested_at=requested, first_response_at=answered, resolved_at=resolved))
    session.commit()
    return shop


def test_the_figures_of_the_range(app, store):
    f = dashboard.figures(db(), store, *RANGE)
    assert f["weeks"] == ["2026-11-02", "2026-11-09"]
    assert (f["totals"]["csat"]["count"], f["totals"]["csat"]["share"]) == (5, 0.4)
    assert f["notifications"] == {"sent": 2, "failed": 1,
                                  "weekly": {"sent": {"2026-11-02": 2, "2026-11-09": 0},
                                             "failed": {"2026-11-02": 0, "2026-11-09": 1}}}
    assert (f["contacts"]["contacts"], f["contacts"]["orders"], f["contacts"]["per_100_orders"]) == (2, 5, 40.0)
    assert f["contacts"]["weekly"] == {"2026-11-02": {"contacts": 1, "orders": 2, "per_100_orders": 50.0},
                                       "2026-11-09": {"contacts": 1, "orders": 3, "per_100_orders": 33.3}}
    # Returns: first responses 2 h and 24 h (median 13, p90 2 + 0.9 × 22); one resolved, in 48 h.
    assert f["totals"]["first_response_hours"] == {"count": 2, "median": pytest.approx(13), "p90": pytest.approx(21.8)}
    assert f["totals"]["resolution_hours"] == {"count": 1, "median": pytest.approx(48), "p90": pytest.approx(48)}
    weekly = f["returns_weekly"]
    assert weekly["first_response_hours"]["2026-11-02"]["median"] == pytest.approx(2)
    assert weekly["first_response_hours"]["2026-11-09"]["median"] == pytest.approx(24)
    assert weekly["resolution_hours"]["2026-11-09"] == {"count": 0, "median": None, "p90": None}
    assert [by for by in f["breakdowns"]] == ["carrier", "product", "touchpoint", "lateness"]
    assert f["low_answers"]["total"] == 4


def test_weekly_durations_agree_with_durations_summary(app, store):
    r = SurveyResponse
    pairs = select(r.answered_at, r.changed_at).where(r.shop_id == store)
    session = db()
    for number, answer in enumerate(session.scalars(select(r).order_by(r.id))):
        answer.changed_at = answer.answered_at + timedelta(hours=number * 7 % 30)
    session.commit()
    for start, end in ((at("11-02", 0), at("11-09", 0)), (at("11-09", 0), at("11-16", 0))):
        whole = durations_summary(db(), pairs.where(r.answered_at >= start, r.answered_at < end))
        [weekly] = weekly_durations(db(), pairs, start, end).values()
        assert weekly == pytest.approx(whole)


def test_the_page_shows_every_figure_with_its_weekly_table(client, store):
    response = client.get(link_path() + SHOWN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    figures = dict(re.findall(r'data-metric="(\w+)".*?data-figure>([^<]*)<', html, re.S))
    assert figures == {"csat": "40%", "ces": "5.3", "nps": "+33", "response_rate": "80%",
                       "first_response": "13 hr", "resolution": "2 days", "follow_up": "–",
                       "notifications": "2 sent", "contacts": "40.0"}
    assert "1 failed" in html and "2 asked for help" in html and "4 of 5 survey invitations answered" in html
    csat = html[html.index('data-metric="csat"'):html.index('data-metric="ces"')]
    assert re.findall(r"<tr><th scope=\"row\">([^<]*)</th><td>([^<]*)</td><td>([^<]*)</td></tr>", csat) == [
        ("Nov 2", "33%", "3"), ("Nov 9", "50%", "2")]
    assert 'aria-label="CSAT by week: Nov 2 33%; Nov 9 50%"' in csat
    assert csat.count("<svg") == 1
    # The low answers, newest first, each with its button.
    assert html.count('data-follow-up="') == 4
    assert "Order #1004" in html and "CSAT 1 of 5" in html and "2 days late" in html


def test_no_script_runs_without_the_pages_nonce(client, store):
    response = client.get(link_path() + SHOWN)
    html = response.get_data(as_text=True)
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'type="application/json"' in tag or f'nonce="{nonce}"' in tag, tag
    assert html.count("<svg") >= 9 and "pygal.config" not in html


def test_text_from_shopify_and_customers_is_escaped(client, app, shop):
    add_answers(app, shop, comment="<img src=x onerror=alert(1)>")
    session = db()
    session.execute(update(SurveyResponse).values(carrier="<script>alert('carrier')</script>"))
    session.commit()
    html = client.get(link_path() + SHOWN).get_data(as_text=True)
    assert "<script>alert(" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(" in html  # in the table, the chart and its description


def test_the_page_speaks_french(client, store):
    html = client.get(link_path() + SHOWN + "&locale=fr").get_data(as_text=True)
    assert '<html lang="fr">' in html and "Tableau de bord" in html
    assert "du 2 nov. 2026 au 15 nov. 2026" in html
    figures = dict(re.findall(r'data-metric="(\w+)".*?data-figure>([^<]*)<', html, re.S))
    assert (figures["csat"], figures["ces"], figures["contacts"]) == ("40\xa0%", "5,3", "40,0")
    assert "Par transporteur" in html and "Suivi fait" in html and "2 jours de retard" in html


@pytest.mark.parametrize("query, field", [("&from=2026-13-01", "from"), ("&to=yesterday", "to"),
                                          ("&from=2026-11-20&to=2026-11-02", "from")])
def test_a_bad_range_is_named_next_to_its_field(client, store, query, field):
    response = client.get(link_path() + query)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="range-{field}"[^>]*aria-invalid="true"', html)
    assert f'id="range-{field}-err"' in html
    assert "data-figure" in html  # the default range is still shown


def test_another_shops_dashboard_shows_none_of_this_shops_answers(client, store, runner):
    runner("shops", "add", OTHER, "--token", "t")
    html = client.get(link_path(shop=OTHER) + SHOWN).get_data(as_text=True)
    assert "Late &amp; &lt;b&gt;crushed" not in html and "#1004" not in html
    assert "No low answers yet." in html and "No data yet" in html


def test_the_demo_history_gives_the_dashboard_real_figures(app, shop):
    with worker_session(app) as session, session.begin():
        history.seed(session, shop, at("12-01", 9))
    start, end = at("09-08", 0), at("12-01", 10)
    first = summary(db(), shop, start, end)
    assert first["csat"]["count"] > 50 and 0.5 < first["csat"]["share"] < 0.95
    assert first["response_rate"]["sent"] > 150 and first["first_response_hours"]["count"] > 10
    assert first["follow_up_hours"]["count"] > 10 and first["follow_up_hours"]["waiting"] > 0
    f = dashboard.figures(db(), shop, start, end)
    assert f["notifications"]["sent"] > 300 and f["notifications"]["failed"] > 0
    assert f["contacts"]["contacts"] > 0 and f["low_answers"]["total"] > 10
    # The same store every run.
    with worker_session(app) as session, session.begin():
        shops.delete_data(session, shop)
        history.seed(session, shop, at("12-01", 9))
    assert summary(db(), shop, start, end) == first


def test_drawing_charts_leaves_the_import_system_as_it_was():
    # pygal's own import hook would turn every missed import into an ImportWarning (an error here).
    import sys

    from plugin.admin import charts

    charts.trend(["Nov 2"], [("CSAT", [0.5])], str)
    assert not [f for f in sys.meta_path if type(f).__name__ == "PluginImportFixer"]
