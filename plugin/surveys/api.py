"""The admin JSON API of surveys: the metrics, the CSV of every answer, and
the low answers with their "followed up" mark.

Both routes sit behind the admin API's own guard (an App Bridge session token
as `Authorization: Bearer …`, resolving the shop), and read only that shop's
rows. Dates are the shop's calendar days (``admin.ranges``): `from=2026-11-01`
starts at midnight in the shop's time zone; `to` is exclusive.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, g, jsonify, request

from ..admin.launch import require_session_token, session_user
from ..admin.ranges import BadParameter, date_range
from ..db import get_session, read_session, read_sessions
from . import followup
from .export import responses_csv
from .metrics import BREAKDOWNS, summary

bp = Blueprint("surveys_api", __name__, url_prefix="/api/admin")
bp.before_request(require_session_token)


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter):
    return jsonify({"error": f"{exc.field}: {exc}", "field": exc.field}), 422


def _range() -> tuple[datetime, datetime]:
    return date_range(request.args, g.shop)


@bp.get("/metrics")
def metrics():
    start, end = _range()
    by = request.args.get("by", "").strip() or None
    if by is not None and by not in BREAKDOWNS:
        raise BadParameter("by", "must be one of " + ", ".join(BREAKDOWNS))
    return jsonify(summary(read_session(), g.shop.id, start, end, by))


@bp.get("/surveys/responses.csv")
def responses():
    start, end = _range()
    # The export outlives the request's own session (closed when the view
    # returns), so it reads through a session of its own, closed when the
    # stream ends or the client goes away (the server then closes the iterator).
    sessions, shop_id = read_sessions(), g.shop.id

    def lines():
        session = sessions()
        try:
            yield from responses_csv(session, shop_id, start, end)
        finally:
            session.close()

    response = Response(lines(), mimetype="text/csv")
    name = f"survey-responses-{start.date().isoformat()}-{end.date().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _whole(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 10**9:
        raise BadParameter(name, "must be a whole number from 1")
    return int(raw)


@bp.get("/surveys/low-answers")
def low_answers():
    """Newest first: `?followed_up=yes|no&page=1&per_page=20` (at most 100)."""
    flag = request.args.get("followed_up", "").strip().lower() or None
    if flag not in (None, "yes", "no"):
        raise BadParameter("followed_up", "must be yes or no")
    found = followup.low_answers(get_session(), g.shop.id, followed_up=None if flag is None else flag == "yes",
                                 page=_whole("page", 1), per_page=_whole("per_page", followup.PER_PAGE))
    return jsonify(found)


@bp.post("/surveys/low-answers/<int:answer_id>/follow-up")
def follow_up(answer_id: int):
    """Marks the answer followed up by the session's user (its `sub`): 200
    with the answer; 404 when the shop has no such low answer; 409 with the
    first mark when someone marked it already."""
    session = get_session()
    try:
        answer = followup.follow_up(session, g.shop.id, answer_id, session_user())
    except LookupError:
        session.rollback()
        return jsonify({"error": "no such low answer"}), 404
    except followup.AlreadyFollowedUp as exc:
        session.rollback()
        return jsonify({"error": "already followed up", "answer": exc.answer}), 409
    session.commit()
    return jsonify(answer)
