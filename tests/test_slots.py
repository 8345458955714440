"""Pure slot rules, table-driven, with a fixed 'now'."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.models import DateOverride, Schedule, TimeRange, WeeklyRule
from booking.slots import Interval, available_slots, is_on_grid, subtract, working_intervals

JKT = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # Sunday 19:00 WIB


def sched(**kw: object) -> Schedule:
    base: dict[str, object] = dict(
        timezone="Asia/Jakarta", slot_minutes=30, min_notice_minutes=0, horizon_days=30,
        weekly=[WeeklyRule(weekday=0, start=time(9), end=time(11))])
    base.update(kw)
    return Schedule.model_validate(base)


def local_starts(slots: list[Interval], tz: str = "Asia/Jakarta") -> list[str]:
    return [s.start.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M") for s in slots]


def at(day: str, hhmm: str, tz: str = "Asia/Jakarta") -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


MONDAY = "2026-12-07"

CASES = [
    ("plain weekday", sched(), {}, ["12-07 09:00", "12-07 09:30", "12-07 10:00", "12-07 10:30"]),
    ("break removes 10:00", sched(breaks=[{"start": "10:00", "end": "10:30"}]), {},
     ["12-07 09:00", "12-07 09:30", "12-07 10:30"]),
    ("break on another weekday ignored",
     sched(breaks=[{"start": "10:00", "end": "10:30", "weekdays": [1]}]), {},
     ["12-07 09:00", "12-07 09:30", "12-07 10:00", "12-07 10:30"]),
    ("day off", sched(days_off=[date(2026, 12, 7)]), {}, []),
    ("override replaces hours",
     sched(overrides=[DateOverride(date=date(2026, 12, 7),
                                   ranges=[TimeRange(start=time(14), end=time(15))])]),
     {}, ["12-07 14:00", "12-07 14:30"]),
    ("override without ranges is a day off",
     sched(overrides=[DateOverride(date=date(2026, 12, 7), ranges=[])]), {}, []),
    ("booking removes its slot", sched(),
     {"bookings": [Interval(at(MONDAY, "09:30"), at(MONDAY, "10:00"))]},
     ["12-07 09:00", "12-07 10:00", "12-07 10:30"]),
    ("hold hides a slot", sched(),
     {"holds": [Interval(at(MONDAY, "10:30"), at(MONDAY, "11:00"))]},
     ["12-07 09:00", "12-07 09:30", "12-07 10:00"]),
    ("buffer widens bookings and spaces the grid", sched(buffer_minutes=10),
     {"bookings": [Interval(at(MONDAY, "09:00"), at(MONDAY, "09:30"))]},
     ["12-07 09:40", "12-07 10:20"]),
    ("grid stays aligned after an odd booking", sched(),
     {"bookings": [Interval(at(MONDAY, "09:10"), at(MONDAY, "09:40"))]},
     ["12-07 10:00", "12-07 10:30"]),
    # now + 26.5 h = Monday 21:30 WIB: all of Monday is too soon
    ("minimum notice", sched(min_notice_minutes=60 * 24 + 150), {},
     []),
    ("20-minute slots", sched(slot_minutes=20),
     {}, ["12-07 09:00", "12-07 09:20", "12-07 09:40", "12-07 10:00", "12-07 10:20",
          "12-07 10:40"]),
]


@pytest.mark.parametrize(("name", "schedule", "busy", "expected"), CASES, ids=[c[0] for c in CASES])
def test_available_slots_table(name: str, schedule: Schedule, busy: dict[str, list[Interval]],
                               expected: list[str]) -> None:
    start, end = at(MONDAY, "00:00"), at("2026-12-08", "00:00")
    slots = available_slots(schedule, now=NOW, start=start, end=end, **busy)
    assert local_starts(slots) == expected


def test_min_notice_cuts_the_morning() -> None:
    now = at(MONDAY, "08:45")
    slots = available_slots(sched(min_notice_minutes=60), now=now, start=now,
                            end=now + timedelta(days=1))
    assert local_starts(slots) == ["12-07 10:00", "12-07 10:30"]


def test_horizon_limits_days() -> None:
    schedule = sched(horizon_days=8)  # Sunday noon + 8 days: the 14th at 19:00 WIB
    slots = available_slots(schedule, now=NOW, start=NOW, end=NOW + timedelta(days=30))
    assert {s.start.astimezone(JKT).date() for s in slots} == {date(2026, 12, 7),
                                                              date(2026, 12, 14)}


@pytest.mark.parametrize(("tz", "utc_hour"), [("Asia/Jakarta", 2), ("Asia/Makassar", 1),
                                              ("Asia/Jayapura", 0)])
def test_indonesian_zones(tz: str, utc_hour: int) -> None:
    """09:00 local is 02:00 UTC in WIB, 01:00 in WITA, 00:00 in WIT."""
    slots = available_slots(sched(timezone=tz), now=NOW, start=NOW, end=NOW + timedelta(days=2))
    assert slots[0].start == datetime(2026, 12, 7, utc_hour, 0, tzinfo=UTC)
    assert local_starts(slots, tz)[0] == "12-07 09:00"


@pytest.mark.parametrize(("day", "utc_hour"), [
    ("2026-03-23", 8),   # week before spring-forward: CET (UTC+1)
    ("2026-03-30", 7),   # after 29 March: CEST (UTC+2)
    ("2026-10-19", 7),   # before 25 October: CEST
    ("2026-10-26", 8),   # after: CET again
])
def test_daylight_saving_amsterdam(day: str, utc_hour: int) -> None:
    schedule = sched(timezone="Europe/Amsterdam", horizon_days=365)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    slots = available_slots(schedule, now=now, start=start, end=start + timedelta(days=1))
    assert slots[0].start == start.replace(hour=utc_hour)
    assert local_starts(slots, "Europe/Amsterdam") == [
        f"{day[5:]} 09:00", f"{day[5:]} 09:30", f"{day[5:]} 10:00", f"{day[5:]} 10:30"]


def test_dst_switch_days_keep_wall_clock() -> None:
    """Sunday rules on the switch days themselves: 09:00 local each time."""
    schedule = sched(timezone="Europe/Amsterdam", horizon_days=365,
                     weekly=[WeeklyRule(weekday=6, start=time(9), end=time(10))])
    work = working_intervals(schedule, date(2026, 3, 29), date(2026, 3, 29))
    assert work == [Interval(datetime(2026, 3, 29, 7, tzinfo=UTC),
                             datetime(2026, 3, 29, 8, tzinfo=UTC))]
    work = working_intervals(schedule, date(2026, 10, 25), date(2026, 10, 25))
    assert work == [Interval(datetime(2026, 10, 25, 8, tzinfo=UTC),
                             datetime(2026, 10, 25, 9, tzinfo=UTC))]


SUBTRACT_CASES = [
    ([(0, 10)], [], [(0, 10)]),
    ([(0, 10)], [(2, 4)], [(0, 2), (4, 10)]),
    ([(0, 10)], [(-5, 3), (8, 20)], [(3, 8)]),
    ([(0, 10)], [(-5, 20)], []),
    ([(0, 10), (20, 30)], [(5, 25)], [(0, 5), (25, 30)]),
    ([(10, 20)], [(0, 15), (1, 2)], [(15, 20)]),  # a long earlier interval still covers
    ([(0, 10)], [(2, 6), (3, 4), (5, 7)], [(0, 2), (7, 10)]),
]


@pytest.mark.parametrize(("free", "busy", "expected"), SUBTRACT_CASES)
def test_subtract(free: list[tuple[int, int]], busy: list[tuple[int, int]],
                  expected: list[tuple[int, int]]) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)

    def iv(pairs: list[tuple[int, int]]) -> list[Interval]:
        return [Interval(base + timedelta(minutes=a), base + timedelta(minutes=b))
                for a, b in pairs]

    assert subtract(iv(free), iv(busy)) == iv(expected)


@pytest.mark.parametrize(("hhmm", "ok"), [("09:00", True), ("09:30", True), ("09:15", False),
                                          ("11:00", False), ("08:30", False)])
def test_is_on_grid(hhmm: str, ok: bool) -> None:
    assert is_on_grid(sched(), at(MONDAY, hhmm)) is ok
