"""The closed loop: GET /api/admin/surveys/low-answers lists the shop's low
answers (CSAT ≤ 2, CES ≤ 3, NPS ≤ 6) and POST …/<id>/follow-up marks one
followed up by the session's user, once; the time to follow up is measured.

In the fixture the low answers are I2's three (11-04 12:00: CSAT 2, CES 3,
NPS 6, on the edge of each scale) and I4's CSAT 1 (11-11 10:00); I7's CSAT 3,
I2's neighbours at 4+ and I4's CES 7 are not low.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from plugin.surveys import SurveyResponse, summary
from plugin.surveys.followup import follow_up

from ...conftest import API_KEY, SECRET, SHOP, db
from ...fake_shopify import make_session_token
from .conftest import RANGE, add_answers, at

OTHER = "other-shop.myshopify.com"
LIST = "/api/admin/surveys/low-answers"
COMMENT = "<script>alert(1)</script> Parcel came <b>late</b> & crushed"


def bearer(shop_domain=SHOP, user_id="42"):
    return {"Authorization": f"Bearer {make_session_token(API_KEY, SECRET, shop_domain, user_id=user_id)}"}


@pytest.fixture
def low(app, shop):
    add_answers(app, shop, comment=COMMENT)
    r = SurveyResponse
    rows = db().execute(select(r.id, r.kind, r.score).order_by(r.answered_at.desc(), r.id.desc())).all()
    return {(kind, score): answer_id for answer_id, kind, score in rows}


def test_the_list_holds_only_low_answers_newest_first_with_their_context(client, low):
    response = client.get(LIST, headers=bearer())
    assert response.status_code == 200
    body = response.json
    assert [(a["kind"], a["score"]) for a in body["items"]] == [("csat", 1), ("nps", 6), ("ces", 3), ("csat", 2)]
    assert body["total"] == 4 and body["pages"] == 1
    first = body["items"][0]
    assert first == {
        "id": low[("csat", 1)], "order": "#1004", "kind": "csat", "score": 1, "scale": {"min": 1, "max": 5},
        "comment": COMMENT, "carrier": "DHL", "days_late": None, "lateness": "unknown", "touchpoint": "return",
        "answered_at": "2026-11-11T10:00:00+00:00", "followed_up_at": None, "followed_up_by": None,
    }
    i2 = body["items"][1]
    assert (i2["order"], i2["carrier"], i2["days_late"], i2["lateness"]) == ("#1002", "UPS", 2, "late_1_2_days")


def test_following_up_records_who_and_when_once(client, low):
    answer_id = low[("ces", 3)]
    response = client.post(f"{LIST}/{answer_id}/follow-up", headers=bearer(user_id="staff-77"))
    assert response.status_code == 200
    assert response.json["followed_up_by"] == "staff-77" and response.json["followed_up_at"]
    stored = db().get(SurveyResponse, answer_id)
    assert stored.followed_up_by == "staff-77" and stored.followed_up_at is not None
    first_mark = stored.followed_up_at

    # A second mark (a double click, another admin) changes nothing and says whose it is.
    again = client.post(f"{LIST}/{answer_id}/follow-up", headers=bearer(user_id="staff-99"))
    assert again.status_code == 409
    assert again.json["answer"]["followed_up_by"] == "staff-77"
    stored = db().get(SurveyResponse, answer_id)
    assert (stored.followed_up_by, stored.followed_up_at) == ("staff-77", first_mark)

    done = client.get(LIST, headers=bearer(), query_string={"followed_up": "yes"}).json
    waiting = client.get(LIST, headers=bearer(), query_string={"followed_up": "no"}).json
    assert [a["id"] for a in done["items"]] == [answer_id]
    assert answer_id not in [a["id"] for a in waiting["items"]] and waiting["total"] == 3


def test_an_answer_that_is_not_low_or_not_there_is_404_and_nothing_changes(client, low, shop):
    not_low = db().scalar(select(SurveyResponse.id).where(SurveyResponse.kind == "ces", SurveyResponse.score == 7))
    for answer_id in (not_low, 999_999):
        response = client.post(f"{LIST}/{answer_id}/follow-up", headers=bearer())
        assert response.status_code == 404
    assert client.post(f"{LIST}/abc/follow-up", headers=bearer()).status_code == 404
    assert db().scalar(select(SurveyResponse.id).where(SurveyResponse.followed_up_at.is_not(None))) is None


def test_another_shops_token_sees_none_and_marks_none(client, low, runner):
    runner("shops", "add", OTHER, "--token", "t")
    assert client.get(LIST, headers=bearer(OTHER)).json["items"] == []
    response = client.post(f"{LIST}/{low[('csat', 1)]}/follow-up", headers=bearer(OTHER))
    assert response.status_code == 404
    assert COMMENT not in response.get_data(as_text=True)
    assert db().get(SurveyResponse, low[("csat", 1)]).followed_up_at is None


def test_without_a_session_token_nothing_is_listed_or_marked(client, low):
    assert client.get(LIST).status_code == 401
    assert client.post(f"{LIST}/{low[('csat', 1)]}/follow-up").status_code == 401
    expired = {"Authorization": "Bearer " + make_session_token(API_KEY, SECRET, SHOP, expires_in=-120)}
    assert client.post(f"{LIST}/{low[('csat', 1)]}/follow-up", headers=expired).status_code == 401
    assert db().get(SurveyResponse, low[("csat", 1)]).followed_up_at is None


@pytest.mark.parametrize("params, field", [
    ({"followed_up": "maybe"}, "followed_up"), ({"page": "0"}, "page"), ({"per_page": "-5"}, "per_page"),
    ({"page": "1e3"}, "page"),
])
def test_bad_parameters_are_422_naming_the_parameter(client, low, params, field):
    response = client.get(LIST, headers=bearer(), query_string=params)
    assert response.status_code == 422
    assert response.json["field"] == field


def test_pages_of_the_list(client, low):
    first = client.get(LIST, headers=bearer(), query_string={"per_page": 3}).json
    second = client.get(LIST, headers=bearer(), query_string={"per_page": 3, "page": 2}).json
    assert (first["pages"], len(first["items"]), len(second["items"])) == (2, 3, 1)
    assert second["items"][0]["id"] == low[("csat", 2)]


def test_two_admins_marking_at_once_leave_one_mark(app, low, live_server):
    answer_id = low[("nps", 6)]
    barrier = threading.Barrier(2)
    results = {}

    def mark(user):
        barrier.wait()
        results[user] = requests.post(f"{live_server}{LIST}/{answer_id}/follow-up", headers=bearer(user_id=user),
                                      timeout=10)

    threads = [threading.Thread(target=mark, args=(user,)) for user in ("ana", "ben")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in results.values()) == [200, 409]
    winner = next(user for user, r in results.items() if r.status_code == 200)
    assert results["ben" if winner == "ana" else "ana"].json()["answer"]["followed_up_by"] == winner
    assert db().get(SurveyResponse, answer_id).followed_up_by == winner


def test_the_time_to_follow_up_is_in_the_metrics(app, shop, low):
    session = db()
    follow_up(session, shop, low[("csat", 1)], "ana", now=at("11-11", 10) + timedelta(hours=6))
    follow_up(session, shop, low[("csat", 2)], "ben", now=at("11-04", 12) + timedelta(hours=24))
    session.commit()
    # 6 h and 24 h: median 15, p90 6 + 0.9 × 18 = 22.2; I2's CES and NPS still wait.
    assert summary(db(), shop, *RANGE)["follow_up_hours"] == {
        "count": 2, "median": pytest.approx(15), "p90": pytest.approx(22.2), "waiting": 2}
    empty = summary(db(), shop, at("01-05", 0), at("01-12", 0))["follow_up_hours"]
    assert empty == {"count": 0, "median": None, "p90": None, "waiting": 0}
    response = app.test_client().get("/api/admin/metrics", headers=bearer(),
                                     query_string={"from": "2026-11-02", "to": "2026-11-16"})
    assert response.json["follow_up_hours"]["median"] == pytest.approx(15)
