"""The pure stranding rule behind PUT /doctors/{id}/schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking.models import Booking, Break, DateOverride, TimeRange, WeeklyRule
from booking.schedule_change import stranded_bookings
from tests.conftest import make_doctor

MONDAY = date(2026, 12, 7)


def _booking(hour: int, minute: int = 0, minutes: int = 30) -> Booking:
    start = datetime(2026, 12, 7, hour - 7, minute, tzinfo=UTC)  # WIB wall clock -> UTC
    return Booking(ref="AAA-CCC", patient_id="p", doctor_id="d", start=start,
                   end=start + timedelta(minutes=minutes), created_at=start, updated_at=start)


@pytest.mark.parametrize("change,stranded", [
    ({}, False),
    ({"slot_minutes": 20, "buffer_minutes": 10}, False),  # length alone strands nothing
    ({"weekly": [WeeklyRule(weekday=0, start=time(9), end=time(12))]}, True),
    ({"days_off": [MONDAY]}, True),
    ({"breaks": [Break(start=time(14), end=time(14, 15))]}, True),
    ({"breaks": [Break(start=time(14), end=time(14, 15), weekdays=[1])]}, False),
    ({"overrides": [DateOverride(date=MONDAY, ranges=[TimeRange(start=time(13),
                                                                end=time(15))])]}, False),
    ({"overrides": [DateOverride(date=MONDAY, ranges=[TimeRange(start=time(8),
                                                                end=time(14, 15))])]}, True),
    ({"timezone": "Asia/Jayapura"}, True),  # same wall clock, two hours earlier in UTC
])
def test_stranded(change: dict[str, object], stranded: bool) -> None:
    doctor = make_doctor(**change)
    booking = _booking(14)  # Monday 14:00-14:30 WIB, inside the default afternoon block
    assert bool(stranded_bookings(doctor.schedule(), [booking])) is stranded
