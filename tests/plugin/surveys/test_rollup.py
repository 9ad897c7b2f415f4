"""The daily counts behind the metrics (plugin/surveys/rollup.py) stay what a
recount gives, whatever writes the answers and invitations (the answer page's
upsert, a score changed, an invitation sent then answered, an order erased
with its answers, a shop erased), and the metrics read through them equal
the metrics read from every answer, for ranges that start and end mid-day."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text

from plugin import shops
from plugin.db import worker_session
from plugin.models import Order, Shop
from plugin.surveys import SurveyInvitation, metrics, rollup, summary
from plugin.surveys.answers import record_answer
from plugin.surveys.models import SurveyAnswerDay, SurveyInvitationDay, SurveyResponse

from ...conftest import db
from .conftest import add_answers, at

START = datetime(2026, 11, 2, tzinfo=timezone.utc)


def counts(app) -> tuple[set, set]:
    """Both tables, without groups counted down to nothing."""
    with worker_session(app) as session:
        answers = {tuple(row) for row in session.execute(select(
            SurveyAnswerDay.shop_id, SurveyAnswerDay.day, SurveyAnswerDay.dimension, SurveyAnswerDay.key,
            SurveyAnswerDay.kind, SurveyAnswerDay.score, SurveyAnswerDay.answers).where(SurveyAnswerDay.answers != 0))}
        invitations = {tuple(row) for row in session.execute(select(
            SurveyInvitationDay.shop_id, SurveyInvitationDay.day, SurveyInvitationDay.dimension,
            SurveyInvitationDay.key, SurveyInvitationDay.sent, SurveyInvitationDay.answered)
            .where(SurveyInvitationDay.sent != 0))}
    return answers, invitations


def recount(app) -> tuple[set, set]:
    with worker_session(app) as session, session.begin():
        rollup.backfill(session.connection())
    return counts(app)


def random_invitations(seed: int, n: int = 60, start: datetime = START, days: int = 20) -> dict:
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        sent = start + timedelta(hours=rng.randint(0, 24 * days), minutes=rng.randint(0, 59))
        answers = []
        for kind, top, low in (("csat", 5, 1), ("ces", 7, 1), ("nps", 10, 0)):
            if rng.random() < 0.7:
                answers.append((kind, rng.randint(low, top), sent + timedelta(hours=rng.randint(1, 60))))
        products = rng.sample(["Mug", "Tee", "Cap"], rng.randint(0, 2)) + (["Mug"] if i % 9 == 0 else [])  # Mug twice
        out[f"R{i}"] = (sent, rng.choice(["UPS", "DHL", "", None]), products,
                        rng.choice([None, -1, 0, 1, 2, 3, 9]), rng.choice(["delivery", "return"]), answers)
    return out


def test_the_triggers_keep_what_a_recount_gives(app, shop):
    ids = add_answers(app, shop, random_invitations(1))
    kept = counts(app)
    assert kept[0] and kept[1]
    assert recount(app) == kept

    with worker_session(app) as session, session.begin():
        shop_row = session.get(Shop, shop)
        pending = SurveyInvitation(shop_id=shop, order_id=session.scalar(select(Order.id).limit(1)),
                                   touchpoint="delivery", kinds=["csat"], carrier="FedEx", days_late=1,
                                   status="pending", due_at=START, locale="en")
        session.add(pending)
        session.flush()
        from plugin.surveys.invitations import mark_sent
        mark_sent(pending, at=datetime.now(timezone.utc))  # sent: counted from now
        session.flush()
        record_answer(session, shop_row, pending, "csat", 2)  # answered through the page's upsert
        record_answer(session, shop_row, pending, "csat", 5)  # and changed
        changed = session.get(SurveyInvitation, ids["R3"])
        changed.carrier = "La Poste"  # a snapshot corrected
        changed.products = ["Tee", "Tee", "Scarf"]
        with_products = [a for a in session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)) if a.products]
        with_products[0].products = ["Scarf"]  # an answer's products changed
    kept = counts(app)  # read before the recount, which rewrites the tables
    assert recount(app) == kept

    with worker_session(app) as session, session.begin():  # an order erased, its answers with it (cascade)
        order_id = [a.order_id for a in session.scalars(select(SurveyResponse).order_by(SurveyResponse.id))
                    if len(a.products) > 1][0]
        session.execute(delete(Order).where(Order.id == order_id))
    kept = counts(app)  # read before the recount, which rewrites the tables
    assert recount(app) == kept


def test_erasing_the_shop_erases_its_counts(app, shop):
    add_answers(app, shop, random_invitations(2, 10))
    with worker_session(app) as session, session.begin():
        shops.delete_data(session, shop)
    assert counts(app) == (set(), set())
    with worker_session(app) as session:
        assert session.execute(text("SELECT count(*) FROM survey_answer_days")).scalar() == 0


@pytest.mark.parametrize("by", [None, "week", "carrier", "touchpoint", "lateness", "product"])
def test_metrics_through_the_daily_counts_equal_metrics_from_every_answer(app, shop, monkeypatch, by):
    add_answers(app, shop, random_invitations(3, 150, start=at("10-20", 5), days=45))
    ranges = [(START, START + timedelta(days=21)),                                   # whole days
              (START + timedelta(hours=7, minutes=30), START + timedelta(days=12, hours=17)),  # mid-day ends
              (at("11-05", 3), at("11-05", 20)),                                      # inside one day
              (at("11-04", 23), at("11-06", 1)),                                      # one whole day
              (at("10-01", 0), at("12-01", 0)),                                       # whole months
              (at("10-25", 13), at("12-02", 9))]                                      # a month and days around it
    through = [summary(db(), shop, start, end, by) for start, end in ranges]
    monkeypatch.setattr(metrics, "_whole_days", lambda start, end: None)  # every row read
    assert through == [summary(db(), shop, start, end, by) for start, end in ranges]
    assert through[0]["csat"]["count"] > 20 and through[4]["csat"]["count"] > through[0]["csat"]["count"]
