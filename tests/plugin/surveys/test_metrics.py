"""Every survey figure against the fixture in conftest.py, worked out by hand.

In the range [11-02, 11-16): CSAT answers 5, 2, 4, 1, 3 (I6's is after the
range); CES 6, 3, 7; NPS 10, 6, 9; invitations sent I1–I5 (I7 was sent before
the range), of which I1–I4 were answered.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from plugin.surveys import SurveyInvitation, durations_summary, lateness, summary

from ...conftest import db
from .conftest import RANGE, at

approx = pytest.approx


def figures(part: dict) -> dict:
    """The headline figures of a summary (or breakdown group), for comparing."""
    return {
        "csat": (part["csat"]["count"], part["csat"]["share"]),
        "ces": (part["ces"]["count"], part["ces"]["mean"], part["ces"]["share"]),
        "nps": (part["nps"]["count"], part["nps"]["score"]),
        "rate": (part["response_rate"]["sent"], part["response_rate"]["answered"], part["response_rate"]["rate"]),
    }


TOTALS = {"csat": (5, 0.4), "ces": (3, approx(16 / 3), approx(2 / 3)), "nps": (3, approx(100 / 3)),
          "rate": (5, 4, 0.8)}


def test_totals_over_the_range(app, shop, answered):
    result = summary(db(), shop, *RANGE)
    assert figures(result) == TOTALS
    assert result["csat"]["satisfied"] == 2
    assert result["nps"]["promoters"] == 2 and result["nps"]["detractors"] == 1
    assert "breakdown" not in result


@pytest.mark.parametrize("by, expected", [
    ("carrier", {
        "DHL": {"csat": (2, 0.5), "ces": (1, 7, 1.0), "nps": (1, 100), "rate": (2, 2, 1.0)},
        "UPS": {"csat": (2, 0.5), "ces": (2, 4.5, 0.5), "nps": (2, 0), "rate": (3, 2, approx(2 / 3))},
        None: {"csat": (1, 0.0), "ces": (0, None, None), "nps": (0, None), "rate": (0, 0, None)},
    }),
    ("lateness", {
        "on_time": {"csat": (1, 1.0), "ces": (1, 6, 1.0), "nps": (1, 100), "rate": (2, 1, 0.5)},
        "late_1_2_days": {"csat": (1, 0.0), "ces": (1, 3, 0.0), "nps": (1, -100), "rate": (1, 1, 1.0)},
        "late_3_plus_days": {"csat": (1, 1.0), "ces": (0, None, None), "nps": (1, 100), "rate": (1, 1, 1.0)},
        "unknown": {"csat": (2, 0.0), "ces": (1, 7, 1.0), "nps": (0, None), "rate": (1, 1, 1.0)},
    }),
    ("touchpoint", {
        "delivery": {"csat": (4, 0.5), "ces": (2, 4.5, 0.5), "nps": (3, approx(100 / 3)), "rate": (4, 3, 0.75)},
        "return": {"csat": (1, 0.0), "ces": (1, 7, 1.0), "nps": (0, None), "rate": (1, 1, 1.0)},
    }),
    ("product", {
        "Mug": {"csat": (3, approx(1 / 3)), "ces": (2, 4.5, 0.5), "nps": (2, 0), "rate": (2, 2, 1.0)},
        "Tee": {"csat": (3, approx(1 / 3)), "ces": (2, 5, 0.5), "nps": (2, 0), "rate": (3, 3, 1.0)},
    }),
    ("week", {
        "2026-11-02": {"csat": (3, approx(1 / 3)), "ces": (2, 4.5, 0.5), "nps": (2, 0), "rate": (2, 2, 1.0)},
        "2026-11-09": {"csat": (2, 0.5), "ces": (1, 7, 1.0), "nps": (1, 100), "rate": (3, 2, approx(2 / 3))},
    }),
])
def test_breakdowns(app, shop, answered, by, expected):
    result = summary(db(), shop, *RANGE, by=by)
    assert figures(result) == TOTALS  # with by=product too, where groups overlap
    assert [group["key"] for group in result["breakdown"]] == list(expected)
    assert {group["key"]: figures(group) for group in result["breakdown"]} == expected


def test_an_empty_range_has_counts_of_zero_and_no_figures(app, shop, answered):
    start, end = at("01-05", 0), at("01-19", 0)
    empty = {"csat": (0, None), "ces": (0, None, None), "nps": (0, None), "rate": (0, 0, None)}
    assert figures(summary(db(), shop, start, end)) == empty
    assert summary(db(), shop, start, end, by="carrier")["breakdown"] == []
    weeks = summary(db(), shop, start, end, by="week")["breakdown"]
    assert [w["key"] for w in weeks] == ["2026-01-05", "2026-01-12"]
    assert all(figures(w) == empty for w in weeks)
    buckets = summary(db(), shop, start, end, by="lateness")["breakdown"]
    assert [b["key"] for b in buckets] == ["on_time", "late_1_2_days", "late_3_plus_days", "unknown"]
    assert all(figures(b) == empty for b in buckets)


def test_a_single_answer(app, shop, answered):
    result = summary(db(), shop, at("11-20", 0), at("11-21", 0), by="product")
    assert figures(result) == {"csat": (1, 1.0), "ces": (0, None, None), "nps": (0, None), "rate": (1, 1, 1.0)}
    assert [(g["key"], figures(g)["csat"]) for g in result["breakdown"]] == [("Mug", (1, 1.0))]


def test_the_range_end_is_exclusive(app, shop, answered):
    # I1's answers are at 11-02 12:00 exactly.
    assert summary(db(), shop, at("11-01", 0), at("11-02", 12))["csat"]["count"] == 0
    assert summary(db(), shop, at("11-02", 12), at("11-02", 13))["csat"]["count"] == 1


def test_another_shops_answers_are_not_counted(app, shop, answered, runner):
    from .conftest import add_answers
    from plugin import shops
    runner("shops", "add", "other-shop.myshopify.com", "--token", "t")
    other = shops.by_domain(db(), "other-shop.myshopify.com").id
    add_answers(app, other)
    assert figures(summary(db(), shop, *RANGE)) == TOTALS


def test_lateness_buckets():
    assert [lateness(d) for d in (None, -3, 0, 1, 2, 3, 40)] == [
        "unknown", "on_time", "on_time", "late_1_2_days", "late_1_2_days", "late_3_plus_days", "late_3_plus_days"]


def test_median_and_p90_of_durations(app, shop, answered):
    # Hours from sending to the first answer: I1 2, I2 26, I3 4, I4 24, I6 3, I7 98 (I5 unanswered).
    # Sorted 2 3 4 24 26 98: median between 4 and 24 = 14; p90 at 4.5 = 26 + (98 - 26) / 2 = 62.
    i = SurveyInvitation
    pairs = select(i.sent_at, i.answered_at).where(i.shop_id == shop)
    assert durations_summary(db(), pairs) == {"count": 6, "median": approx(14), "p90": approx(62)}
    one = pairs.where(i.sent_at >= at("11-20", 0))
    assert durations_summary(db(), one) == {"count": 1, "median": approx(3), "p90": approx(3)}
    none = pairs.where(i.sent_at >= at("12-01", 0))
    assert durations_summary(db(), none) == {"count": 0, "median": None, "p90": None}


def test_return_times_are_empty_without_returns(app, shop, answered):
    # With returns: tests/plugin/test_admin_dashboard.py, test_the_figures_of_the_range.
    result = summary(db(), shop, *RANGE)
    assert result["first_response_hours"] == {"count": 0, "median": None, "p90": None}
    assert result["resolution_hours"] == {"count": 0, "median": None, "p90": None}
