"""The dashboard page (the admin's home): the figures of ``dashboard``,
worded and drawn for the admin's locale.

Each figure is a tile: the figure over the range, a line of detail, its
trend by week as a chart (``charts``, inline SVG drawn on the server) and
the same weekly numbers in a table. Then the breakdowns by carrier,
product, touchpoint and lateness (tabs), and the latest low answers with
their "Followed up" button (``static/dashboard.js``).

The range is the shop's calendar days, `from` and `to` both included (the
API's `to` is exclusive: the page adds the day); 12 weeks up to today by
default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit
from flask import request
from markupsafe import Markup

from ..db import read_session
from ..models import Shop
from . import charts, dashboard, i18n, ranges
from .pages import render

DEFAULT_DAYS = 84
PRESETS = ((28, "Last 4 weeks"), (84, "Last 12 weeks"), (182, "Last 26 weeks"), (364, "Last 52 weeks"))
MOST_GROUPS = 12  # carriers or products shown, those with the most answers first
KIND_LABELS = {"csat": "CSAT", "ces": "CES", "nps": "NPS"}
TOUCHPOINT_LABELS = {"delivery": "Delivery", "return": "Return"}
LATENESS_LABELS = {"on_time": "On time", "late_1_2_days": "1–2 days late", "late_3_plus_days": "3 or more days late",
                   "unknown": "Lateness unknown"}
BREAKDOWN_LABELS = {"carrier": "By carrier", "product": "By product", "touchpoint": "By touchpoint",
                    "lateness": "By lateness"}
WHO_LABELS = {"aftercare-link": "the signed admin link", "admin": "an admin"}


@dataclass
class Tile:
    key: str
    title: str
    figure: str
    detail: str
    chart: Markup
    description: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


class Words:
    """Numbers, durations and dates in one locale."""

    def __init__(self, locale: str, zone):
        self.locale, self.zone = locale, zone
        self._ = partial(i18n.gettext, locale)

    def percent(self, value: float | None) -> str:
        return "–" if value is None else format_percent(value, locale=self.locale)

    def decimal(self, value: float | None, pattern: str = "#,##0.0") -> str:
        return "–" if value is None else format_decimal(value, pattern, locale=self.locale)

    def count(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def signed(self, value: float | None) -> str:
        return "–" if value is None else format_decimal(round(value), "+#,##0;−#,##0", locale=self.locale)

    def hours(self, value: float | None) -> str:
        """Hours up to two days, days beyond."""
        if value is None:
            return "–"
        if value >= 48:
            return format_unit(value / 24, "duration-day", length="short", format="#,##0.#", locale=self.locale)
        return format_unit(value, "duration-hour", length="short", format="#,##0.#", locale=self.locale)

    def week(self, key: str) -> str:
        return format_skeleton("MMMd", date.fromisoformat(key), locale=self.locale)

    def day(self, value: date) -> str:
        return format_date(value, "medium", locale=self.locale)

    def moment(self, iso: str | None) -> str:
        return format_datetime(datetime.fromisoformat(iso), "medium", tzinfo=self.zone, locale=self.locale) if iso else ""


def _series_tile(w: Words, key: str, title: str, figure: str, detail: str, weeks: list[str],
                 series: list[tuple[str, list]], shown, *, bounds=None, counts: list[tuple[str, list]] = ()) -> Tile:
    """A tile whose chart draws ``series`` by week; its table has one column
    per series (formatted by ``shown``) and per ``counts`` column."""
    _ = w._
    labels = [w.week(k) for k in weeks]
    chart = charts.trend(labels, [(name, values) for name, values in series], shown, bounds=bounds,
                         no_data=_("No data yet"), legend=len(series) > 1)
    first = series[0][1]
    rows = [[label] + [shown(values[i]) if values[i] is not None else "–" for _name, values in series]
            + [w.count(values[i]) for _name, values in counts] for i, label in enumerate(labels)]
    description = charts.describe(_("{title} by week", title=title), labels,
                                  [shown(v) if v is not None else _("no data") for v in first])
    columns = [_("Week of")] + [name for name, _values in series] + [name for name, _values in counts]
    return Tile(key, title, figure, detail, chart, description, columns, rows)


def tiles(f: dict, w: Words) -> list[Tile]:
    _ = w._
    t, weeks = f["totals"], f["weeks"]
    weekly = [f["weekly"][k] for k in weeks]
    csat, ces, nps, rate = t["csat"], t["ces"], t["nps"], t["response_rate"]
    answers = _("Answers")
    result = [
        _series_tile(w, "csat", "CSAT", w.percent(csat["share"]),
                     _("{count} answers; satisfied means 4 or 5 of 5", count=w.count(csat["count"])), weeks,
                     [("CSAT", [g["csat"]["share"] for g in weekly])], w.percent, bounds=(0, 1),
                     counts=[(answers, [g["csat"]["count"] for g in weekly])]),
        _series_tile(w, "ces", "CES", w.decimal(ces["mean"]),
                     _("{count} answers, mean of 1–7; {share} found it easy (5–7)", count=w.count(ces["count"]),
                       share=w.percent(ces["share"])), weeks,
                     [("CES", [g["ces"]["mean"] for g in weekly])], w.decimal, bounds=(1, 7),
                     counts=[(answers, [g["ces"]["count"] for g in weekly])]),
        _series_tile(w, "nps", "NPS", w.signed(nps["score"]),
                     _("{count} answers: {promoters} promoters, {detractors} detractors",
                       count=w.count(nps["count"]), promoters=w.count(nps["promoters"]),
                       detractors=w.count(nps["detractors"])), weeks,
                     [("NPS", [g["nps"]["score"] for g in weekly])], w.signed, bounds=(-100, 100),
                     counts=[(answers, [g["nps"]["count"] for g in weekly])]),
        _series_tile(w, "response_rate", _("Response rate"), w.percent(rate["rate"]),
                     _("{answered} of {sent} survey invitations answered", answered=w.count(rate["answered"]),
                       sent=w.count(rate["sent"])), weeks,
                     [(_("Response rate"), [g["response_rate"]["rate"] for g in weekly])], w.percent, bounds=(0, 1),
                     counts=[(_("Invitations"), [g["response_rate"]["sent"] for g in weekly])]),
    ]
    for key, title, total, by_week in (
        ("first_response", _("First response to returns"), t["first_response_hours"],
         f["returns_weekly"]["first_response_hours"]),
        ("resolution", _("Returns resolved in"), t["resolution_hours"], f["returns_weekly"]["resolution_hours"]),
        ("follow_up", _("Low answers followed up in"), t["follow_up_hours"], f["follow_up_weekly"]),
    ):
        detail = _("median; 90% within {p90}; {count} counted", p90=w.hours(total["p90"]),
                   count=w.count(total["count"]))
        if key == "follow_up":
            detail += " · " + _("{waiting} waiting", waiting=w.count(total["waiting"]))
        result.append(_series_tile(
            w, key, title, w.hours(total["median"]), detail, weeks,
            [(_("Median"), [by_week[k]["median"] for k in weeks]), (_("90th percentile"), [by_week[k]["p90"] for k in weeks])],
            w.hours, counts=[(_("Counted"), [by_week[k]["count"] for k in weeks])]))
    sent = f["notifications"]
    result.append(_series_tile(
        w, "notifications", _("Notifications"), _("{sent} sent", sent=w.count(sent["sent"])),
        _("{failed} failed", failed=w.count(sent["failed"])), weeks,
        [(_("Sent"), [sent["weekly"]["sent"][k] for k in weeks]), (_("Failed"), [sent["weekly"]["failed"][k] for k in weeks])],
        w.count))
    c = f["contacts"]
    result.append(_series_tile(
        w, "contacts", _("Contacts per 100 orders"), w.decimal(c["per_100_orders"]),
        _("{contacts} asked for help (\"still need help?\") over {orders} orders", contacts=w.count(c["contacts"]),
          orders=w.count(c["orders"])), weeks,
        [(_("Per 100 orders"), [c["weekly"][k]["per_100_orders"] for k in weeks])], w.decimal,
        counts=[(_("Contacts"), [c["weekly"][k]["contacts"] for k in weeks]),
                (_("Orders"), [c["weekly"][k]["orders"] for k in weeks])]))
    return result


def _group_label(w: Words, by: str, key) -> str:
    _ = w._
    if by == "touchpoint":
        return _(TOUCHPOINT_LABELS.get(key, key))
    if by == "lateness":
        return _(LATENESS_LABELS[key])
    if key is None:
        return _("Unknown carrier") if by == "carrier" else _("Unknown")
    return str(key)


def breakdowns(f: dict, w: Words) -> list[dict]:
    """Per breakdown: its groups' figures as table rows and a chart of CSAT."""
    _ = w._
    shown = []
    for by, groups in f["breakdowns"].items():
        groups = [g for g in groups if by == "lateness" or g["csat"]["count"] or g["ces"]["count"]
                  or g["nps"]["count"] or g["response_rate"]["sent"]]
        capped = by in ("carrier", "product") and len(groups) > MOST_GROUPS
        if by in ("carrier", "product"):
            groups = sorted(groups, key=lambda g: -(g["csat"]["count"] + g["ces"]["count"] + g["nps"]["count"]))
            groups = groups[:MOST_GROUPS]
        labels = [_group_label(w, by, g["key"]) for g in groups]
        csat = [g["csat"]["share"] for g in groups]
        has_data = any(v is not None for v in csat)
        shown.append({
            "by": by, "title": _(BREAKDOWN_LABELS[by]), "capped": capped,
            "chart": charts.bars(labels, csat, w.percent, bounds=(0, 1), no_data=_("No data yet")) if has_data else None,
            "description": charts.describe(_("CSAT {breakdown}", breakdown=_(BREAKDOWN_LABELS[by]).lower()), labels,
                                           [w.percent(v) if v is not None else _("no data") for v in csat]),
            "rows": [[label, w.percent(g["csat"]["share"]), w.count(g["csat"]["count"]), w.decimal(g["ces"]["mean"]),
                      w.signed(g["nps"]["score"]), w.percent(g["response_rate"]["rate"])]
                     for label, g in zip(labels, groups)],
        })
    return shown


