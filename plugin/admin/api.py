"""The admin's JSON API (the pages use it; so can a merchant's own tools).

Every route runs behind ``launch.require_session_token``, which sets
``g.shop`` from the Bearer session token: nothing here takes a shop from
the request itself.
"""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from sqlalchemy import select

from .. import orders, outbox, settings
from ..db import get_session
from ..models import Notification, NotificationStatus
from . import health as health_report
from . import i18n, notification_log, timeline, tokens
from .pages import positive_arg


def get_settings():
    return jsonify(settings.load(get_session(), g.shop.id))


def put_settings():
    """A JSON object of the keys to change (``null`` resets one to its
    default) → every setting of the shop after. One bad value → 422 naming
    its field, and nothing saved."""
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        return jsonify({"error": "send a JSON object of settings to change", "field": None}), 400
    session = get_session()
    try:
        values = settings.update(session, g.shop.id, changes)
    except settings.Invalid as exc:
        session.rollback()
        locale = i18n.locale_of(request.args.get("locale"))
        return jsonify({"error": i18n.invalid(locale, exc.message), "field": exc.field}), 422
    session.commit()
    return jsonify(values)


def notifications():
    """The outbox, newest first: `?page=1&per_page=50` (at most 200)."""
    number, per_page = positive_arg("page", 1), positive_arg("per_page", notification_log.PER_PAGE)
    if number is None or per_page is None:
        return jsonify({"error": "page and per_page must be whole numbers from 1"}), 400
    return jsonify(notification_log.page(get_session(), g.shop.id, number, per_page))


def session_token():
    """A fresh session token for a page opened outside Shopify, in exchange
    for its still-valid one, while its session is young enough."""
    if not tokens.refreshable(g.session_claims):
        return jsonify({"error": "this session can no longer be extended; open the admin again"}), 401
    token = tokens.mint(g.shop.domain, tokens.session_started(g.session_claims))
    return jsonify({"token": token, "expires_in": tokens.TOKEN_LIFETIME})


def order(name: str):
    """The order by its name ("#1001", "1001", " # 1001 "), its flags and its
    timeline (``timeline.SOURCES``), with the fields it always had."""
    session = get_session()
    found = orders.find_order(session, g.shop.id, name)
    if found is None:
        return jsonify({"error": f"no order {name.strip()}"}), 404
    return jsonify({**orders.order_state(found), "flags": timeline.flags(found),
                    "timeline": timeline.timeline(session, found)})


def health():
    """Failed deliveries (the newest 100, and how many), backlog and worker heartbeat."""
    return jsonify(health_report.report(get_session(), g.shop.id))


def replay_delivery(delivery_id: str):
    """Run one of the shop's failed deliveries again now → the delivery after.
    Another shop's id, or one unknown, is 404; one not failed is 409."""
    session = get_session()
    delivery, failed = health_report.find_failed(session, g.shop.id, delivery_id)
    if delivery is None:
        return jsonify({"error": f"no webhook delivery {delivery_id}"}), 404
    if not failed:
        return jsonify({"error": f"webhook delivery {delivery.id} has not failed ({delivery.status})",
                        "delivery": health_report.describe(delivery)}), 409
    found_id = delivery.id
    session.rollback()  # ends this request's transaction: on SQLite the replay needs the write lock
    replayed = health_report.replay(current_app._get_current_object(), found_id)
    if replayed is None:  # erased meanwhile
        return jsonify({"error": f"no webhook delivery {delivery_id}"}), 404
    return jsonify(health_report.describe(replayed))


# --- outbox retry ----------------------------------------------------------------

def retry_notification(notification_id: int):
    """A failed message of the shop's outbox due again now (attempts counted
    afresh): 404 for another shop's or no message, 409 for one not failed."""
    session = get_session()
    row = session.scalar(select(Notification).where(Notification.shop_id == g.shop.id,
                                                    Notification.id == notification_id))
    if row is None:
        return jsonify({"error": "no such message"}), 404
    if row.status != NotificationStatus.FAILED.value:
        locale = i18n.locale_of(request.args.get("locale"))
        return jsonify({"error": i18n.gettext(locale, "Only a failed message can be retried; this one is {status}.",
                                              status=i18n.gettext(locale, row.status)),
                        "status": row.status}), 409
    outbox.retry(session, row.id)
    session.commit()
    return jsonify({"id": row.id, "status": row.status, "attempts": row.attempts,
                    "next_attempt_at": row.next_attempt_at.isoformat()})
