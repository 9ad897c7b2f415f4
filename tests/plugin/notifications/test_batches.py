"""The outbox works a batch at a time: what the batch's messages need is
loaded in a few queries whatever the batch's size, each message is still
settled and rendered with its own shop's settings and its own order, and
the bytes written for the wire arrive intact through a real SMTP server."""

from __future__ import annotations

from datetime import timedelta
from email.utils import parseaddr

from sqlalchemy import event, select, update

from plugin import outbox, settings, shops
from plugin.db import engine, worker_session
from plugin.models import Notification, utcnow
from plugin.notifications import sandbox

from ...notifications.orders import ORDER_ID, add_notification, add_order
from .conftest import make_due, outbox as rows, set_settings

OTHER_SHOP = "other-shop.myshopify.com"


def queue_orders(app, shop_id: int, count: int, *, first: int = 0, first_name: str = "Ana",
                 shop_name: str = "Maison Ana") -> list[int]:
    """``count`` orders of one parcel, each with a pending `shipped` email."""
    ids = []
    for n in range(first, first + count):
        order_id, [parcel] = add_order(app, shop_id, shopify_id=ORDER_ID + 1000 * n, name=f"#{1001 + n}",
                                       first_name=first_name, shop_name=shop_name)
        ids.append(add_notification(app, shop_id, order_id, "shipped",
                                    {"fulfillment_id": parcel, "parcel": 1, "parcels": 1}))
    with worker_session(app) as session, session.begin():
        session.execute(update(Notification).where(Notification.id.in_(ids))
                        .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    return ids


def statements_to_claim(app) -> tuple[int, int]:
    """(statements run, rows claimed) by one claim of the due outbox."""
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine(app), "before_cursor_execute", count)
    try:
        claimed, outgoing = outbox._claim(app, ("email",), outbox.BATCH, utcnow())
    finally:
        event.remove(engine(app), "before_cursor_execute", count)
    assert len(outgoing) == claimed
    return len(seen), claimed


def test_a_claim_runs_as_many_statements_for_thirty_messages_as_for_three(app, shop):
    queue_orders(app, shop, 3)
    few = statements_to_claim(app)
    queue_orders(app, shop, 30, first=3)
    many = statements_to_claim(app)
    assert (few[1], many[1]) == (3, 30)
    assert many[0] == few[0] <= 15


def test_one_batch_over_two_shops_uses_each_shops_own_settings_and_orders(app, shop, smtp):
    with worker_session(app) as session, session.begin():
        other = shops.install(session, OTHER_SHOP, shops.static_grant("shpat_other", "read_orders"))
        session.flush()
        other_id = other.id
    set_settings(app, shop, mail__from="Maison Ana Paris")
    set_settings(app, other_id, notifications__delivered__email=False, mail__from="Ле Магазин")
    queue_orders(app, shop, 2, first_name="Ana")
    [other_shipped] = queue_orders(app, other_id, 1, first=5, first_name="Дмитрий", shop_name="Other")
    order_id = db_order_of(app, other_shipped)
    add_notification(app, other_id, order_id, "delivered", {"fulfillment_id": None})
    make_due()

    assert outbox.process_due(app) == 4  # one batch

    sent = {m["Subject"].split()[2]: m for m in smtp.messages}  # "Your order #1001 is on its way"
    assert sorted(sent) == ["#1001", "#1002", "#1006"]
    assert parseaddr(str(sent["#1001"]["From"]))[0] == "Maison Ana Paris"
    other_mail = sent["#1006"]
    assert other_mail["From"].addresses[0].display_name == "Ле Магазин"
    assert "Hi Дмитрий," in other_mail.get_body(("plain",)).get_content()
    assert "Hi Ana," not in other_mail.get_body(("html",)).get_content()
    assert [(n.shop_id, n.kind, n.status, n.error) for n in rows()] == [
        (shop, "shipped", "sent", None), (shop, "shipped", "sent", None),
        (other_id, "shipped", "sent", None), (other_id, "delivered", "skipped", "switched off")]


def db_order_of(app, notification_id: int) -> int:
    with worker_session(app) as session:
        return session.scalar(select(Notification.order_id).where(Notification.id == notification_id))


def test_the_wire_bytes_arrive_intact_with_long_lines_and_non_latin_text(app, shop, smtp):
    long_name = "Ζωή-" + "x" * 120 + "=." + " €"
    queue_orders(app, shop, 1, first_name=long_name)
    set_settings(app, shop, mail__reply_to="help@maison-ana.example")
    outbox.process_due(app)
    [message] = smtp.messages
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert f"Hi {long_name}," in text and f"Hi {long_name}," in html
    assert 'style="' in html and "<style" not in html
    assert str(message["Reply-To"]) == "help@maison-ana.example"
    assert message["To"] == "ana@example.com" and message["X-Aftercare-Kind"] == "shipped"
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"


def test_a_merchant_template_is_compiled_once_for_all_the_messages_using_it(app, shop, smtp):
    template = {"subject": "Colis {{ order_name }} (batch test)",
                "body": "Bonjour {{ first_name }}\n{{ tracking_url }}"}
    with worker_session(app) as session, session.begin():
        settings.update(session, shop, {"templates.shipped.en": template})
    before = sandbox._compiled.cache_info()
    queue_orders(app, shop, 4)
    outbox.process_due(app)
    after = sandbox._compiled.cache_info()
    assert sorted(m["Subject"] for m in smtp.messages) == [f"Colis #{n} (batch test)" for n in range(1001, 1005)]
    # Subject, text body and HTML body: compiled once each (when saved, or by the first message).
    assert after.misses - before.misses <= 3 and after.hits - before.hits >= 9


def test_a_shops_backlog_does_not_hold_back_another_shops_message(app, shop):
    backlog = queue_orders(app, shop, outbox.BATCH + 10)
    with worker_session(app) as session, session.begin():
        installed = shops.install(session, OTHER_SHOP, shops.static_grant("shpat_other", "read_orders"))
        session.flush()
        other = installed.id
    [theirs] = queue_orders(app, other, 1, first=500, first_name="Bea", shop_name="Bea's")  # due after all of them

    claimed, outgoing = outbox._claim(app, ("email",), outbox.BATCH, utcnow())
    assert claimed == outbox.BATCH
    ids = [message.id for message in outgoing]
    assert theirs in ids and len(set(ids)) == outbox.BATCH  # in the first batch, and no row twice
    assert set(ids) - {theirs} <= set(backlog)
