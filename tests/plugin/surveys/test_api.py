"""GET /api/admin/metrics and /api/admin/surveys/responses.csv: the shop's
own figures and answers, behind the admin session token."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from plugin.models import Shop
from plugin.surveys import SurveyResponse

from ...conftest import API_KEY, SECRET, SHOP, db
from ...fake_shopify import make_session_token
from .conftest import INVITATIONS, add_answers

OTHER = "other-shop.myshopify.com"


def get(client, path, shop_domain=SHOP, **params):
    token = make_session_token(API_KEY, SECRET, shop_domain)
    return client.get(path, query_string=params, headers={"Authorization": f"Bearer {token}"})


def test_metrics_over_a_range_with_a_breakdown(client, answered):
    response = get(client, "/api/admin/metrics", **{"from": "2026-11-02", "to": "2026-11-16", "by": "carrier"})
    assert response.status_code == 200
    body = response.json
    assert (body["from"], body["to"], body["by"]) == ("2026-11-02T00:00:00+00:00", "2026-11-16T00:00:00+00:00",
                                                      "carrier")
    assert body["csat"] == {"count": 5, "share": 0.4, "satisfied": 2}
    assert body["response_rate"] == {"sent": 5, "answered": 4, "rate": 0.8}
    assert [g["key"] for g in body["breakdown"]] == ["DHL", "UPS", None]
    assert body["first_response_hours"] == {"count": 0, "median": None, "p90": None}


def test_dates_are_the_shops_calendar_days(client, shop, answered):
    session = db()
    session.get(Shop, shop).iana_timezone = "Pacific/Auckland"  # UTC+13 in November
    session.commit()
    # I1's answers (11-02 12:00 UTC) fall on 11-03 in Auckland; I7's (11-03 12:00 UTC) on 11-04.
    body = get(client, "/api/admin/metrics", **{"from": "2026-11-03", "to": "2026-11-04"}).json
    assert body["from"] == "2026-11-03T00:00:00+13:00"
    assert (body["csat"], body["ces"]["count"]) == ({"count": 1, "share": 1.0, "satisfied": 1}, 1)


@pytest.mark.parametrize("params, field", [
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-45"}, "to"),
    ({"from": "2026-11-16", "to": "2026-11-02"}, "from"),
    ({"from": "2026-11-02", "to": "2026-11-02"}, "from"),
    ({"from": "1900-01-01", "to": "2026-11-02"}, "from"),
    ({"by": "colour"}, "by"),
    ({"by": "carrier;DROP TABLE survey_responses"}, "by"),
])
def test_bad_parameters_are_422_naming_the_parameter(client, answered, params, field):
    response = get(client, "/api/admin/metrics", **params)
    assert response.status_code == 422
    assert response.json["field"] == field
    assert response.json["error"].startswith(f"{field}: ")
    assert get(client, "/api/admin/surveys/responses.csv", **params).status_code == (422 if field != "by" else 200)
    assert db().scalar(select(SurveyResponse.id).limit(1)) is not None


def test_without_a_session_token_nothing_is_shown(client, answered):
    for path in ("/api/admin/metrics", "/api/admin/surveys/responses.csv"):
        response = client.get(path)
        assert response.status_code == 401
        assert "csat" not in response.get_data(as_text=True)


def test_another_shops_token_never_sees_this_shops_answers(client, answered, runner):
    runner("shops", "add", OTHER, "--token", "t")
    params = {"from": "2026-11-02", "to": "2026-11-16", "by": "product"}
    body = get(client, "/api/admin/metrics", shop_domain=OTHER, **params).json
    assert body["csat"]["count"] == 0 and body["breakdown"] == []
    text = get(client, "/api/admin/surveys/responses.csv", shop_domain=OTHER, **params).get_data(as_text=True)
    assert text.splitlines()[1:] == []
    assert "Mug" not in text


def test_the_csv_lists_every_answer_of_the_range_with_its_context(client, shop, app):
    add_answers(app, shop, comment="=HYPERLINK(\"http://evil.example\")")
    response = get(client, "/api/admin/surveys/responses.csv", **{"from": "2026-11-02", "to": "2026-11-16"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="survey-responses-2026-11-02-2026-11-16.csv"')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == sum(len(a) for *_, a in INVITATIONS.values()) - 1  # I6's answer is after the range
    first = rows[0]
    assert {k: first[k] for k in ("order", "touchpoint", "question", "score", "low", "carrier", "days_late",
                                  "lateness", "products", "locale")} == {
        "order": "#1001", "touchpoint": "delivery", "question": "csat", "score": "5", "low": "no",
        "carrier": "UPS", "days_late": "0", "lateness": "on_time", "products": "Mug", "locale": "en"}
    assert first["answered_at"] == "2026-11-02T12:00:00+00:00"
    # A comment that a spreadsheet would run as a formula is given as text.
    assert first["comment"] == "'=HYPERLINK(\"http://evil.example\")"
    second = next(r for r in rows if r["order"] == "#1002" and r["question"] == "csat")
    assert (second["products"], second["lateness"], second["low"]) == ("Mug; Tee", "late_1_2_days", "yes")
    unknown = next(r for r in rows if r["order"] == "#1004")
    assert (unknown["days_late"], unknown["lateness"], unknown["touchpoint"]) == ("", "unknown", "return")


def test_an_export_left_half_read_gives_its_connection_back(client, app, answered):
    from plugin.db import engine
    pool = engine(app).pool
    before = pool.checkedout()
    response = get(client, "/api/admin/surveys/responses.csv", **{"from": "2026-11-02", "to": "2026-11-16"})
    chunks = iter(response.response)
    assert next(chunks).startswith(b"answered_at,")
    assert next(chunks).startswith(b"2026-11-02T12:00:00+00:00")
    assert pool.checkedout() == before + 1  # the export is reading
    response.close()  # what the server does when the client goes away
    assert pool.checkedout() == before
