"""Quiet hours: no customer message goes out at night in the shop's time zone.

``notifications.quiet_hours`` is a window like "21:00-08:00" in the shop's
IANA zone (``shops.iana_timezone``; UTC while unknown). A message that falls
due inside it waits until the window ends, then goes. Times are computed in
the shop's zone and stored in UTC, so the window follows daylight saving.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)


def zone(iana_timezone: str | None) -> ZoneInfo | timezone:
    if not iana_timezone:
        return timezone.utc
    try:
        return ZoneInfo(iana_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r; quiet hours use UTC", iana_timezone)
        return timezone.utc


def _parse(window: str) -> tuple[time, time]:
    start, end = window.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def release_at(window: str | None, iana_timezone: str | None, now: datetime) -> datetime | None:
    """When the quiet window holding ``now`` ends (UTC); None when ``now`` is
    outside it, or there is no window."""
    if not window:
        return None
    start, end = _parse(window)
    tz = zone(iana_timezone)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= t < end, local.date()
    else:  # the window crosses midnight
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(timezone.utc)


def due_at(window: str | None, iana_timezone: str | None, now: datetime) -> datetime:
    """``now``, or the end of the quiet window ``now`` falls in."""
    return release_at(window, iana_timezone, now) or now