def low_answer_rows(f: dict, w: Words) -> list[dict]:
    _ = w._
    rows = []
    for a in f["low_answers"]["items"]:
        late = a["days_late"]
        rows.append({
            **a,
            "question": KIND_LABELS[a["kind"]],
            "score_text": _("{score} of {max}", score=w.count(a["score"]), max=w.count(a["scale"]["max"])),
            "touchpoint_text": _(TOUCHPOINT_LABELS.get(a["touchpoint"], a["touchpoint"])),
            "late_text": (_("Lateness unknown") if late is None else _("On time") if late <= 0
                          else _("1 day late") if late == 1 else _("{days} days late", days=w.count(late))),
            "answered": w.moment(a["answered_at"]),
            "followed": w.moment(a["followed_up_at"]),
            "who": _(WHO_LABELS[a["followed_up_by"]]) if a["followed_up_by"] in WHO_LABELS else a["followed_up_by"],
        })
    return rows


def _page_range(shop: Shop) -> tuple[datetime, datetime, dict]:
    """(start, end, problems by field) of the page's `from` and `to` (inclusive)."""
    args = {"from": request.args.get("from", "").strip()}
    last = request.args.get("to", "").strip()
    problems = {}
    if last:
        try:
            args["to"] = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
        except ValueError:
            problems["to"] = "must be a date (YYYY-MM-DD)"
    try:
        start, end = ranges.date_range(args, shop, DEFAULT_DAYS)
    except ranges.BadParameter as exc:
        problems[exc.field] = str(exc)
    if problems:  # shown next to its field, over the default range
        start, end = ranges.date_range({}, shop, DEFAULT_DAYS)
    return start, end, problems


def render_dashboard(shop: Shop, session_started: int | None = None):
    locale = i18n.locale_of(request.args.get("locale"))
    w = Words(locale, ranges.zone(shop))
    start, end, problems = _page_range(shop)
    f = dashboard.figures(read_session(), shop.id, start, end)
    today = datetime.now(w.zone).date()
    last_day = (end - timedelta(days=1)).date()
    presets = [((today - timedelta(days=days - 1)).isoformat(), today.isoformat(), label) for days, label in PRESETS]
    return render(
        "admin/dashboard.html", shop, session_started, status=422 if problems else 200,
        tiles=tiles(f, w), breakdowns=breakdowns(f, w), problems={k: i18n.invalid(locale, v) for k, v in problems.items()},
        first_day=start.date().isoformat(), last_day=last_day.isoformat(), presets=presets,
        range_text=w._("{first} to {last}", first=w.day(start.date()), last=w.day(last_day)),
        low_answers=low_answer_rows(f, w), low_total=f["low_answers"]["total"],
        waiting=f["totals"]["follow_up_hours"]["waiting"],
    )
