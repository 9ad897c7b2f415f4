"""The date range of an admin request (`from`, `to`): the shop's calendar
days, so `from=2026-11-01` starts at midnight in the shop's time zone and
`to` is exclusive; a full ISO 8601 time is taken as given. Shared by the
metrics API and the dashboard, so both read a range alike."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..models import Shop

DEFAULT_DAYS = 30
MAX_DAYS = 3660  # ten years: a range longer than this is a typo


class BadParameter(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def zone(shop: Shop) -> ZoneInfo:
    try:
        return ZoneInfo(shop.iana_timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _moment(args, field: str, default: datetime, tz: ZoneInfo) -> datetime:
    raw = (args.get(field) or "").strip()
    if not raw:
        return default
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=tz)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadParameter(field, "must be a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def date_range(args, shop: Shop, default_days: int = DEFAULT_DAYS) -> tuple[datetime, datetime]:
    """[start, end) from ``args``; by default the ``default_days`` up to and
    including today. Raises BadParameter naming the field."""
    tz = zone(shop)
    tomorrow = datetime.combine(datetime.now(tz).date() + timedelta(days=1), time(), tzinfo=tz)
    end = _moment(args, "to", tomorrow, tz)
    start = _moment(args, "from", end - timedelta(days=default_days), tz)
    if start >= end:
        raise BadParameter("from", "must be before to")
    if end - start > timedelta(days=MAX_DAYS):
        raise BadParameter("from", f"the range may span at most {MAX_DAYS} days")
    return start, end
