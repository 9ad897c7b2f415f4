"""Survey invitations: decided by the worker's scan after the last parcel is
delivered (or shipped long ago) plus survey.delay_hours, once per order and
touchpoint, through the outbox; never to the unsubscribed, the capped, the
refunded or cancelled; held by delivery exceptions and open returns."""

from __future__ import annotations

from datetime import timedelta

import re

import pytest
from sqlalchemy import func, select

from plugin import outbox, settings
from plugin.db import worker_session
from plugin.models import Fulfillment, Notification, Order, Shop
from plugin.notifications.suppressions import Category, suppress
from plugin.returns.models import ReturnRequest
from plugin import links
from plugin.surveys import SurveyInvitation, sending

from ...conftest import db
from ...notifications.orders import START, add_order

DELIVERED = START + timedelta(days=2, hours=3)  # add_order's "delivered" event
DUE = DELIVERED + timedelta(hours=48)


def invitations(shop: int) -> list[SurveyInvitation]:
    return list(db().scalars(select(SurveyInvitation).where(SurveyInvitation.shop_id == shop)
                             .order_by(SurveyInvitation.id)))


def survey_rows(shop: int) -> list[Notification]:
    return list(db().scalars(select(Notification).where(Notification.shop_id == shop, Notification.kind == "survey")
                             .order_by(Notification.id)))


def links_of(text: str) -> list[dict]:
    """The fields of every answer link (/s/<token>) in a text, in order."""
    return [links.load("survey", token) for token in re.findall(r"/s/([A-Za-z0-9_.\-]+)", text)]


def configure(shop: int, **values) -> None:
    session = db()
    settings.update(session, shop, {key.replace("__", "."): value for key, value in values.items()})
    session.commit()


def scan(app, at) -> int:
    count = sending.scan(app, at)
    db().expire_all()
    return count


def test_a_delivered_order_gets_one_invitation_once_the_delay_has_passed(app, shop):
    order_id, _ = add_order(app, shop, status="delivered")
    assert scan(app, DUE - timedelta(minutes=1)) == 0
    assert invitations(shop) == [] and survey_rows(shop) == []
    assert scan(app, DUE + timedelta(minutes=1)) == 1
    [invitation] = invitations(shop)
    assert (invitation.order_id, invitation.touchpoint, invitation.kinds, invitation.status) == (
        order_id, "delivery", ["csat", "ces"], "pending")
    assert (invitation.carrier, invitation.products, invitation.days_late) == ("UPS", ["Linen shirt", "Canvas tote"],
                                                                                -2)
    [row] = survey_rows(shop)
    assert (row.recipient, row.context, row.status) == ("ana@example.com", {"invitation_id": invitation.id}, "pending")
    # Scanned again, and again much later: still one of each.
    assert scan(app, DUE + timedelta(minutes=5)) == 0
    assert scan(app, DUE + timedelta(days=3)) == 0
    assert len(invitations(shop)) == 1 and len(survey_rows(shop)) == 1


def test_the_same_invitation_decided_twice_exists_once(app, shop):
    order_id, _ = add_order(app, shop, status="delivered")
    with worker_session(app) as session, session.begin():
        shop_row = session.get(Shop, shop)
        order = session.get(Order, order_id)
        config = settings.load(session, shop)
        assert sending.decide_delivery(session, shop_row, order, config, DUE) == "queued"
        # What a second worker that read the order before the first committed would do.
        assert sending._make(session, shop_row, order, config, DUE, touchpoint="delivery", kinds=["csat"],
                             key=sending.delivery_key(order_id)) == "exists"
    assert len(invitations(shop)) == 1 and len(survey_rows(shop)) == 1


