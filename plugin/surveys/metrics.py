"""Survey metrics, computed in SQL: one module for the admin JSON API, the CSV
and the dashboard.

Like Indico's ``get_summary()``, each function returns a plain summary dict
(counts, and the figure, which is None when there is nothing to count: never a
division error). Over answers given in [start, end):

- CSAT: share of answers 4–5;  CES: mean, and share of 5–7;
- NPS: % of 9–10 minus % of 0–6 (−100 … 100);
- response rate: invitations sent in [start, end) that were answered ÷ sent;

each optionally broken down by week (UTC weeks starting on Monday), carrier,
product, touchpoint or lateness. The whole UTC days of a range are read from
the daily counts (rollup.py: a few hundred rows a day whatever the volume),
the hours at its ends from the answers and invitations themselves, each
counting only (group, kind, score); answers carry their carrier, products and
days late, so no join is needed. By product, the whole UTC months come from
monthly counts and the days around them from the answers: see
bench/metrics.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Integer, Select, case, cast, func, literal_column, select, true
from sqlalchemy.orm import Session

from ..returns.models import ReturnRequest
from . import rollup
from .kinds import SurveyKind
from .models import SurveyAnswerDay, SurveyInvitation, SurveyInvitationDay, SurveyResponse

BREAKDOWNS = ("week", "carrier", "product", "touchpoint", "lateness")
# (label, most days late it covers); NULL days late is "unknown".
LATENESS = (("on_time", 0), ("late_1_2_days", 2), ("late_3_plus_days", None))
LATENESS_LABELS = tuple(label for label, _ in LATENESS) + ("unknown",)


def lateness(days_late: int | None) -> str:
    """The lateness bucket of a number of days late (the SQL below agrees)."""
    if days_late is None:
        return "unknown"
    for label, most in LATENESS:
        if most is None or days_late <= most:
            return label
    raise AssertionError("unreachable")


# --- the figures, from counts (pure) ------------------------------------------

def _ratio(part: float, whole: int) -> float | None:
    return part / whole if whole else None


def csat_summary(count: int = 0, satisfied: int = 0, **_) -> dict:
    return {"count": count, "share": _ratio(satisfied, count), "satisfied": satisfied}


def ces_summary(count: int = 0, total: int = 0, easy: int = 0, **_) -> dict:
    return {"count": count, "mean": _ratio(total, count), "share": _ratio(easy, count), "easy": easy}


def nps_summary(count: int = 0, promoters: int = 0, detractors: int = 0, **_) -> dict:
    score = _ratio(100 * (promoters - detractors), count)
    return {"count": count, "score": score, "promoters": promoters, "detractors": detractors}


def response_rate_summary(sent: int = 0, answered: int = 0) -> dict:
    return {"sent": sent, "answered": answered, "rate": _ratio(answered, sent)}


def _kind_summaries(counts: dict[str, dict]) -> dict:
    """{kind: {count, total, high, low}} → the three metric summaries."""
    csat, ces, nps = (counts.get(k.value, {}) for k in SurveyKind)
    return {
        "csat": csat_summary(count=csat.get("count", 0), satisfied=csat.get("high", 0)),
        "ces": ces_summary(count=ces.get("count", 0), total=ces.get("total", 0), easy=ces.get("high", 0)),
        "nps": nps_summary(count=nps.get("count", 0), promoters=nps.get("high", 0), detractors=nps.get("low", 0)),
    }


# --- SQL -----------------------------------------------------------------------

MONDAY = date(1970, 1, 5)


def _week(session: Session, column):
    """The UTC week (from Monday) of ``column``, by arithmetic on the stored
    time rather than a date formatted per row: PostgreSQL bins the timestamp
    (the Monday, as a UTC time), SQLite counts whole weeks since MONDAY."""
    if session.get_bind().dialect.name == "postgresql":
        origin = datetime(MONDAY.year, MONDAY.month, MONDAY.day, tzinfo=timezone.utc)
        return func.date_bin(timedelta(days=7), column, origin)
    return cast(func.julianday(column) - func.julianday(MONDAY.isoformat()), Integer) // 7


def _week_start(bucket: int | date | datetime) -> str:
    if isinstance(bucket, datetime):
        return bucket.astimezone(timezone.utc).date().isoformat()
    if isinstance(bucket, date):  # a day of the daily counts
        return (bucket - timedelta(days=bucket.weekday())).isoformat()
    return (MONDAY + timedelta(weeks=int(bucket))).isoformat()


def _whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The first and last UTC midnight inside [start, end), if a whole day lies between."""
    first = start.astimezone(timezone.utc)
    if first.time() != datetime.min.time():
        first = datetime.combine(first.date() + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    last = end.astimezone(timezone.utc)
    last = datetime.combine(last.date(), datetime.min.time(), tzinfo=timezone.utc)
    return (first, last) if first < last else None


def _whole_months(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The first and last start of a UTC month inside [start, end), if a whole month lies between."""
    days = _whole_days(start, end)
    if days is None:
        return None
    first, last = days
    if first.day != 1:
        first = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = last.replace(day=1)
    return (first, last) if first < last else None


def _parts(start: datetime, end: datetime, by: str | None) -> tuple[list[tuple[datetime, datetime]], tuple | None]:
    """The spans to read row by row, and the whole days (for products: whole
    months, rollup.py) to read from the daily counts."""
    days = _whole_months(start, end) if by == "product" else _whole_days(start, end)
    if days is None:
        return [(start, end)], None
    return [span for span in ((start, days[0]), (days[1], end)) if span[0] < span[1]], days


def _lateness_sql(days_late):
    whens = [(days_late.is_(None), "unknown")]
    whens += [(days_late <= most, label) for label, most in LATENESS if most is not None]
    return case(*whens, else_=LATENESS[-1][0])


def _grouped(session: Session, model, time_column, by: str | None):
    """(key expression, extra FROM item or None) for a breakdown of ``model``'s rows."""
    if by is None:
        return None, None
    if by == "week":
        return _week(session, time_column), None
    if by == "product":
        if session.get_bind().dialect.name == "postgresql":
            items = func.json_array_elements_text(model.products).table_valued("value").alias("product")
        else:
            items = func.json_each(model.products).table_valued("value").alias("product")
        return items.c.value, items
    column = {"carrier": model.carrier, "touchpoint": model.touchpoint, "lateness": _lateness_sql(model.days_late)}
    return column[by], None


def _select(model, key, extra, *columns) -> Select:
    """SELECT key, columns… FROM model (joined to a table-valued key source),
    grouped by key, then by whatever the caller adds."""
    if key is None:
        return select(literal_column("NULL").label("key"), *columns).select_from(model)
    query = select(key.label("key"), *columns).select_from(model)
    if extra is not None:
        query = query.join(extra, true())
    return query.group_by(key)


def _group(by: str | None, key):
    """A group's key as the summary shows it (weeks as their Monday)."""
    return _week_start(key) if by == "week" else key


def _daily(model, shop_id: int, days: tuple[datetime, datetime], by: str | None, *columns):
    """SELECT group, columns… of the daily counts of the whole days ``days``."""
    dimension = "-" if by in (None, "week") else by
    key = model.day if by == "week" else model.key
    return (select(key, *columns)
            .where(model.shop_id == shop_id, model.day >= days[0].date(), model.day < days[1].date(),
                   model.dimension == dimension)
            .group_by(key))


def _daily_key(by: str | None, key):
    return None if by is None else key if by == "week" else rollup.value_of(key)


def _answer_counts(session: Session, shop_id: int, start: datetime, end: datetime, by: str | None) -> dict:
    """{key: {kind: {count, total, high, low}}}, counting only (key, kind,
    score): a scale has at most 11 scores, and the figures are worked out from
    that histogram here."""
    r, d = SurveyResponse, SurveyAnswerDay
    spans, days = _parts(start, end, by)
    rows = []
    for span in spans:
        key, extra = _grouped(session, r, r.answered_at, by)
        query = _select(r, key, extra, r.kind, r.score, func.count())
        query = query.where(r.shop_id == shop_id, r.answered_at >= span[0], r.answered_at < span[1])
        rows += session.execute(query.group_by(r.kind, r.score)).all()
    if days is not None:
        query = _daily(d, shop_id, days, by, d.kind, d.score, func.sum(d.answers)).group_by(d.kind, d.score)
        rows += [(_daily_key(by, key), kind, score, count) for key, kind, score, count in session.execute(query)]
    found: dict = {}
    for key_value, kind, score, count in rows:
        if not count:
            continue
        scale = SurveyKind(kind).scale
        into = found.setdefault(_group(by, key_value), {}).setdefault(kind, {"count": 0, "total": 0, "high": 0,
                                                                            "low": 0})
        into["count"] += count
        into["total"] += score * count
        into["high"] += count if score >= scale.high_from else 0
        into["low"] += count if scale.is_low(score) else 0
    return found


def _invitation_counts(session: Session, shop_id: int, start: datetime, end: datetime, by: str | None) -> dict:
    """{key: (sent, answered)} for invitations sent in [start, end)."""
    i, d = SurveyInvitation, SurveyInvitationDay
    spans, days = _parts(start, end, by)
    rows = []
    for span in spans:
        key, extra = _grouped(session, i, i.sent_at, by)
        query = _select(i, key, extra, func.count(), func.count(i.answered_at))
        rows += session.execute(query.where(i.shop_id == shop_id, i.sent_at >= span[0], i.sent_at < span[1])).all()
    if days is not None:
        query = _daily(d, shop_id, days, by, func.sum(d.sent), func.sum(d.answered))
        rows += [(_daily_key(by, key), sent, answered) for key, sent, answered in session.execute(query)]
    found: dict = {}
    for key_value, sent, answered in rows:
        group = _group(by, key_value)
        before = found.get(group, (0, 0))
        found[group] = (before[0] + int(sent or 0), before[1] + int(answered or 0))
    return {group: counts for group, counts in found.items() if counts[0]}


def _sum_counts(groups: dict) -> dict:
    total: dict = {}
    for per_kind in groups.values():
        for kind, counts in per_kind.items():
            into = total.setdefault(kind, {"count": 0, "total": 0, "high": 0, "low": 0})
            for name, value in counts.items():
                into[name] += value
    return total


def _weeks(start: datetime, end: datetime) -> list[str]:
    day = start.astimezone(timezone.utc).date()
    day -= timedelta(days=day.weekday())
    weeks = []
    while datetime(day.year, day.month, day.day, tzinfo=timezone.utc) < end:
        weeks.append(day.isoformat())
        day += timedelta(days=7)
    return weeks


def _key_order(by: str, keys) -> list:
    if by == "lateness":
        return list(LATENESS_LABELS)
    return sorted(keys, key=lambda k: (k is None, str(k)))


def summary(session: Session, shop_id: int, start: datetime, end: datetime, by: str | None = None) -> dict:
    """Every survey figure over [start, end), and per ``by`` group if given.

    ``breakdown`` lists every group with answers or invitations (every week of
    the range for ``week``, every lateness bucket for ``lateness``), each with
    the same figures as the totals. With ``by=product`` an answer counts once
    for each product of its order, so the groups do not add up to the totals."""
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}")
    answers = _answer_counts(session, shop_id, start, end, by)
    invitations = _invitation_counts(session, shop_id, start, end, by)
    if by == "product":  # an answer is in as many groups as its order has products
        totals = _sum_counts(_answer_counts(session, shop_id, start, end, None))
        sent, answered = _invitation_counts(session, shop_id, start, end, None).get(None, (0, 0))
    else:
        totals = _sum_counts(answers)
        sent = sum(s for s, _ in invitations.values())
        answered = sum(a for _, a in invitations.values())
    result = {
        "from": start.isoformat(), "to": end.isoformat(),
        **_kind_summaries(totals),
        "response_rate": response_rate_summary(sent, answered),
        **return_times(session, shop_id, start, end),
        "follow_up_hours": follow_up_times(session, shop_id, start, end),
        "by": by,
    }
    if by is not None:
        keys = _weeks(start, end) if by == "week" else _key_order(by, set(answers) | set(invitations))
        result["breakdown"] = [
            {"key": key, **_kind_summaries(answers.get(key, {})),
             "response_rate": response_rate_summary(*invitations.get(key, (0, 0)))}
            for key in keys
        ]
    return result


# --- durations (median and p90) ----------------------------------------------------

def _seconds(session: Session, start, end):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def durations_summary(session: Session, pairs: Select) -> dict:
    """Median and 90th percentile, in hours, of the durations between the two
    columns of ``pairs`` (a select of (start, end), already scoped by shop and
    range); rows with either end unknown are left out. Percentiles interpolate
    linearly between neighbours, as PostgreSQL's percentile_cont does."""
    sub = pairs.subquery()
    start, end = list(sub.c)[:2]
    seconds = _seconds(session, start, end).label("seconds")
    known = select(seconds).where(start.is_not(None), end.is_not(None))
    count = session.scalar(select(func.count()).select_from(known.subquery()))
    figures = {"count": count, "median": None, "p90": None}
    for name, fraction in (("median", 0.5), ("p90", 0.9)):
        if not count:
            break
        position = fraction * (count - 1)
        lower = int(position)
        values = [float(v) for v in session.scalars(known.order_by(seconds).offset(lower).limit(2))]
        upper = values[1] if len(values) > 1 else values[0]
        figures[name] = (values[0] + (upper - values[0]) * (position - lower)) / 3600
    return figures


def return_times(session: Session, shop_id: int, start: datetime, end: datetime) -> dict:
    """First response and resolution times of return requests opened in [start, end)."""
    rr = ReturnRequest
    scope = (rr.shop_id == shop_id, rr.requested_at >= start, rr.requested_at < end)
    return {
        "first_response_hours": durations_summary(session, select(rr.requested_at, rr.first_response_at).where(*scope)),
        "resolution_hours": durations_summary(session, select(rr.requested_at, rr.resolved_at).where(*scope)),
    }


def follow_up_times(session: Session, shop_id: int, start: datetime, end: datetime) -> dict:
    """Hours from a low answer given in [start, end) to the merchant's
    follow-up (median, p90, count of those followed up), and ``waiting``: the
    low answers of the range nobody has followed up yet."""
    from .followup import is_low

    r = SurveyResponse
    scope = (r.shop_id == shop_id, r.answered_at >= start, r.answered_at < end, is_low(r))
    figures = durations_summary(session, select(r.answered_at, r.followed_up_at).where(*scope))
    figures["waiting"] = session.scalar(select(func.count()).where(*scope, r.followed_up_at.is_(None))) or 0
    return figures


# --- weekly series of other tables, for the dashboard -------------------------------

def weekly_counts(session: Session, time_column, start: datetime, end: datetime, *where) -> dict[str, int]:
    """{week start: rows} of ``time_column``'s table in [start, end) matching
    ``where`` (which must scope by shop), every week of the range present."""
    week = _week(session, time_column)
    query = select(week, func.count()).where(time_column >= start, time_column < end, *where).group_by(week)
    found = {_week_start(bucket): count for bucket, count in session.execute(query)}
    return {key: found.get(key, 0) for key in _weeks(start, end)}


def _quantiles(values: list[float]) -> dict:
    """durations_summary's figures of sorted seconds, worked out in Python."""
    figures = {"count": len(values), "median": None, "p90": None}
    for name, fraction in (("median", 0.5), ("p90", 0.9)):
        if values:
            position = fraction * (len(values) - 1)
            lower = int(position)
            upper = values[min(lower + 1, len(values) - 1)]
            figures[name] = (values[lower] + (upper - values[lower]) * (position - lower)) / 3600
    return figures


def weekly_durations(session: Session, pairs: Select, start: datetime, end: datetime) -> dict[str, dict]:
    """``durations_summary`` of each week of [start, end), by the week of the
    pair's first column, in one query: ``pairs`` (scoped by shop) is cut to
    the range and its durations sorted per week here (a few thousand at most:
    returns, or low answers, of a range)."""
    sub = pairs.subquery()
    first, last = list(sub.c)[:2]
    week = _week(session, first)
    query = (select(week, _seconds(session, first, last))
             .where(first >= start, first < end, last.is_not(None)).order_by(week))
    found: dict[str, list[float]] = {}
    for bucket, seconds in session.execute(query):
        found.setdefault(_week_start(bucket), []).append(float(seconds))
    return {key: _quantiles(sorted(found.get(key, []))) for key in _weeks(start, end)}
