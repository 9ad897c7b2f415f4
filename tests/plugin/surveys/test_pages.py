"""The answer page /s/<token>: a GET shows the chosen score and records
nothing (the page posts it itself); the POST records it and asks the rest;
bad links get a friendly 4xx; low answers alert the merchant."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from plugin import links, outbox, settings
from plugin.db import worker_session
from plugin.models import Notification, Order, Shop, utcnow
from plugin.surveys import MAX_COMMENT, SurveyInvitation, SurveyResponse, invite, mark_sent

from ...conftest import SHOP, db
from ...notifications.orders import ORDER_ID, add_order


@pytest.fixture
def invitation(app, shop) -> int:
    order_id, _ = add_order(app, shop, status="delivered")
    with worker_session(app) as session, session.begin():
        made = invite(session, session.get(Shop, shop), session.get(Order, order_id), touchpoint="delivery",
                      kinds=["csat", "ces"], due_at=utcnow(), locale="en")
        mark_sent(made)
        session.flush()
        return made.id


def path(shop: int, invitation: int, question: str = "csat", score=4) -> str:
    token = links.dumps("survey", shop_id=shop, invitation_id=invitation, question=question, score=score)
    return f"/s/{token}"


def answers(shop: int) -> list[tuple[str, int, str | None]]:
    return [(r.kind, r.score, r.comment) for r in db().scalars(
        select(SurveyResponse).where(SurveyResponse.shop_id == shop).order_by(SurveyResponse.kind))]


def test_opening_a_score_link_shows_it_chosen_and_records_nothing(client, shop, invitation):
    url = path(shop, invitation, score=4)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'<li class="shown chosen" aria-current="true">4', html)
    assert html.count('class="shown chosen"') == 1
    assert '<input type="hidden" name="csat" value="4">' in html
    assert "Confirm my answer" in html  # the no-JS visitor's one button
    nonce = re.search(r"<script nonce=\"([^\"]+)\">", html).group(1)
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src 'nonce-{nonce}'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert client.head(url).status_code == 200
    assert answers(shop) == []
    assert db().get(SurveyInvitation, invitation).answered_at is None


def test_the_post_records_the_score_and_asks_the_rest(client, shop, invitation):
    page = client.post(path(shop, invitation, score=4), data={"step": "score", "csat": "4"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert answers(shop) == [("csat", 4, None)]
    assert "Thank you! Your answer is saved." in html
    assert '<input type="radio" name="csat" value="4" checked>' in html
    assert "How easy was it to get your order?" in html and 'name="ces"' in html
    assert "script-src 'none'" in page.headers["Content-Security-Policy"] and "<script" not in html


def test_the_other_question_and_a_comment_are_kept_escaped(client, shop, invitation):
    url = path(shop, invitation, score=5)
    client.post(url, data={"step": "score", "csat": "5"})
    page = client.post(url, data={"step": "details", "csat": "5", "ces": "6",
                                  "comment": "<script>alert(1)</script> great"})
    html = page.get_data(as_text=True)
    assert answers(shop) == [("ces", 6, None), ("csat", 5, "<script>alert(1)</script> great")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; great</textarea>" in html and "<script>alert" not in html
    assert "Thank you for your feedback!" in html
    # Changed later from the same link: still one answer per question.
    client.post(url, data={"step": "details", "csat": "3", "ces": "6", "comment": ""})
    assert answers(shop) == [("ces", 6, None), ("csat", 3, "<script>alert(1)</script> great")]


def test_a_100_kb_comment_is_refused_and_nothing_changes(client, shop, invitation):
    url = path(shop, invitation)
    client.post(url, data={"step": "score", "csat": "4"})
    page = client.post(url, data={"step": "details", "csat": "1", "comment": "x" * 100_000})
    assert page.status_code == 422
    assert f"at most {MAX_COMMENT} characters" in page.get_data(as_text=True)
    assert answers(shop) == [("csat", 4, None)]


@pytest.mark.parametrize("score", ["7", "-1", "3.5", "abc"])
def test_a_tampered_score_in_the_form_is_refused(client, shop, invitation, score):
    page = client.post(path(shop, invitation), data={"step": "score", "csat": score})
    assert page.status_code == 422
    assert "Please choose one of the scores shown." in page.get_data(as_text=True)
    assert answers(shop) == []


@pytest.mark.parametrize("question, score", [("csat", 7), ("csat", -1), ("csat", 3.5), ("csat", True),
                                             ("nps", 9), ("csat", "4")])
def test_a_signed_link_with_a_score_or_question_off_the_survey_is_a_friendly_400(client, shop, invitation,
                                                                                   question, score):
    for method in (client.get, client.post):
        page = method(path(shop, invitation, question=question, score=score), data={"csat": "4"})
        assert page.status_code == 400
        html = page.get_data(as_text=True)
        assert "This link does not work" in html and "Maison Ana" in html
    assert answers(shop) == []


def test_a_forged_or_cut_link_is_a_friendly_404(client, shop, invitation):
    good = path(shop, invitation)
    head, signature = good.rsplit(".", 1)
    # The signature's first character carries six whole bits (its last may not).
    tampered = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for bad in (good[:-8], tampered, "/s/nonsense"):
        page = client.post(bad, data={"csat": "4"})
        assert page.status_code == 404
        assert "This link does not work" in page.get_data(as_text=True)
    # A link made for another purpose (the tracking page's) is not a survey link.
    track = links.dumps("track", shop_id=shop, order_id=1)
    assert client.get(f"/s/{track}").status_code == 404
    assert answers(shop) == []


def test_an_expired_link_is_a_friendly_410(client, shop, invitation, monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 31 * 86400)
    old = path(shop, invitation)
    monkeypatch.setattr(time, "time", real)
    page = client.post(old, data={"csat": "4"})
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)
    assert answers(shop) == []


def test_an_expired_invitation_takes_no_more_changes(app, client, shop, invitation):
    url = path(shop, invitation)
    client.post(url, data={"csat": "4"})
    with worker_session(app) as session, session.begin():
        session.execute(update(SurveyInvitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    page = client.post(url, data={"csat": "1"})
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)
    assert client.get(url).status_code == 410
    assert answers(shop) == [("csat", 4, None)]


def test_another_shops_link_does_not_reach_this_shops_survey(client, shop, invitation, runner):
    runner("shops", "add", "other-shop.myshopify.com", "--token", "t")
    other = db().scalar(select(Shop.id).where(Shop.domain == "other-shop.myshopify.com"))
    page = client.post(path(other, invitation), data={"csat": "1"})
    assert page.status_code == 404 and "This order is no longer available" in page.get_data(as_text=True)
    assert answers(shop) == []


def test_an_order_erased_by_customers_redact_takes_no_answer(client, shop, invitation, webhooks, run_worker):
    url = path(shop, invitation)
    client.post(url, data={"step": "details", "csat": "2", "comment": "Left at 12 Elm Street"})
    webhooks.post("customers/redact", {"shop_id": 1, "shop_domain": SHOP,
                                       "customer": {"id": 1, "email": "ana@example.com"},
                                       "orders_to_redact": [ORDER_ID]})
    run_worker()
    assert answers(shop) == [("csat", 2, None)]  # the comment is erased, the anonymous score stays
    for method in (client.get, client.post):
        page = method(url, data={"csat": "5", "comment": "again"})
        assert page.status_code == 410 and "This order is no longer available" in page.get_data(as_text=True)
    assert answers(shop) == [("csat", 2, None)]


def test_the_page_speaks_the_orders_language(app, client, shop, invitation):
    with worker_session(app) as session, session.begin():
        session.execute(update(SurveyInvitation).values(locale="fr"))
    html = client.get(path(shop, invitation)).get_data(as_text=True)
    assert '<html lang="fr">' in html and "Êtes-vous satisfait de votre commande ?" in html
    html = client.post(path(shop, invitation), data={"csat": "4"}).get_data(as_text=True)
    assert "Merci ! Votre réponse est enregistrée." in html


def test_double_submits_racing_leave_one_answer(app, shop, invitation, live_server):
    url = live_server + path(shop, invitation, score=5)
    start = threading.Barrier(4)
    statuses: list[int] = []

    def submit():
        start.wait(timeout=10)
        statuses.append(requests.post(url, data={"step": "score", "csat": "5"}, timeout=30).status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [200] * 4
    assert answers(shop) == [("csat", 5, None)]


# --- the low-score alert ---------------------------------------------------------

def _alert_rows(shop: int) -> list[Notification]:
    return list(db().scalars(select(Notification).where(Notification.shop_id == shop,
                                                        Notification.kind == "low_score_alert")))


def _due_now(app) -> None:
    with worker_session(app) as session, session.begin():
        session.execute(update(Notification).where(Notification.kind == "low_score_alert")
                        .values(next_attempt_at=utcnow()))


def test_a_low_score_emails_the_alert_address_with_the_order_and_comment(app, client, shop, invitation, smtp):
    session = db()
    settings.update(session, shop, {"alerts.low_score_email": "care@maison-ana.example"})
    session.commit()
    url = path(shop, invitation, score=2)
    before = utcnow()
    client.post(url, data={"step": "score", "csat": "2"})
    [row] = _alert_rows(shop)
    assert row.recipient == "care@maison-ana.example" and row.context == {"invitation_id": invitation}
    assert timedelta(0) < row.next_attempt_at - before <= timedelta(minutes=1)  # within the minute
    client.post(url, data={"step": "details", "csat": "2", "ces": "2", "comment": "Box <b>crushed</b>"})
    assert len(_alert_rows(shop)) == 2  # CES 2 is low too: one per question
    _due_now(app)
    outbox.process_due(app)
    assert len(smtp.messages) == 2
    message = smtp.messages[0]
    assert message["To"] == "care@maison-ana.example"
    assert message["Subject"] == "Low survey score (CSAT 2) for order #1001"
    assert message["Reply-To"] == "ana@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "CSAT  2 on 1-5" in text and "<- low" in text
    assert "> Box <b>crushed</b>" in text
    assert "Parcel 1 of 1: Delivered, UPS: 2 days early" in text
    assert "Tracking: 1Z999AA10123456780" in text
    assert (f"https://{SHOP}/admin/apps/{app.config['SHOPIFY_API_KEY']}/app/orders?q=%231001") in text


def test_no_alert_without_an_address_nor_for_a_good_score(client, shop, invitation):
    client.post(path(shop, invitation), data={"csat": "1"})
    assert _alert_rows(shop) == []
    session = db()
    settings.update(session, shop, {"alerts.low_score_email": "care@maison-ana.example"})
    session.commit()
    client.post(path(shop, invitation), data={"csat": "3", "ces": "4"})
    assert _alert_rows(shop) == []


def test_an_answer_changed_to_a_good_one_before_the_alert_goes_skips_it(app, client, shop, invitation, smtp):
    session = db()
    settings.update(session, shop, {"alerts.low_score_email": "care@maison-ana.example"})
    session.commit()
    client.post(path(shop, invitation), data={"csat": "1"})
    client.post(path(shop, invitation), data={"csat": "5"})
    _due_now(app)
    outbox.process_due(app)
    assert smtp.messages == []
    [row] = _alert_rows(shop)
    assert (row.status, row.error) == ("skipped", "the answer was changed to a good one")


def test_a_comment_sent_after_the_alert_went_follows_it_once(app, client, shop, invitation, smtp):
    session = db()
    settings.update(session, shop, {"alerts.low_score_email": "care@maison-ana.example"})
    session.commit()
    url = path(shop, invitation, score=1)
    client.post(url, data={"step": "score", "csat": "1"})
    _due_now(app)
    outbox.process_due(app)
    assert "No comment (yet)." in smtp.messages[0].get_body(("plain",)).get_content()
    client.post(url, data={"step": "details", "csat": "1", "comment": "Nobody answered my emails"})
    client.post(url, data={"step": "details", "csat": "1", "comment": "Nobody answered my emails!"})
    assert len(_alert_rows(shop)) == 2
    _due_now(app)
    outbox.process_due(app)
    assert len(smtp.messages) == 2
    assert "> Nobody answered my emails!" in smtp.messages[1].get_body(("plain",)).get_content()


def test_the_link_without_a_score_shows_every_question_to_answer(client, shop, invitation):
    """The SMS carries this one: nothing chosen, nothing posted by itself."""
    url = path(shop, invitation, score=None)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<script" not in html and " checked" not in html
    assert 'name="csat"' in html and 'name="ces"' in html
    assert answers(shop) == []
    client.post(url, data={"step": "details", "ces": "7"})
    assert answers(shop) == [("ces", 7, None)]
    page = client.post(url, data={"step": "details", "comment": "no score"})
    assert page.status_code == 200  # the comment joins the answer already given
    assert answers(shop) == [("ces", 7, "no score")]


def test_a_comment_without_any_score_is_refused_and_kept_in_the_form(client, shop, invitation):
    page = client.post(path(shop, invitation, score=None), data={"step": "details", "comment": "<i>hello</i>"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "Please choose a score first." in html
    assert "&lt;i&gt;hello&lt;/i&gt;</textarea>" in html
    assert answers(shop) == []