def test_the_email_goes_through_the_outbox_and_opens_the_answer_window(app, shop, smtp):
    add_order(app, shop, status="delivered")
    scan(app, DUE)
    outbox.process_due(app)
    [message] = smtp.messages
    assert message["Subject"] == "How was your order #1001?"
    assert message["To"] == "ana@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "How satisfied are you with your order?" in text
    urls = links_of(text)
    assert [u["score"] for u in urls] == [1, 2, 3, 4, 5]
    invitation = invitations(shop)[0]
    assert {(u["shop_id"], u["invitation_id"], u["question"]) for u in urls} == {(shop, invitation.id, "csat")}
    assert "List-Unsubscribe" in message and "/u/" in message["List-Unsubscribe"]
    assert (invitation.status, invitation.notification_id) == ("sent", survey_rows(shop)[0].id)
    assert invitation.expires_at - invitation.sent_at == timedelta(days=30)


def test_the_shops_survey_kinds_are_asked(app, shop):
    configure(shop, survey__kinds=["nps"])
    add_order(app, shop, status="delivered")
    scan(app, DUE)
    assert invitations(shop)[0].kinds == ["nps"]


def test_no_survey_kinds_means_no_surveys(app, shop):
    configure(shop, survey__kinds=[])
    add_order(app, shop, status="delivered")
    assert scan(app, DUE) == 0 and invitations(shop) == []


def test_an_address_unsubscribed_from_surveys_gets_none(app, shop):
    with worker_session(app) as session, session.begin():
        suppress(session, shop, "ANA@example.com", Category.SURVEYS)
    add_order(app, shop, status="delivered")
    assert scan(app, DUE) == 0
    [invitation] = invitations(shop)
    assert invitation.status == "skipped" and survey_rows(shop) == []


def test_an_unsubscribe_after_queueing_stops_the_email(app, shop, smtp):
    add_order(app, shop, status="delivered")
    scan(app, DUE)
    with worker_session(app) as session, session.begin():
        suppress(session, shop, "ana@example.com", Category.SURVEYS)
    outbox.process_due(app)
    assert smtp.messages == []
    assert (survey_rows(shop)[0].status, survey_rows(shop)[0].error) == ("skipped", "unsubscribed")
    assert invitations(shop)[0].status == "skipped"


def test_one_survey_per_address_within_the_cap(app, shop):
    add_order(app, shop, status="delivered")
    add_order(app, shop, status="delivered", shopify_id=820982911946154999, name="#1002")
    assert scan(app, DUE) == 1
    first, second = invitations(shop)
    assert (first.status, second.status) == ("pending", "skipped")
    assert len(survey_rows(shop)) == 1


def test_a_cap_of_zero_days_surveys_every_order(app, shop):
    configure(shop, survey__cap_days=0)
    add_order(app, shop, status="delivered")
    add_order(app, shop, status="delivered", shopify_id=820982911946154999, name="#1002")
    assert scan(app, DUE) == 2


@pytest.mark.parametrize("financial_status", ["refunded", "voided"])
def test_a_fully_refunded_order_gets_none(app, shop, financial_status):
    order_id, _ = add_order(app, shop, status="delivered")
    with worker_session(app) as session, session.begin():
        session.get(Order, order_id).financial_status = financial_status
    assert scan(app, DUE) == 0 and invitations(shop) == []


def test_a_cancelled_order_gets_none(app, shop):
    order_id, _ = add_order(app, shop, status="delivered")
    with worker_session(app) as session, session.begin():
        session.get(Order, order_id).cancelled_at = START
    assert scan(app, DUE) == 0 and invitations(shop) == []


def test_refunded_after_queueing_the_email_is_skipped(app, shop, smtp):
    order_id, _ = add_order(app, shop, status="delivered")
    scan(app, DUE)
    with worker_session(app) as session, session.begin():
        session.get(Order, order_id).financial_status = "refunded"
    outbox.process_due(app)
    assert smtp.messages == [] and survey_rows(shop)[0].error == "order refunded"


def test_a_delivery_exception_holds_the_survey_until_it_resolves(app, shop):
    order_id, fulfillment_ids = add_order(app, shop, parcels=2, status="delivered")
    with worker_session(app) as session, session.begin():
        parcel = session.get(Fulfillment, fulfillment_ids[1])
        parcel.shipment_status, parcel.delivered_at = "failure", None
    assert scan(app, DUE + timedelta(days=20)) == 0
    with worker_session(app) as session, session.begin():
        parcel = session.get(Fulfillment, fulfillment_ids[1])
        parcel.shipment_status, parcel.delivered_at = "delivered", DUE + timedelta(days=19)
    assert scan(app, DUE + timedelta(days=20)) == 0  # delivered a day ago: the delay counts from the last parcel
    assert scan(app, DUE + timedelta(days=21, minutes=1)) == 1


