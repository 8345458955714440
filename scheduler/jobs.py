"""Scheduler jobs: they wire the pure rules (scheduler/rules.py) to the store and the outbox.

- reminder sweep: find due reminders (indexed query), decide each with `rules.decide`,
  claim the ones to send atomically on the booking, hand them to the outbox (dedupe key
  per booking and kind), close the claims; skips are recorded and counted;
- completion: ended bookings become completed (`BookingService.complete_past`);
- pending outbox flush: notifications a crashed process decided but did not copy;
- reschedule repair: a move a crash interrupted after the new booking was written;
- outbox dispatch: the gateway's dispatcher, every few seconds, with backoff on failure;
- daily doctor agenda (off by default).

Every job is safe to run in several scheduler instances at once: reminders through the
atomic claims, the rest through compare-and-set transitions and unique dedupe keys.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.base import BaseScheduler

from app.metrics import REMINDERS
from app.settings import Settings
from booking.errors import NotFound
from booking.models import Booking, BookingStatus, Doctor, User
from booking.service import BookingService
from booking.store import Store
from notify import rules as notices
from scheduler import rules
from scheduler.rules import Action, ReminderSpec

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---- reminders -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReminderConfig:
    specs: tuple[ReminderSpec, ...]
    claim_ttl: timedelta = timedelta(minutes=5)
    late_grace: timedelta = timedelta(minutes=10)
    stale_margin: timedelta = timedelta(0)
    lookback: timedelta = timedelta(hours=24)
    batch: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderConfig:
        return cls(specs=rules.reminder_specs(settings.reminder_lead_minutes,
                                              settings.second_reminder_minutes),
                   claim_ttl=timedelta(seconds=settings.reminder_claim_seconds),
                   late_grace=timedelta(minutes=settings.reminder_late_grace_minutes),
                   stale_margin=timedelta(minutes=settings.reminder_stale_minutes),
                   lookback=timedelta(hours=settings.reminder_catchup_hours),
                   batch=settings.reminder_batch)


@dataclass(slots=True)
class SweepReport:
    """What one sweep did: outcomes (sent, late, skip reasons) and claims lost to others."""

    outcomes: Counter[str] = field(default_factory=Counter)
    claimed: int = 0
    lost: int = 0
    enqueued: int = 0

    @property
    def handed_over(self) -> int:
        return self.outcomes["sent"] + self.outcomes["late"]


class ReminderSweeper:
    """Finds due reminders and hands each to the outbox exactly once."""

    def __init__(self, store: Store, service: BookingService, config: ReminderConfig, *,
                 clock: Clock | None = None, instance: str | None = None) -> None:
        self.store = store
        self.rstore = store.reminders
        self.service = service
        self.config = config
        self.clock = clock or service.clock
        self.instance = instance or secrets.token_hex(4)
        self.stopping = False

    @property
    def kinds(self) -> list[str]:
        return [spec.kind for spec in self.config.specs]

    async def ensure_indexes(self) -> list[str]:
        return await self.rstore.ensure_indexes(self.kinds)

    async def sweep(self, *, max_batches: int = 1_000) -> SweepReport:
        report = SweepReport()
        for spec in self.config.specs:
            for _ in range(max_batches):
                if self.stopping:
                    return report
                now = self.clock()
                window = rules.sweep_window(spec, now, lookback=self.config.lookback)
                due = await self.rstore.find_due(spec.kind, after=window.after,
                                                 until=window.until, now=now,
                                                 limit=self.config.batch)
                if not due:
                    break
                progressed = await self._batch(spec, due, now, report)
                if not progressed or len(due) < self.config.batch:
                    break
        if report.outcomes or report.lost:
            log.info("reminder sweep %s: %s, lost %d claims to other instances",
                     self.instance, dict(report.outcomes), report.lost)
        return report

    def _decide(self, spec: ReminderSpec, booking: Booking, now: datetime) -> rules.Decision:
        return rules.decide(spec, start=booking.start, created_at=booking.created_at, now=now,
                            active=booking.status == BookingStatus.confirmed,
                            specs=self.config.specs, late_grace=self.config.late_grace,
                            stale_margin=self.config.stale_margin)

    async def _batch(self, spec: ReminderSpec, due: list[Booking], now: datetime,
                     report: SweepReport) -> bool:
        decisions = {b.id: self._decide(spec, b, now) for b in due}
        skips: dict[str, list[str]] = {}
        for booking_id, decision in decisions.items():
            if decision.action == Action.skip and decision.reason is not None:
                skips.setdefault(decision.reason.value, []).append(booking_id)
        for reason, ids in skips.items():
            self._count(report, reason, await self.rstore.mark_skipped(
                ids, spec.kind, reason=reason, now=now))
        to_send = [b.id for b in due if decisions[b.id].action == Action.send]
        if to_send:
            await self._send(spec, to_send, decisions, now, report)
        return bool(skips or to_send)

    async def _send(self, spec: ReminderSpec, booking_ids: list[str],
                    decisions: dict[str, rules.Decision], now: datetime,
                    report: SweepReport) -> None:
        token = f"{self.instance}:{secrets.token_hex(6)}"
        claimed = await self.rstore.claim_many(booking_ids, spec.kind, token=token, now=now,
                                               ttl=self.config.claim_ttl)
        report.claimed += len(claimed)
        report.lost += len(booking_ids) - len(claimed)
        if not claimed:
            return
        doctors: dict[str, Doctor] = await self.store.doctors.get_many(
            sorted({b.doctor_id for b in claimed}))
        patients = await self.rstore.users_by_id([b.patient_id for b in claimed])
        entries: list[dict[str, Any]] = []
        on_time: list[str] = []
        late: list[str] = []
        undeliverable: list[str] = []
        for booking in claimed:
            doctor, patient = doctors.get(booking.doctor_id), patients.get(booking.patient_id)
            is_late = decisions[booking.id].late
            entry = notices.reminder_entry(booking, doctor, patient, kind=spec.kind, now=now,
                                            late=is_late) if doctor and patient else None
            if entry is None:
                undeliverable.append(booking.id)
                continue
            entries.append(entry)
            (late if is_late else on_time).append(booking.id)
        if entries:
            report.enqueued += await self.store.outbox.enqueue(entries)
        # A crash before these lines leaves claims that expire; the next sweep re-claims them
        # and the dedupe keys keep the outbox single.
        self._count(report, "sent", await self.rstore.mark_sent(
            on_time, spec.kind, token=token, now=now, late=False))
        self._count(report, "late", await self.rstore.mark_sent(
            late, spec.kind, token=token, now=now, late=True))
        if undeliverable:
            log.warning("reminders %s: %d bookings have no reachable patient or doctor "
                        "(first: %s)", spec.kind, len(undeliverable), undeliverable[0])
            self._count(report, "no_contact", await self.rstore.mark_skipped(
                undeliverable, spec.kind, reason="no_contact", now=now, token=token))

    @staticmethod
    def _count(report: SweepReport, outcome: str, n: int) -> None:
        if n:
            report.outcomes[outcome] += n
            REMINDERS.labels(outcome=outcome).inc(n)


# ---- daily doctor agenda -------------------------------------------------------------------
class AgendaJob:
    """Each clinic morning, every active doctor with patients that day gets their agenda."""

    KV_PREFIX = "scheduler:agenda:"  # last day an agenda was enqueued, per doctor

    def __init__(self, store: Store, service: BookingService, *, hour: int,
                 clock: Clock | None = None) -> None:
        self.store = store
        self.rstore = store.reminders
        self.service = service
        self.hour = hour
        self.clock = clock or service.clock

    async def run(self) -> int:
        now = self.clock()
        doctors, _ = await self.store.doctors.find(active_only=True)
        enqueued = 0
        for doctor in doctors:
            day = rules.agenda_day(now, doctor.timezone, hour=self.hour)
            if day is None or await self.store.kv.get(self.KV_PREFIX + doctor.id) == str(day):
                continue
            bookings = [b for b in await self.service.agenda(doctor.id, day)
                        if b.status == BookingStatus.confirmed]
            if bookings:
                patients = await self.rstore.users_by_id([b.patient_id for b in bookings])
                entry = notices.agenda_entry(doctor, await self._doctor_user(doctor), day,
                                              bookings, patients, now=now)
                if entry is not None:
                    enqueued += await self.store.outbox.enqueue([entry])
                else:
                    log.warning("agenda: doctor %s has no WhatsApp number or email", doctor.id)
            await self.store.kv.set(self.KV_PREFIX + doctor.id, str(day))
        return enqueued

    async def _doctor_user(self, doctor: Doctor) -> User | None:
        if not doctor.user_id:
            return None
        try:
            user: User = await self.store.users.get(doctor.user_id)
        except NotFound:
            return None
        return user


# ---- outbox dispatch -----------------------------------------------------------------------
class Dispatcher(Protocol):
    async def run_once(self, *, limit: int = 100) -> int: ...


class DispatchJob:
    """Runs the outbox dispatcher; after failed runs it pauses, doubling each time."""

    LIMIT = 100
    MAX_ROUNDS = 10  # a full batch is followed at once by the next, up to this many

    def __init__(self, dispatcher: Dispatcher | None, *, base: timedelta,
                 cap: timedelta = timedelta(minutes=5), clock: Clock = utcnow) -> None:
        self.dispatcher = dispatcher
        self.base = base
        self.cap = cap
        self.clock = clock
        self.failures = 0
        self.resume_at: datetime | None = None

    async def close(self) -> None:
        """Close the dispatcher's resources if it has any (idempotent on the gateway's side)."""
        close = getattr(self.dispatcher, "close", None)
        if close is not None:
            await close()

    async def run(self) -> int:
        if self.dispatcher is None:
            return 0
        now = self.clock()
        if self.resume_at is not None and now < self.resume_at:
            return 0
        sent = 0
        try:
            for _ in range(self.MAX_ROUNDS):
                n = await self.dispatcher.run_once(limit=self.LIMIT)
                sent += n
                if n < self.LIMIT:
                    break
        except Exception as exc:
            self.failures += 1
            pause = rules.backoff(self.failures, base=self.base, cap=self.cap)
            self.resume_at = now + pause
            # the type only: a driver's or client's message may carry a number or a URL
            log.warning("outbox dispatch failed (%s, %d in a row): next try in %ds",
                        type(exc).__name__, self.failures, pause.total_seconds())
            return sent
        self.failures = 0
        self.resume_at = None
        return sent


# ---- wiring --------------------------------------------------------------------------------
class Jobs:
    """All jobs of one scheduler instance, with single-flight runs and a clean stop."""

    def __init__(self, settings: Settings, store: Store, service: BookingService, *,
                 dispatch: DispatchJob | None = None, clock: Clock | None = None,
                 instance: str | None = None) -> None:
        self.settings = settings
        self.store = store
        self.service = service
        self.clock = clock or service.clock
        self.reminders = ReminderSweeper(store, service, ReminderConfig.from_settings(settings),
                                         clock=self.clock, instance=instance)
        self.agenda = AgendaJob(store, service, hour=settings.doctor_agenda_hour,
                                clock=self.clock)
        self.dispatch = dispatch or DispatchJob(
            None, base=timedelta(seconds=settings.outbox_dispatch_seconds))
        self._running: dict[str, asyncio.Task[Any]] = {}
        self.stopping = False

    async def prepare(self) -> None:
        names = await self.reminders.ensure_indexes()
        log.info("reminder sweep indexes: %s", names)

    # the job bodies -------------------------------------------------------------------------
    async def sweep_reminders(self) -> SweepReport:
        return await self.reminders.sweep()

    async def complete_past(self) -> int:
        limit, total = 500, 0
        for _ in range(20):
            done = await self.service.complete_past(limit=limit)
            total += done
            if done < limit:
                break
        if total:
            log.info("completed %d past bookings", total)
        return total

    async def flush_pending_outbox(self) -> int:
        return await self.service.flush_pending_outbox()

    async def repair_reschedules(self) -> int:
        return await self.service.repair_interrupted_reschedules()

    async def dispatch_outbox(self) -> int:
        return await self.dispatch.run()

    async def doctor_agenda(self) -> int:
        return await self.agenda.run()

    # single flight, errors logged, tracked for the stop -----------------------------------
    async def run(self, name: str) -> Any:
        """Run one job unless it is still running (a slow run is not stacked) or we stop."""
        if self.stopping or name in self._running:
            return None
        task = asyncio.current_task()
        assert task is not None
        self._running[name] = task
        try:
            return await getattr(self, name)()
        except Exception:
            log.exception("scheduler job %s failed", name)
            return None
        finally:
            self._running.pop(name, None)

    def register(self, scheduler: BaseScheduler, *, now: datetime | None = None) -> list[str]:
        """Add the periodic jobs; the reminder sweep runs at once (catch-up after downtime),
        completion after one sweep period (so missed reminders are counted stale first)."""
        s = self.settings
        now = now or utcnow()
        sweep = timedelta(seconds=s.reminder_sweep_seconds)
        plan: list[tuple[str, timedelta, datetime]] = [
            ("sweep_reminders", sweep, now),
            ("flush_pending_outbox", timedelta(minutes=1), now),
            ("repair_reschedules", timedelta(minutes=1), now),
            ("complete_past", timedelta(minutes=s.complete_past_minutes), now + sweep),
            ("dispatch_outbox", timedelta(seconds=s.outbox_dispatch_seconds),
             now + timedelta(seconds=1)),
        ]
        if s.doctor_agenda_enabled:
            plan.append(("doctor_agenda", timedelta(minutes=10), now))
        for name, every, first in plan:
            scheduler.add_job(self.run, "interval", args=[name], id=name, name=name,
                              seconds=every.total_seconds(), next_run_time=first,
                              coalesce=True, max_instances=3, misfire_grace_time=None,
                              replace_existing=True)
        return [name for name, _, _ in plan]

    async def stop(self, timeout: float = 10.0) -> None:
        """Refuse new runs, let running ones finish their current step, then return."""
        self.stopping = True
        self.reminders.stopping = True
        running = list(self._running.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=timeout)
            for task in pending:
                task.cancel()
        await self.dispatch.close()
