"""Pure timing rules of the scheduler: no I/O, no clock of their own (``now`` is an argument).

A reminder *kind* ("24h", "2h") is one lead time before the start. For one booking
and one kind the rules answer: not due yet, send (on time or late), or skip (and why).
The jobs module only wires these answers to the store and the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True, order=True)
class ReminderSpec:
    """One reminder before each appointment: ``lead`` before its start."""

    lead: timedelta
    kind: str


def kind_name(lead_minutes: int) -> str:
    """The stable name of a lead time, used in dedupe keys and booking state: 1440 -> '24h'."""
    if lead_minutes <= 0:
        raise ValueError("a reminder lead time must be positive")
    if lead_minutes % 60 == 0:
        return f"{lead_minutes // 60}h"
    return f"{lead_minutes}m"


def reminder_specs(lead_minutes: int, second_minutes: int | None = None
                   ) -> tuple[ReminderSpec, ...]:
    """The configured reminders, longest lead first (a second one equal to the first is dropped)."""
    leads = {lead_minutes}
    if second_minutes:
        leads.add(second_minutes)
    return tuple(ReminderSpec(timedelta(minutes=m), kind_name(m))
                 for m in sorted(leads, reverse=True))


def due_at(start: datetime, spec: ReminderSpec) -> datetime:
    return start - spec.lead


class Action(StrEnum):
    wait = "wait"    # not due yet
    send = "send"    # due: claim it and hand it to the outbox
    skip = "skip"    # never send this one (the reason says why)


class Reason(StrEnum):
    """Why a reminder is skipped; also the REMINDERS metric label of skips."""

    inactive = "inactive"          # cancelled, rescheduled, completed, no-show
    short_notice = "short_notice"  # booked after the reminder was due: its confirmation serves
    stale = "stale"                # the appointment has started (or is about to): too late
    superseded = "superseded"      # a shorter-lead reminder is due too: send only that one


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: Reason | None = None
    late: bool = False  # sent after its due time plus the grace (catch-up after downtime)

    @property
    def outcome(self) -> str:
        """The REMINDERS metric label: sent, late or the skip reason."""
        if self.action == Action.send:
            return "late" if self.late else "sent"
        return self.reason.value if self.reason else self.action.value


WAIT = Decision(Action.wait)


def decide(spec: ReminderSpec, *, start: datetime, created_at: datetime, now: datetime,
           active: bool = True, specs: tuple[ReminderSpec, ...] = (),
           late_grace: timedelta = timedelta(minutes=10),
           stale_margin: timedelta = timedelta(0)) -> Decision:
    """What to do now about reminder ``spec`` of one booking.

    - never for an inactive booking, never once ``start - stale_margin`` is reached;
    - a booking made after the reminder's due time gets none (its confirmation serves);
    - when a shorter-lead reminder of ``specs`` is also due, this one is superseded (catch-up
      after downtime sends one reminder, not two at once);
    - a reminder sent more than ``late_grace`` after its due time is marked late.
    """
    if not active:
        return Decision(Action.skip, Reason.inactive)
    if now >= start - stale_margin:
        return Decision(Action.skip, Reason.stale)
    due = due_at(start, spec)
    if created_at > due:
        return Decision(Action.skip, Reason.short_notice)
    if now < due:
        return WAIT
    for other in specs:
        if other.lead < spec.lead and now >= due_at(start, other) \
                and created_at <= due_at(start, other):
            return Decision(Action.skip, Reason.superseded)
    return Decision(Action.send, late=now > due + late_grace)


@dataclass(frozen=True, slots=True)
class SweepWindow:
    """Which starts one sweep for one kind looks at: ``after < start <= until``."""

    after: datetime
    until: datetime


def sweep_window(spec: ReminderSpec, now: datetime, *, lookback: timedelta) -> SweepWindow:
    """Every booking whose reminder is due (start <= now + lead), plus recently started ones
    (``lookback``) so that reminders missed during downtime are found, skipped and counted."""
    return SweepWindow(after=now - lookback, until=now + spec.lead)


def next_run(now: datetime, every: timedelta) -> datetime:
    """The next run of a periodic job aligned to ``every`` since the epoch (strictly after now),
    so several scheduler instances run their sweeps at the same instants."""
    step = every.total_seconds()
    if step <= 0:
        raise ValueError("the period must be positive")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    elapsed = (now - epoch).total_seconds()
    ticks = int(elapsed // step) + 1
    return epoch + timedelta(seconds=ticks * step)


def backoff(failures: int, *, base: timedelta, cap: timedelta) -> timedelta:
    """Pause after ``failures`` consecutive failed runs: none, then base * 2^(n-1), capped."""
    if failures <= 0:
        return timedelta(0)
    return min(cap, base * (2 ** min(failures - 1, 30)))


def agenda_day(now: datetime, timezone: str, *, hour: int, window_hours: int = 6) -> date | None:
    """The clinic-local date whose morning agenda is due now: from ``hour`` local time for
    ``window_hours`` (a late start still sends it in the morning, never in the evening)."""
    local = now.astimezone(ZoneInfo(timezone))
    if hour <= local.hour < hour + window_hours:
        return local.date()
    return None