def test_without_a_delivery_report_the_fallback_counts_from_shipping(app, shop):
    _, [fulfillment_id] = add_order(app, shop, status="in_transit")
    with worker_session(app) as session:
        shipped = session.get(Fulfillment, fulfillment_id).shopify_created_at
    due = shipped + sending.FALLBACK + timedelta(hours=48)
    assert scan(app, due - timedelta(minutes=1)) == 0
    assert scan(app, due) == 1


def test_an_open_return_holds_the_survey_and_a_closed_one_gets_its_own(app, shop):
    configure(shop, survey__cap_days=0)
    order_id, _ = add_order(app, shop, status="delivered")
    with worker_session(app) as session, session.begin():
        session.add(ReturnRequest(shop_id=shop, order_id=order_id, key="k1", fingerprint="f", status="approved",
                                  requested_at=DELIVERED))
    assert scan(app, DUE) == 0
    closed = DUE + timedelta(days=1)
    with worker_session(app) as session, session.begin():
        request = session.scalar(select(ReturnRequest).where(ReturnRequest.shop_id == shop))
        request.status, request.closed_at = "closed", closed
    assert scan(app, closed) == 1  # the delivery survey, held until now
    assert scan(app, closed + timedelta(hours=48)) == 1  # the return's own, CES only
    delivery, returned = invitations(shop)
    assert (delivery.touchpoint, returned.touchpoint, returned.kinds) == ("delivery", "return", ["ces"])
    assert returned.return_request_id is not None
    assert scan(app, closed + timedelta(days=5)) == 0


def test_no_return_survey_when_after_return_is_off(app, shop):
    configure(shop, survey__after_return=False, survey__cap_days=0)
    order_id, _ = add_order(app, shop, status="delivered")
    closed = DUE + timedelta(days=1)
    with worker_session(app) as session, session.begin():
        session.add(ReturnRequest(shop_id=shop, order_id=order_id, key="k1", fingerprint="f", status="closed",
                                  requested_at=DELIVERED, closed_at=closed))
    scan(app, closed + timedelta(hours=49))
    assert [i.touchpoint for i in invitations(shop)] == ["delivery"]


def test_quiet_hours_hold_the_email_until_morning(app, shop):
    configure(shop, notifications__quiet_hours="00:00-23:59")
    add_order(app, shop, status="delivered")
    scan(app, DUE)
    assert survey_rows(shop)[0].next_attempt_at > DUE


def test_a_delivery_long_ago_is_not_surveyed(app, shop):
    add_order(app, shop, status="delivered")
    assert scan(app, DELIVERED + sending.RECENT + timedelta(days=1)) == 0


def test_the_worker_job_scans_at_most_once_a_minute(app, shop):
    add_order(app, shop, status="delivered")
    clock = [DUE - timedelta(minutes=1)]
    job = sending.job(lambda: clock[0])
    app.extensions.pop("aftercare.surveys.last_scan", None)
    assert job(app) == 0
    clock[0] = DUE - timedelta(seconds=30)
    assert job(app) == 0  # scanned 30 s ago: not again yet
    clock[0] = DUE + timedelta(minutes=1)
    assert job(app) == 1
    app.extensions.pop("aftercare.surveys.last_scan", None)
    assert db().scalar(select(func.count()).select_from(SurveyInvitation)) == 1


def test_a_partly_fulfilled_order_waits_for_the_rest(app, shop):
    order_id, _ = add_order(app, shop, status="delivered")
    with worker_session(app) as session, session.begin():
        session.get(Order, order_id).fulfillment_status = "partial"
    assert scan(app, DUE + timedelta(days=3)) == 0 and invitations(shop) == []
    with worker_session(app) as session, session.begin():
        session.get(Order, order_id).fulfillment_status = "fulfilled"
    assert scan(app, DUE + timedelta(days=3)) == 1
