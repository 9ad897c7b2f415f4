"""Recording answers: on the scale or refused clearly, changeable until the
invitation expires, one row per question however many submits, and closed
for an order erased by customers/redact."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plugin.db import worker_session
from plugin.models import Order, Shop, utcnow
from plugin.surveys import (
    MAX_COMMENT,
    AnswerRefused,
    InvalidAnswer,
    SurveyInvitation,
    SurveyResponse,
    invite,
    mark_sent,
    record_answer,
)

from ...conftest import SHOP, database_dump, db, load_payload

JON = {"id": 115310627314723954, "email": "jon@example.com", "phone": "+15551234567"}


@pytest.fixture
def delivered_order(app, shop, webhooks, run_worker) -> int:
    """Jon's #1001, shipped by UPS, estimated 11-04, delivered 11-06: two days late."""
    webhooks.post("orders/create", load_payload("order_create"))
    webhooks.post("fulfillments/create", load_payload("fulfillment_create"))
    webhooks.post("fulfillment_events/create", load_payload("fulfillment_event_create"))
    delivered = load_payload("fulfillment_event_create")
    delivered.update(id=1234568, status="delivered", message="Delivered", happened_at="2026-11-06T10:00:00-05:00")
    webhooks.post("fulfillment_events/create", delivered)
    run_worker()
    return db().scalar(select(Order.id).where(Order.shop_id == shop, Order.name == "#1001"))


@pytest.fixture
def invitation(app, shop, delivered_order) -> int:
    session = db()
    shop_row = session.get(Shop, shop)
    made = invite(session, shop_row, session.get(Order, delivered_order), touchpoint="delivery",
                  kinds=["csat", "nps"], due_at=utcnow(), locale="en")
    mark_sent(made)
    session.commit()
    return made.id


def answer(shop: int, invitation: int, kind, score, comment=None) -> bool:
    session = db()
    low = record_answer(session, session.get(Shop, shop), session.get(SurveyInvitation, invitation), kind, score,
                        comment)
    session.commit()
    return low


def responses(shop: int) -> list[SurveyResponse]:
    return list(db().scalars(select(SurveyResponse).where(SurveyResponse.shop_id == shop).order_by(SurveyResponse.id)))


def test_an_answer_is_stored_with_its_order_carrier_products_and_lateness(app, shop, invitation, delivered_order):
    assert answer(shop, invitation, "csat", 4, "Quick, thanks") is False
    [row] = responses(shop)
    assert (row.kind, row.score, row.comment) == ("csat", 4, "Quick, thanks")
    assert (row.order_id, row.touchpoint, row.carrier, row.products, row.days_late, row.locale) == (
        delivered_order, "delivery", "UPS", ["IPod Nano - 8GB"], 2, "en")
    stored = db().get(SurveyInvitation, invitation)
    assert stored.status == "answered" and stored.answered_at == row.answered_at


@pytest.mark.parametrize("kind, score, low", [
    ("csat", 1, True), ("csat", 2, True), ("csat", 3, False), ("csat", 5, False),
    ("nps", 0, True), ("nps", 6, True), ("nps", 7, False), ("nps", 10, False),
])
def test_low_answers_are_reported(app, shop, invitation, kind, score, low):
    assert answer(shop, invitation, kind, score) is low


def test_ces_is_low_up_to_three(app, shop, delivered_order):
    session = db()
    made = invite(session, session.get(Shop, shop), session.get(Order, delivered_order), touchpoint="delivery",
                  kinds=["ces"], due_at=utcnow())
    mark_sent(made)
    session.commit()
    assert answer(shop, made.id, "ces", 3) is True
    assert answer(shop, made.id, "ces", 4) is False


@pytest.mark.parametrize("kind, score", [
    ("csat", 7), ("csat", -1), ("csat", 3.5), ("csat", 0), ("csat", True), ("csat", None), ("csat", "4.0"),
    ("csat", "abc"), ("nps", 11), ("nps", -1), ("nps", 9.0), ("csat", "99999999999999999999"),
])
def test_a_score_off_the_scale_is_refused_and_nothing_is_stored(app, shop, invitation, kind, score):
    with pytest.raises(InvalidAnswer) as refused:
        answer(shop, invitation, kind, score)
    assert refused.value.field == "score"
    low, high = (1, 5) if kind == "csat" else (0, 10)
    assert str(refused.value) == f"score: {kind} answers are whole numbers from {low} to {high}"
    db().rollback()
    assert responses(shop) == []
    assert db().get(SurveyInvitation, invitation).answered_at is None


def test_a_score_typed_in_a_form_is_accepted(app, shop, invitation):
    answer(shop, invitation, "nps", " 9 ")
    assert [r.score for r in responses(shop)] == [9]


@pytest.mark.parametrize("kind", ["ces", "sentiment", ""])
def test_a_question_the_survey_did_not_ask_is_refused(app, shop, invitation, kind):
    with pytest.raises(InvalidAnswer) as refused:
        answer(shop, invitation, kind, 3)
    assert refused.value.field == "kind"
    db().rollback()
    assert responses(shop) == []


def test_a_100_kb_comment_is_refused_and_the_score_not_half_saved(app, shop, invitation):
    with pytest.raises(InvalidAnswer) as refused:
        answer(shop, invitation, "csat", 5, "x" * 100_000)
    assert refused.value.field == "comment"
    assert f"at most {MAX_COMMENT} characters" in str(refused.value)
    db().rollback()
    assert responses(shop) == []
    answer(shop, invitation, "csat", 5, "y" * MAX_COMMENT)  # the limit itself is fine
    assert len(responses(shop)[0].comment) == MAX_COMMENT


