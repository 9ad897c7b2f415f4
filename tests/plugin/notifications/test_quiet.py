"""Quiet hours are read in the shop's zone, across midnight and DST."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from plugin.notifications.quiet import release_at

UTC = timezone.utc


@pytest.mark.parametrize("now,zone,expected", [
    # 22:30 in Paris (winter, UTC+1): held until 08:00 Paris the next morning.
    (datetime(2026, 12, 2, 21, 30, tzinfo=UTC), "Europe/Paris", datetime(2026, 12, 3, 7, 0, tzinfo=UTC)),
    # 03:00 in Paris: until 08:00 the same day.
    (datetime(2026, 12, 2, 2, 0, tzinfo=UTC), "Europe/Paris", datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),
    # 12:00 in Paris: not quiet.
    (datetime(2026, 12, 2, 11, 0, tzinfo=UTC), "Europe/Paris", None),
    # Summer time (UTC+2): 08:00 Paris is 06:00 UTC.
    (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), "Europe/Paris", datetime(2026, 7, 2, 6, 0, tzinfo=UTC)),
    # The night DST starts (29 March 2026, 02:00 → 03:00): 08:00 is 06:00 UTC.
    (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "Europe/Paris", datetime(2026, 3, 29, 6, 0, tzinfo=UTC)),
    # No zone known yet: UTC.
    (datetime(2026, 12, 2, 21, 30, tzinfo=UTC), None, datetime(2026, 12, 3, 8, 0, tzinfo=UTC)),
    # An unknown zone falls back to UTC rather than failing.
    (datetime(2026, 12, 2, 21, 30, tzinfo=UTC), "Mars/Olympus", datetime(2026, 12, 3, 8, 0, tzinfo=UTC)),
])
def test_a_window_across_midnight(now, zone, expected):
    assert release_at("21:00-08:00", zone, now) == expected


def test_a_window_within_one_day_and_none():
    noon = datetime(2026, 12, 2, 12, 30, tzinfo=UTC)
    assert release_at("12:00-14:00", None, noon) == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert release_at("12:00-14:00", None, datetime(2026, 12, 2, 14, 0, tzinfo=UTC)) is None
    assert release_at(None, "Europe/Paris", noon) is None
