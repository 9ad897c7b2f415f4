"""The returns queue: its page and its JSON API.

`GET /api/admin/returns?status=` lists the shop's return requests;
`POST /api/admin/returns/<id>/<action>` approves (with instructions for the
shopper), declines (with Shopify's reason and a note), receives, refunds or
closes one through ``returns.act``, which checks the move, writes the audit
line and queues the Shopify mutation for the worker. The actor recorded is
the session token's user (``sub``), else "admin".
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import g, jsonify, request

from .. import returns
from ..db import get_session
from . import i18n, launch, pages, returns_queue

# A return's status agrees with "return" in gender (un retour, una devolución): own keys.
STATUS_LABELS = {
    "requested": "return.status|Requested", "approved": "return.status|Approved",
    "declined": "return.status|Declined", "received": "return.status|Received",
    "refunded": "return.status|Refunded", "closed": "return.status|Closed", "cancelled": "return.status|Cancelled",
}
ACTION_LABELS = {"approve": "Approve", "decline": "Decline", "receive": "Mark received",
                 "refund": "Mark refunded", "close": "Close"}
DONE_LABELS = {"approve": "Approved", "decline": "Declined", "receive": "Marked received",
               "refund": "Marked refunded", "close": "Closed"}
DECLINE_LABELS = {"FINAL_SALE": "Final sale", "RETURN_PERIOD_ENDED": "Return period ended", "OTHER": "Other"}
SYNC_LABELS = {"synced": "In Shopify", "pending": "Waiting to reach Shopify",
               "failed": "Not in Shopify yet: will try again", "local": "Not sent to Shopify"}
ITEM_REASON_LABELS = {
    "COLOR": "Color", "DEFECTIVE": "Defective", "NOT_AS_DESCRIBED": "Not as described", "OTHER": "Other",
    "SIZE_TOO_LARGE": "Too large", "SIZE_TOO_SMALL": "Too small", "STYLE": "Style", "UNWANTED": "Unwanted",
    "WRONG_ITEM": "Wrong item", "UNKNOWN": "Unknown",
}
LABELS = (STATUS_LABELS, ACTION_LABELS, DONE_LABELS, DECLINE_LABELS, SYNC_LABELS, ITEM_REASON_LABELS)


def _status() -> tuple[str | None, bool]:
    """The status filter asked for (None: every status), and whether it is one."""
    status = request.args.get("status") or None
    return status, status is None or status in returns_queue.STATUSES


# --- the page --------------------------------------------------------------------

def returns_page():
    shop, started, refusal = pages.opened_shop()
    if refusal:
        return refusal
    status, known = _status()
    if not known:
        status = None
    number = pages.positive_arg("page", 1) or 1
    rows = returns_queue.page(get_session(), shop.id, status, number)
    locale = i18n.locale_of(request.args.get("locale"))

    def shown(labels: dict) -> dict:
        return {key: i18n.gettext(locale, label) for key, label in labels.items()}
    # Not `status=`: that is render's HTTP status.
    return pages.render("admin/returns.html", shop, started, rows=rows, current="returns-queue", filter_status=status,
                        counts=returns_queue.counts(get_session(), shop.id),
                        status_labels_shown=shown(STATUS_LABELS), sync_labels_shown=shown(SYNC_LABELS),
                        done_labels_shown=shown(DONE_LABELS),
                        when=pages._when(locale, ZoneInfo(shop.iana_timezone or "UTC")),
                        statuses=returns_queue.STATUSES, status_labels=STATUS_LABELS, action_labels=ACTION_LABELS,
                        done_labels=DONE_LABELS, decline_labels=DECLINE_LABELS, sync_labels=SYNC_LABELS,
                        reason_labels=ITEM_REASON_LABELS, decline_reasons=returns.DECLINE_REASONS)


# --- the API ---------------------------------------------------------------------

def list_returns():
    """The queue, newest first: `?status=requested&page=1&per_page=20` (at most 100)."""
    status, known = _status()
    if not known:
        return jsonify({"error": "status must be one of " + ", ".join(returns_queue.STATUSES),
                        "field": "status"}), 400
    number, per_page = pages.positive_arg("page", 1), pages.positive_arg("per_page", returns_queue.PER_PAGE)
    if number is None or per_page is None:
        return jsonify({"error": "page and per_page must be whole numbers from 1"}), 400
    return jsonify(returns_queue.page(get_session(), g.shop.id, status, number, per_page))




def act_on_return(request_id: int, action: str):
    """Body (JSON, optional): approve `{"instructions"}`, decline `{"reason", "note"}`.
    404 for a request the shop does not have, 409 for a move not allowed
    from where it stands (approving twice), 422 for a bad reason or note."""
    locale = i18n.locale_of(request.args.get("locale"))
    if action not in returns.TRANSITIONS:
        return jsonify({"error": f"no action {action!r}: use one of " + ", ".join(returns.TRANSITIONS),
                        "field": "action"}), 404
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        return jsonify({"error": "send a JSON object", "field": None}), 400
    kwargs: dict = {}
    if action == "approve":
        kwargs["instructions"] = body.get("instructions")
    elif action == "decline":
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            reason = "?"  # refused by act with the list of reasons
        kwargs.update(reason=reason, instructions=body.get("note"))
    session = get_session()
    try:
        changed = returns.act(session, g.shop, request_id, action, actor=launch.session_user(), **kwargs)
    except LookupError:
        session.rollback()
        return jsonify({"error": "no such return request"}), 404
    except returns.ReturnRefused as exc:
        session.rollback()
        if exc.field == "action":
            current = returns.get(session, g.shop.id, request_id)
            label = i18n.gettext(locale, STATUS_LABELS.get(current.status, current.status)).lower()
            message = (exc.message[:1].upper() + exc.message[1:] + "." if locale == "en"
                       else i18n.gettext(locale, "Not possible now: this return is {status}.", status=label))
            return jsonify({"error": message, "field": "action", "status": current.status}), 409
        field = "note" if action == "decline" and exc.field == "instructions" else exc.field
        return jsonify({"error": i18n.invalid(locale, exc.message), "field": field}), 422
    session.commit()
    return jsonify(returns_queue.one(session, g.shop.id, changed))
