"""Pure rule for schedule changes: which existing bookings a new schedule would strand."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from booking.models import Booking, Schedule
from booking.slots import working_intervals


def stranded_bookings(schedule: Schedule, bookings: Iterable[Booking]) -> list[Booking]:
    """Bookings whose time no longer lies entirely inside the schedule's working time.

    A change of slot length or buffer alone strands nothing: a booking keeps its
    own start and end; only hours, breaks, overrides and days off can strand it.
    """
    out: list[Booking] = []
    for booking in bookings:
        day = booking.start.astimezone(schedule.tz).date()
        work = working_intervals(schedule, day - timedelta(days=1), day + timedelta(days=1))
        if not any(w.start <= booking.start and booking.end <= w.end for w in work):
            out.append(booking)
    return out
