"""The admin JSON API of surveys: the metrics and the CSV of every answer.

Both routes sit behind the admin API's own guard (an App Bridge session token
as `Authorization: Bearer …`, resolving the shop), and read only that shop's
rows. Dates are the shop's calendar days: `from=2026-11-01` starts at
midnight in the shop's time zone; `to` is exclusive.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, current_app, g, jsonify, request

from ..admin.launch import require_session_token
from ..db import EXTENSION, get_session
from .export import responses_csv
from .metrics import BREAKDOWNS, summary

bp = Blueprint("surveys_api", __name__, url_prefix="/api/admin")
bp.before_request(require_session_token)

DEFAULT_DAYS = 30
MAX_DAYS = 3660  # ten years: a range longer than this is a typo


class BadParameter(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter):
    return jsonify({"error": f"{exc.field}: {exc}", "field": exc.field}), 422


def _zone():
    try:
        return ZoneInfo(g.shop.iana_timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _moment(field: str, default: datetime) -> datetime:
    raw = request.args.get(field, "").strip()
    if not raw:
        return default
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=_zone())
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadParameter(field, "must be a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=_zone())


def _range() -> tuple[datetime, datetime]:
    tomorrow = datetime.combine(datetime.now(_zone()).date() + timedelta(days=1), time(), tzinfo=_zone())
    end = _moment("to", tomorrow)
    start = _moment("from", end - timedelta(days=DEFAULT_DAYS))
    if start >= end:
        raise BadParameter("from", "must be before to")
    if end - start > timedelta(days=MAX_DAYS):
        raise BadParameter("from", f"the range may span at most {MAX_DAYS} days")
    return start, end


@bp.get("/metrics")
def metrics():
    start, end = _range()
    by = request.args.get("by", "").strip() or None
    if by is not None and by not in BREAKDOWNS:
        raise BadParameter("by", "must be one of " + ", ".join(BREAKDOWNS))
    return jsonify(summary(get_session(), g.shop.id, start, end, by))


@bp.get("/surveys/responses.csv")
def responses():
    start, end = _range()
    # The export outlives the request's own session (closed when the view
    # returns), so it reads through a session of its own, closed when the
    # stream ends or the client goes away (the server then closes the iterator).
    sessions, shop_id = current_app.extensions[EXTENSION]["sessions"], g.shop.id

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
