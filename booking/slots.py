"""Slot computation: pure functions, no I/O.

Pipeline (as Cal.com's): expand the weekly rules into dated intervals in the
doctor's zone, subtract breaks and days off, subtract busy time (bookings
widened by the buffer, other patients' holds), cut what is left into slots on
aligned boundaries, then apply minimum notice and the horizon. All instants are
UTC; the zone is used only to turn wall-clock rules into instants, per day, so
daylight-saving days get their own offset.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.models import Schedule


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _local_ranges(schedule: Schedule, day: date) -> list[tuple[time, time]]:
    """Working wall-clock ranges on one local date, before subtracting breaks."""
    if day in schedule.days_off:
        return []
    for override in schedule.overrides:
        if override.date == day:
            return [(r.start, r.end) for r in override.ranges]
    weekday = day.weekday()
    return [(r.start, r.end) for r in schedule.weekly if r.weekday == weekday]


def _minus_breaks(ranges: list[tuple[time, time]], breaks: list[tuple[time, time]]
                  ) -> list[tuple[time, time]]:
    out: list[tuple[time, time]] = []
    for start, end in sorted(ranges):
        pieces = [(start, end)]
        for b_start, b_end in breaks:
            next_pieces = []
            for p_start, p_end in pieces:
                if b_end <= p_start or b_start >= p_end:
                    next_pieces.append((p_start, p_end))
                    continue
                if p_start < b_start:
                    next_pieces.append((p_start, b_start))
                if b_end < p_end:
                    next_pieces.append((b_end, p_end))
            pieces = next_pieces
        out.extend(pieces)
    return _merge_times(out)


def _merge_times(ranges: list[tuple[time, time]]) -> list[tuple[time, time]]:
    merged: list[tuple[time, time]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def working_intervals(schedule: Schedule, first_day: date, last_day: date) -> list[Interval]:
    """Working time of local dates first_day..last_day (inclusive), breaks removed, in UTC."""
    tz = schedule.tz
    out: list[Interval] = []
    day = first_day
    while day <= last_day:
        weekday = day.weekday()
        breaks = [(b.start, b.end) for b in schedule.breaks
                  if not b.weekdays or weekday in b.weekdays]
        for start, end in _minus_breaks(_local_ranges(schedule, day), breaks):
            out.append(Interval(_local(day, start, tz), _local(day, end, tz)))
        day += timedelta(days=1)
    return out


class BusyIndex:
    """Busy intervals sorted once, with a prefix maximum of ends, for repeated subtraction."""

    __slots__ = ("_busy", "_starts", "_max_end")

    def __init__(self, busy: Iterable[Interval]) -> None:
        self._busy = sorted(busy)
        self._starts = [b.start for b in self._busy]
        self._max_end: list[datetime] = []
        running: datetime | None = None
        for b in self._busy:
            running = b.end if running is None or b.end > running else running
            self._max_end.append(running)

    def free_parts(self, rng: Interval) -> list[Interval]:
        """rng minus every busy interval."""
        j = bisect_left(self._starts, rng.start)
        cursor = rng.start
        if j and self._max_end[j - 1] > cursor:  # an earlier interval still covers rng.start
            cursor = self._max_end[j - 1]
        out: list[Interval] = []
        busy = self._busy
        while j < len(busy) and busy[j].start < rng.end and cursor < rng.end:
            b = busy[j]
            if b.start > cursor:
                out.append(Interval(cursor, b.start))
            if b.end > cursor:
                cursor = b.end
            j += 1
        if cursor < rng.end:
            out.append(Interval(cursor, rng.end))
        return out


def subtract(free: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """free minus busy, sorted. O((n + m) log m)."""
    index = BusyIndex(busy)
    return [part for rng in sorted(free) for part in index.free_parts(rng)]


def cut_slots(free: Sequence[Interval], schedule: Schedule, anchor: datetime,
              not_before: datetime, not_after: datetime) -> list[Interval]:
    """Cut free time into slots of slot_minutes on a grid of (slot + buffer) minutes.

    The grid is anchored at the start of the working range, so boundaries stay
    09:00, 09:30, ... whatever was booked or held in between.
    """
    length = timedelta(minutes=schedule.slot_minutes)
    step = timedelta(minutes=schedule.slot_minutes + schedule.buffer_minutes)
    step_s = int(step.total_seconds())
    out: list[Interval] = []
    for rng in free:
        lower = max(rng.start, not_before)
        offset = int((lower - anchor).total_seconds())
        k = max(-(-offset // step_s), 0)  # ceil, never before the anchor
        start = anchor + timedelta(seconds=k * step_s)
        while start + length <= rng.end and start <= not_after:
            out.append(Interval(start, start + length))
            start += step
    return out


def widen(bookings: Iterable[Interval], buffer_minutes: int) -> list[Interval]:
    if not buffer_minutes:
        return list(bookings)
    pad = timedelta(minutes=buffer_minutes)
    return [Interval(b.start - pad, b.end + pad) for b in bookings]


def booking_window(schedule: Schedule, now: datetime) -> tuple[datetime, datetime]:
    """Earliest and latest allowed slot start for `now` (minimum notice, horizon)."""
    return (now + timedelta(minutes=schedule.min_notice_minutes),
            now + timedelta(days=schedule.horizon_days))


def available_slots(schedule: Schedule, *, now: datetime, start: datetime, end: datetime,
                    bookings: Iterable[Interval] = (), holds: Iterable[Interval] = ()
                    ) -> list[Interval]:
    """Free slots whose start lies in [start, end), honouring notice and horizon.

    `bookings` are the doctor's active bookings (widened here by the buffer),
    `holds` the slots other patients are holding right now.
    """
    earliest, latest = booking_window(schedule, now)
    lo, hi = max(start, earliest), min(end, latest + timedelta(microseconds=1))
    if lo >= hi:
        return []
    tz = schedule.tz
    first_day = lo.astimezone(tz).date()
    last_day = hi.astimezone(tz).date()
    busy = widen(bookings, schedule.buffer_minutes)
    busy.extend(holds)
    index = BusyIndex(busy)
    out: list[Interval] = []
    for work in working_intervals(schedule, first_day, last_day):
        if work.end <= lo or work.start >= hi:
            continue
        for slot in cut_slots(index.free_parts(work), schedule, work.start, lo, latest):
            if slot.start < hi:
                out.append(slot)
    return out


def is_bookable(schedule: Schedule, slot_start: datetime, *, now: datetime,
                bookings: Iterable[Interval] = (), holds: Iterable[Interval] = ()) -> bool:
    """Whether slot_start is one of the doctor's free slots right now."""
    slots = available_slots(schedule, now=now, start=slot_start,
                            end=slot_start + timedelta(minutes=1),
                            bookings=bookings, holds=holds)
    return bool(slots) and slots[0].start == slot_start


def is_on_grid(schedule: Schedule, slot_start: datetime) -> bool:
    """Whether slot_start is a slot boundary inside working hours (ignoring bookings and notice)."""
    day = slot_start.astimezone(schedule.tz).date()
    for work in working_intervals(schedule, day - timedelta(days=1), day):
        if work.start <= slot_start < work.end:
            far = work.start - timedelta(days=1)
            slots = cut_slots([work], schedule, work.start, far, slot_start)
            return any(s.start == slot_start for s in slots)
    return False


def group_by_local_day(slots: Iterable[Interval], tz: ZoneInfo) -> dict[date, list[Interval]]:
    out: dict[date, list[Interval]] = {}
    for slot in slots:
        out.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return out