def test_markup_is_kept_as_text_and_control_characters_dropped(app, shop, invitation):
    answer(shop, invitation, "csat", 1, "<script>alert(1)</script>\x00 <b>late</b>\r\nagain ")
    assert responses(shop)[0].comment == "<script>alert(1)</script> <b>late</b>\nagain"


def test_an_answer_can_be_changed_and_a_later_score_alone_keeps_the_comment(app, shop, invitation):
    answer(shop, invitation, "csat", 2, "Box was crushed")
    first = responses(shop)[0]
    assert first.changed_at is None
    assert answer(shop, invitation, "csat", 4) is False
    [row] = responses(shop)
    assert (row.id, row.score, row.comment, row.answered_at) == (first.id, 4, "Box was crushed", first.answered_at)
    assert row.changed_at is not None
    answer(shop, invitation, "csat", 4, "Support replaced it")
    assert [(r.score, r.comment) for r in responses(shop)] == [(4, "Support replaced it")]


def test_the_same_answer_twice_changes_nothing(app, shop, invitation):
    answer(shop, invitation, "nps", 8, "fine")
    answer(shop, invitation, "nps", 8, "fine")
    [row] = responses(shop)
    assert (row.score, row.comment, row.changed_at) == (8, "fine", None)


def test_an_expired_invitation_takes_no_answer_nor_change(app, shop, invitation):
    answer(shop, invitation, "csat", 3)
    session = db()
    session.get(SurveyInvitation, invitation).expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(AnswerRefused) as refused:
        answer(shop, invitation, "csat", 5)
    assert refused.value.reason == "expired"
    db().rollback()
    assert [r.score for r in responses(shop)] == [3]


def test_an_invitation_not_sent_yet_takes_no_answer(app, shop, delivered_order):
    session = db()
    made = invite(session, session.get(Shop, shop), session.get(Order, delivered_order), touchpoint="delivery",
                  kinds=["csat"], due_at=utcnow())
    session.commit()
    with pytest.raises(AnswerRefused) as refused:
        answer(shop, made.id, "csat", 5)
    assert refused.value.reason == "not_sent"


def test_another_shop_cannot_answer_this_shops_invitation(app, shop, invitation, runner):
    runner("shops", "add", "other-shop.myshopify.com", "--token", "t")
    session = db()
    other = session.scalar(select(Shop).where(Shop.domain == "other-shop.myshopify.com"))
    with pytest.raises(AnswerRefused) as refused:
        record_answer(session, other, session.get(SurveyInvitation, invitation), "csat", 5)
    assert refused.value.reason == "other_shop"
    session.rollback()
    assert responses(shop) == []


def test_two_concurrent_submits_leave_one_answer(app, shop, invitation):
    """Two requests submitting at the same moment (a double click), each in
    its own transaction and connection: both succeed, one row remains."""
    if db().get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time (BEGIN IMMEDIATE): there is no race")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def submit(score: int, comment: str):
        try:
            with worker_session(app) as session:
                shop_row = session.get(Shop, shop)
                invitation_row = session.get(SurveyInvitation, invitation)
                start.wait(timeout=10)
                record_answer(session, shop_row, invitation_row, "csat", score, comment)
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    for _ in range(5):
        threads = [threading.Thread(target=submit, args=(5, "great")), threading.Thread(target=submit, args=(5, "great"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == []
        assert [(r.score, r.comment) for r in responses(shop)] == [(5, "great")]
    count = db().scalar(select(func.count()).select_from(SurveyResponse))
    assert count == 1


def test_customer_redact_erases_comments_keeps_scores_and_closes_the_survey(app, shop, invitation, webhooks,
                                                                           run_worker):
    answer(shop, invitation, "csat", 2, "Leave it with my neighbour at 12 Elm Street")
    webhooks.post("customers/redact", {"shop_id": 1, "shop_domain": SHOP, "customer": JON,
                                       "orders_to_redact": [820982911946154508]})
    run_worker()
    assert "Elm Street" not in database_dump(app)
    [row] = responses(shop)
    assert (row.kind, row.score, row.comment) == ("csat", 2, None)
    stored = db().get(SurveyInvitation, invitation)
    assert (stored.status, stored.recipient_hash) == ("erased", None)
    with pytest.raises(AnswerRefused) as refused:
        answer(shop, invitation, "nps", 9, "one more thing")
    assert refused.value.reason == "erased"
    db().rollback()
    assert len(responses(shop)) == 1


def test_a_data_request_exports_the_customers_answers(app, shop, invitation, webhooks, run_worker):
    from plugin.models import DataExport
    answer(shop, invitation, "nps", 9, "Will buy again")
    webhooks.post("customers/data_request", {"shop_id": 1, "shop_domain": SHOP, "customer": JON,
                                             "orders_requested": [820982911946154508],
                                             "data_request": {"id": 9}})
    run_worker()
    export = db().scalar(select(DataExport).where(DataExport.shop_id == shop))
    [exported] = export.content["survey_responses"]
    assert (exported["order"], exported["kind"], exported["score"], exported["comment"]) == (
        "#1001", "nps", 9, "Will buy again")
