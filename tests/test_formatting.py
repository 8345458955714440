"""Dates as patients read them (booking/formatting.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.formatting import relative_day

START = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # Thursday 09:00 WIB


@pytest.mark.parametrize(("start", "now", "tz", "expected"), [
    # 09:00 WIB on the 10th; now 10:00 WIB on the 9th -> tomorrow
    (START, datetime(2026, 12, 9, 3, 0, tzinfo=UTC), "Asia/Jakarta", "tomorrow"),
    (START, datetime(2026, 12, 10, 0, 0, tzinfo=UTC), "Asia/Jakarta", "today"),
    # 23:30 UTC on the 9th is already the 10th in Jakarta
    (START, datetime(2026, 12, 9, 23, 30, tzinfo=UTC), "Asia/Jakarta", "today"),
    (START, datetime(2026, 12, 8, 3, 0, tzinfo=UTC), "Asia/Jakarta", None),
    # same instants, Jayapura (UTC+9): 11:00 WIT on the 10th
    (START, datetime(2026, 12, 9, 14, 30, tzinfo=UTC), "Asia/Jayapura", "tomorrow"),
    (START, datetime(2026, 12, 9, 15, 30, tzinfo=UTC), "Asia/Jayapura", "today"),
])
def test_relative_day(start: datetime, now: datetime, tz: str, expected: str | None) -> None:
    assert relative_day(start, now, tz) == expected
