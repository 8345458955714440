"""Pure timing rules, from tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from scheduler import rules
from scheduler.rules import Action, Decision, Reason, ReminderSpec

START = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # Thursday 09:00 WIB
H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = rules.reminder_specs(1440)[0]
TWO = rules.reminder_specs(120)[0]
BOTH = rules.reminder_specs(1440, 120)
SEND, LATE = Decision(Action.send), Decision(Action.send, late=True)


def skip(reason: Reason) -> Decision:
    return Decision(Action.skip, reason)


@pytest.mark.parametrize(("minutes", "kind"), [(1440, "24h"), (120, "2h"), (90, "90m"),
                                               (60, "1h"), (1, "1m")])
def test_kind_name(minutes: int, kind: str) -> None:
    assert rules.kind_name(minutes) == kind


def test_kind_name_refuses_non_positive() -> None:
    with pytest.raises(ValueError):
        rules.kind_name(0)


@pytest.mark.parametrize(("lead", "second", "kinds"), [
    (1440, None, ["24h"]),
    (1440, 120, ["24h", "2h"]),
    (120, 1440, ["24h", "2h"]),   # order by lead, whichever was configured first
    (1440, 1440, ["24h"]),        # the same twice is one reminder
    (1440, 0, ["24h"]),
])
def test_reminder_specs(lead: int, second: int | None, kinds: list[str]) -> None:
    assert [s.kind for s in rules.reminder_specs(lead, second)] == kinds


# spec, created (before start), now (relative to start), specs, expected
DECIDE_TABLE = [
    # not due yet / due on time / late
    ("48h ahead, 30h before", DAY, 48 * H, -30 * H, (), rules.WAIT),
    ("exactly due", DAY, 48 * H, -24 * H, (), SEND),
    ("within grace", DAY, 48 * H, -24 * H + 10 * M, (), SEND),
    ("just past grace: late", DAY, 48 * H, -24 * H + 11 * M, (), LATE),
    ("catch-up 1h before", DAY, 48 * H, -1 * H, (), LATE),
    ("one minute before start", DAY, 48 * H, -1 * M, (), LATE),
    # stale: never at or after the start
    ("at start", DAY, 48 * H, 0 * H, (), skip(Reason.stale)),
    ("after start", DAY, 48 * H, 2 * H, (), skip(Reason.stale)),
    # short notice: booked after the reminder was due
    ("booked 23h ahead", DAY, 23 * H, -22 * H, (), skip(Reason.short_notice)),
    ("booked exactly 24h ahead", DAY, 24 * H, -24 * H, (), SEND),
    ("booked 23h59 ahead", DAY, 24 * H - M, -20 * H, (), skip(Reason.short_notice)),
    ("short notice wins over wait", DAY, 23 * H, -23 * H + M, (), skip(Reason.short_notice)),
    # two reminders
    ("24h of two, on time", DAY, 48 * H, -24 * H, BOTH, SEND),
    ("2h of two, not yet", TWO, 48 * H, -24 * H, BOTH, rules.WAIT),
    ("2h of two, on time", TWO, 48 * H, -2 * H, BOTH, SEND),
    ("24h superseded by due 2h", DAY, 48 * H, -90 * M, BOTH, skip(Reason.superseded)),
    ("2h after downtime, late", TWO, 48 * H, -90 * M, BOTH, LATE),
    ("booked 10h ahead: no 24h", DAY, 10 * H, -5 * H, BOTH, skip(Reason.short_notice)),
    ("booked 10h ahead: 2h still", TWO, 10 * H, -2 * H, BOTH, SEND),
    ("booked 1h ahead: no 2h", TWO, 1 * H, -30 * M, BOTH, skip(Reason.short_notice)),
    # 24h not superseded when the 2h one would itself be short notice: impossible unless the
    # booking was made inside 2h, where the 24h one is short notice too
    ("booked 1h ahead: no 24h", DAY, 1 * H, -30 * M, BOTH, skip(Reason.short_notice)),
]


@pytest.mark.parametrize(("spec", "created", "now", "specs", "expected"),
                         [row[1:] for row in DECIDE_TABLE], ids=[row[0] for row in DECIDE_TABLE])
def test_decide(spec: ReminderSpec, created: timedelta, now: timedelta,
                specs: tuple[ReminderSpec, ...], expected: Decision) -> None:
    got = rules.decide(spec, start=START, created_at=START - created, now=START + now,
                       specs=specs, late_grace=10 * M)
    assert got == expected


def test_decide_inactive_and_stale_margin() -> None:
    assert rules.decide(DAY, start=START, created_at=START - 48 * H, now=START - 24 * H,
                        active=False) == skip(Reason.inactive)
    # with a 30-minute margin, 20 minutes before the start is too late to remind
    assert rules.decide(DAY, start=START, created_at=START - 48 * H, now=START - 20 * M,
                        stale_margin=30 * M) == skip(Reason.stale)
    assert rules.decide(DAY, start=START, created_at=START - 48 * H, now=START - 40 * M,
                        stale_margin=30 * M) == LATE


@pytest.mark.parametrize(("decision", "outcome"), [
    (SEND, "sent"), (LATE, "late"), (skip(Reason.stale), "stale"),
    (skip(Reason.short_notice), "short_notice"), (rules.WAIT, "wait")])
def test_outcome_labels(decision: Decision, outcome: str) -> None:
    assert decision.outcome == outcome


def test_sweep_window_covers_due_and_recently_started() -> None:
    now = START - 24 * H
    window = rules.sweep_window(DAY, now, lookback=24 * H)
    assert window.until == START            # due now: start <= now + lead
    assert window.after == now - 24 * H
    # everything the window holds is due or stale (never "wait")
    for offset in (0 * H, 1 * H, 23 * H):
        assert rules.decide(DAY, start=window.until - offset, created_at=now - 48 * H,
                            now=now).action != Action.wait


@pytest.mark.parametrize(("now", "every", "expected"), [
    (datetime(2026, 12, 7, 0, 0, 0, tzinfo=UTC), timedelta(seconds=60),
     datetime(2026, 12, 7, 0, 1, tzinfo=UTC)),            # on a boundary: the next one
    (datetime(2026, 12, 7, 0, 0, 59, tzinfo=UTC), timedelta(seconds=60),
     datetime(2026, 12, 7, 0, 1, tzinfo=UTC)),
    (datetime(2026, 12, 7, 0, 7, 30, tzinfo=UTC), timedelta(minutes=5),
     datetime(2026, 12, 7, 0, 10, tzinfo=UTC)),
    (datetime(2026, 12, 7, 23, 59, 59, tzinfo=UTC), timedelta(hours=1),
     datetime(2026, 12, 8, 0, 0, tzinfo=UTC)),
])
def test_next_run(now: datetime, every: timedelta, expected: datetime) -> None:
    assert rules.next_run(now, every) == expected


def test_next_run_refuses_zero_period() -> None:
    with pytest.raises(ValueError):
        rules.next_run(START, timedelta(0))


@pytest.mark.parametrize(("failures", "expected_s"), [(0, 0), (1, 5), (2, 10), (3, 20),
                                                      (6, 160), (7, 300), (100, 300)])
def test_backoff(failures: int, expected_s: int) -> None:
    got = rules.backoff(failures, base=timedelta(seconds=5), cap=timedelta(minutes=5))
    assert got == timedelta(seconds=expected_s)


@pytest.mark.parametrize(("now", "tz", "expected"), [
    (datetime(2026, 12, 6, 22, 59, tzinfo=UTC), "Asia/Jakarta", None),           # 05:59 WIB
    (datetime(2026, 12, 6, 23, 0, tzinfo=UTC), "Asia/Jakarta", date(2026, 12, 7)),
    (datetime(2026, 12, 7, 4, 59, tzinfo=UTC), "Asia/Jakarta", date(2026, 12, 7)),  # 11:59
    (datetime(2026, 12, 7, 5, 0, tzinfo=UTC), "Asia/Jakarta", None),             # noon: too late
    (datetime(2026, 12, 6, 22, 0, tzinfo=UTC), "Asia/Makassar", date(2026, 12, 7)),  # 06 WITA
    (datetime(2026, 12, 6, 21, 0, tzinfo=UTC), "Asia/Jayapura", date(2026, 12, 7)),  # 06 WIT
])
def test_agenda_day(now: datetime, tz: str, expected: date | None) -> None:
    assert rules.agenda_day(now, tz, hour=6) == expected
