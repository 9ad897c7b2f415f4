"""The dashboard's figures over a range: every number the page shows, as
plain data (the page formats and draws them: ``dashboard_page``).

Survey figures and the returns' times come from ``surveys.metrics`` (the
module the metrics API serves), contacts from ``help.contact_rate``; the
outbox is counted here. Each figure has its series by week (UTC weeks from
Monday, every week of the range present), for the trend charts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import help
from ..help.models import Contact
from ..models import Notification, NotificationStatus, Order
from ..returns.models import ReturnRequest
from ..surveys import SurveyResponse, summary
from ..surveys.followup import is_low, low_answers
from ..surveys.metrics import weekly_counts, weekly_durations

BREAKDOWNS = ("carrier", "product", "touchpoint", "lateness")
# Mail to the store's own staff, not to customers: not counted as notifications.
STAFF_KINDS = (help.KIND, "data_export")
LOW_ANSWERS_SHOWN = 10


def _weekly(summary_by_week: dict) -> dict[str, dict]:
    return {group["key"]: group for group in summary_by_week["breakdown"]}


def notifications(session: Session, shop_id: int, start: datetime, end: datetime) -> dict:
    """Customer messages queued in [start, end) that were sent, and that
    failed for good; each by week."""
    n = Notification
    scope = (n.shop_id == shop_id, n.kind.not_in(STAFF_KINDS))
    weekly = {status: weekly_counts(session, n.created_at, start, end, *scope, n.status == status)
              for status in (NotificationStatus.SENT.value, NotificationStatus.FAILED.value)}
    return {"sent": sum(weekly["sent"].values()), "failed": sum(weekly["failed"].values()), "weekly": weekly}


def contacts(session: Session, shop_id: int, start: datetime, end: datetime) -> dict:
    """Contacts per 100 orders ("still need help?") over the range and by week."""
    made = weekly_counts(session, Contact.created_at, start, end, Contact.shop_id == shop_id)
    placed = weekly_counts(session, Order.shopify_created_at, start, end, Order.shop_id == shop_id)
    return {
        **help.contact_rate(session, shop_id, start, end),
        "weekly": {week: {"contacts": made[week], "orders": placed[week],
                          "per_100_orders": round(100 * made[week] / placed[week], 1) if placed[week] else None}
                   for week in made},
    }


def figures(session: Session, shop_id: int, start: datetime, end: datetime) -> dict:
    """Everything the dashboard shows for the shop over [start, end)."""
    by_week = summary(session, shop_id, start, end, by="week")
    rr, r = ReturnRequest, SurveyResponse
    returns_scope = (rr.shop_id == shop_id,)
    return {
        "from": start, "to": end,
        "weeks": [group["key"] for group in by_week["breakdown"]],
        "totals": {key: value for key, value in by_week.items() if key != "breakdown"},
        "weekly": _weekly(by_week),
        "returns_weekly": {
            "first_response_hours": weekly_durations(
                session, select(rr.requested_at, rr.first_response_at).where(*returns_scope), start, end),
            "resolution_hours": weekly_durations(
                session, select(rr.requested_at, rr.resolved_at).where(*returns_scope), start, end),
        },
        "follow_up_weekly": weekly_durations(
            session, select(r.answered_at, r.followed_up_at).where(r.shop_id == shop_id, is_low(r)), start, end),
        "notifications": notifications(session, shop_id, start, end),
        "contacts": contacts(session, shop_id, start, end),
        "breakdowns": {by: summary(session, shop_id, start, end, by=by)["breakdown"] for by in BREAKDOWNS},
        "low_answers": low_answers(session, shop_id, per_page=LOW_ANSWERS_SHOWN),
    }
