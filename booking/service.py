"""The booking service: book, cancel, reschedule, availability. Handlers and actions call this."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from booking.errors import (
    CutoffPassed,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PatientOverlap,
    ScheduleConflict,
    SlotUnavailable,
    TooManyBookings,
)
from booking.locks import Coordinator, Hold
from booking.models import (
    TRANSITIONS,
    Booking,
    BookingSource,
    BookingStatus,
    Doctor,
    HistoryEntry,
    Role,
    Schedule,
    User,
    as_utc,
    slot_key,
)
from booking.notices import Notice, Notices
from booking.refs import new_ref
from booking.schedule_change import stranded_bookings
from booking.slots import Interval, available_slots, is_on_grid
from booking.store import SlotKeyTaken, Store

log = logging.getLogger(__name__)

DOCTOR_CACHE_NS = "doctors"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Policy:
    cutoff_minutes: int = 120     # no patient cancel/reschedule closer than this to the start
    alternatives: int = 3         # how many next free slots a "taken" answer carries
    earliest_window_days: int = 3  # chunk size when scanning for the earliest slot
    max_upcoming: int = 5         # upcoming bookings one patient may hold (no hoarding)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: enforced on every change (a patient touches only their own bookings)."""

    user_id: str
    role: Role

    @classmethod
    def system(cls) -> Actor:
        return cls("system", Role.admin)


@dataclass(frozen=True, slots=True)
class Booked:
    booking: Booking
    doctor: Doctor
    replayed: bool = False  # an idempotent retry returned the earlier booking


@dataclass(frozen=True, slots=True)
class SlotTaken:
    """Losing the race is a normal result: the slot went to someone else; here are others."""

    doctor_id: str
    start: datetime
    alternatives: list[tuple[Doctor, Interval]] = field(default_factory=list)
    reason: str = "taken"  # taken | held | busy


BookResult = Booked | SlotTaken


@dataclass(frozen=True, slots=True)
class ScheduleSaved:
    doctor: Doctor
    stranded: list[Booking]   # bookings the new schedule no longer covers (patients told)
    notified: int             # outbox entries written for them


class BookingService:
    def __init__(self, store: Store, coordinator: Coordinator, *, notices: Notices,
                 policy: Policy | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.coord = coordinator
        self.notices = notices
        self.policy = policy or Policy()
        self.clock = clock
        # Told of every slot a cancellation or a move frees (the waitlist): (doctor, start).
        self.slot_listeners: list[Callable[[str, datetime], Awaitable[Any]]] = []

    async def _slot_freed(self, doctor_id: str, start: datetime) -> None:
        """A listener's failure never undoes the change that freed the slot."""
        for listener in self.slot_listeners:
            try:
                await listener(doctor_id, start)
            except Exception:
                log.exception("slot listener failed")

    # ---- doctors and availability ----------------------------------------------------
    async def doctor(self, doctor_id: str) -> Doctor:
        doctor: Doctor = await self.store.doctors.get(doctor_id)
        return doctor

    async def availability(self, doctor: Doctor, start: datetime, end: datetime, *,
                           patient_id: str | None = None) -> list[Interval]:
        """Free slots of one doctor starting in [start, end).

        The asking patient's own hold counts as free.
        """
        busy = await self.store.bookings.busy_intervals([doctor.id], start - timedelta(days=1),
                                               end + timedelta(days=1))
        holds = await self.coord.holds([doctor.id], exclude_patient=patient_id)
        return available_slots(doctor, now=self.clock(), start=start, end=end,
                               bookings=busy[doctor.id], holds=holds[doctor.id])

    async def day_slots(self, doctor: Doctor, day: date, *, patient_id: str | None = None
                        ) -> list[Interval]:
        tz = doctor.tz
        start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        return await self.availability(doctor, start, end, patient_id=patient_id)

    async def earliest(self, doctors: list[Doctor], *, after: datetime | None = None,
                       limit: int = 3, patient_id: str | None = None
                       ) -> list[tuple[Doctor, Interval]]:
        """The earliest `limit` free slots across doctors, scanning forward in day chunks."""
        doctors = [d for d in doctors if d.active]
        if not doctors:
            return []
        now = self.clock()
        cursor = max(after or now, now)
        horizon = now + timedelta(days=max(d.horizon_days for d in doctors))
        step = timedelta(days=self.policy.earliest_window_days)
        ids = [d.id for d in doctors]
        holds = await self.coord.holds(ids, exclude_patient=patient_id)
        found: list[tuple[Doctor, Interval]] = []
        while cursor < horizon and len(found) < limit:
            window_end = min(cursor + step, horizon + timedelta(minutes=1))
            busy = await self.store.bookings.busy_intervals(ids, cursor - timedelta(days=1),
                                                   window_end + timedelta(days=1))
            for doctor in doctors:
                for slot in available_slots(doctor, now=now, start=cursor, end=window_end,
                                            bookings=busy[doctor.id], holds=holds[doctor.id]):
                    found.append((doctor, slot))
            cursor = window_end
        found.sort(key=lambda pair: (pair[1].start, pair[0].name))
        return found[:limit]

    async def _alternatives(self, doctor: Doctor, after: datetime, patient_id: str | None
                            ) -> list[tuple[Doctor, Interval]]:
        alts = await self.earliest([doctor], after=after, limit=self.policy.alternatives,
                                   patient_id=patient_id)
        if len(alts) < self.policy.alternatives:  # the doctor is full: same specialty, same city
            others, _ = await self.store.doctors.find(specialty=doctor.specialty, city=doctor.city)
            others = [d for d in others if d.id != doctor.id]
            alts += await self.earliest(others, after=after,
                                        limit=self.policy.alternatives - len(alts),
                                        patient_id=patient_id)
        return alts

    # ---- holds ---------------------------------------------------------------------
    async def hold(self, patient_id: str, doctor_id: str, start: datetime) -> Hold | SlotTaken:
        """Hide a slot from other patients while this one confirms."""
        doctor = await self.doctor(doctor_id)
        start = as_utc(start)
        self._check_slot_rules(doctor, start)
        end = start + timedelta(minutes=doctor.slot_minutes)
        free = await self.availability(doctor, start, start + timedelta(minutes=1),
                                       patient_id=patient_id)
        if not free or free[0].start != start:
            return SlotTaken(doctor_id, start, await self._alternatives(doctor, start, patient_id))
        held = await self.coord.place_hold(doctor_id, start, end, patient_id)
        if held is None:
            return SlotTaken(doctor_id, start, await self._alternatives(doctor, start, patient_id),
                             reason="held")
        return held

    async def release_hold(self, patient_id: str, doctor_id: str, start: datetime) -> None:
        await self.coord.release_hold(doctor_id, as_utc(start), patient_id)

    # ---- booking -------------------------------------------------------------------
    def _check_slot_rules(self, doctor: Doctor, start: datetime) -> None:
        """Rules independent of other bookings: active, grid, past, notice, horizon."""
        now = self.clock()
        if not doctor.active:
            raise SlotUnavailable("this doctor is not taking bookings")
        if start <= now:
            raise SlotUnavailable("that time is in the past", start=start.isoformat())
        if start < now + timedelta(minutes=doctor.min_notice_minutes):
            raise SlotUnavailable("too soon: the clinic needs more notice",
                                  min_notice_minutes=doctor.min_notice_minutes)
        if start > now + timedelta(days=doctor.horizon_days):
            raise SlotUnavailable("too far ahead", horizon_days=doctor.horizon_days)
        if not is_on_grid(doctor, start):
            raise SlotUnavailable("not one of the doctor's slots", start=start.isoformat())

    async def book(self, patient_id: str, doctor_id: str, start: datetime, *,
                   source: BookingSource = BookingSource.whatsapp,
                   idempotency_key: str | None = None, actor: Actor | None = None) -> BookResult:
        actor = actor or Actor(patient_id, Role.patient)
        if idempotency_key:
            earlier = await self.store.bookings.find_one(idempotency_key=idempotency_key)
            if earlier is not None:
                if earlier.patient_id != patient_id:
                    raise InvalidInput("idempotency key reused for another patient")
                return Booked(earlier, await self.doctor(earlier.doctor_id), replayed=True)
        doctor = await self.doctor(doctor_id)
        start = as_utc(start)
        self._check_slot_rules(doctor, start)
        end = start + timedelta(minutes=doctor.slot_minutes)
        # Fast path for the crowd that lost already: no lock needed to see a booked slot.
        key = slot_key(doctor_id, start)
        holder = await self.store.bookings.slot_holder(key)
        if holder == patient_id:  # a retried confirmation: the booking already exists
            return await self._replay(key, doctor)
        if holder is not None:
            return await self._taken(doctor, start, patient_id, "taken")
        result: Booked | str = "busy"
        async with self.coord.patient_lock(patient_id) as patient_locked, \
                self.coord.slot_lock(doctor_id, start) as slot_locked:
            if patient_locked and slot_locked:
                result = await self._book_locked(doctor, patient_id, start, end, source,
                                                 idempotency_key, actor)
        # Alternatives are computed after the locks are released: losers never hold them up.
        if isinstance(result, str):
            if result == "taken" and await self.store.bookings.slot_holder(key) == patient_id:
                return await self._replay(key, doctor)
            return await self._taken(doctor, start, patient_id, result)
        await self.coord.release_hold(doctor_id, start, patient_id)
        await self._emit(result.booking)
        return result

    async def _replay(self, key: str, doctor: Doctor) -> Booked:
        """The patient already holds this slot (a retried request): answer with that booking."""
        existing: Booking | None = await self.store.bookings.find_one(slot_key=key)
        if existing is None:  # cancelled in between: vanishingly rare, say so plainly
            raise InvalidTransition("the booking changed meanwhile; please try again")
        return Booked(existing, doctor, replayed=True)

    async def _taken(self, doctor: Doctor, start: datetime, patient_id: str | None,
                     reason: str) -> SlotTaken:
        return SlotTaken(doctor.id, start, await self._alternatives(doctor, start, patient_id),
                         reason=reason)

    async def _book_locked(self, doctor: Doctor, patient_id: str, start: datetime,
                           end: datetime, source: BookingSource, idempotency_key: str | None,
                           actor: Actor, rescheduled_from: Booking | None = None
                           ) -> Booked | str:
        """Check and write under the locks; a loss is returned as its reason (held, taken)."""
        owner = await self.coord.hold_owner(doctor.id, start)
        if owner is not None and owner != patient_id:
            return "held"
        free = await self.availability(doctor, start, start + timedelta(minutes=1),
                                       patient_id=patient_id)
        exclude = rescheduled_from.id if rescheduled_from else None
        if not free or free[0].start != start:
            if not (rescheduled_from and await self._free_but_for(doctor, start, rescheduled_from)):
                return "taken"
        if await self.store.bookings.patient_overlaps(patient_id, start, end, exclude):
            raise PatientOverlap("you already have a booking at that time")
        now = self.clock()
        # Under the patient lock, so two parallel requests cannot both pass the count. A move
        # replaces a booking; staff booking for a patient are not limited.
        if rescheduled_from is None and actor.role == Role.patient and await \
                self.store.bookings.count_upcoming(patient_id, now) >= self.policy.max_upcoming:
            raise TooManyBookings(
                f"you already have {self.policy.max_upcoming} upcoming bookings",
                max_upcoming=self.policy.max_upcoming)
        for _ in range(5):  # a ref collision is rare: retry with a fresh one
            booking = Booking(
                ref=new_ref(), patient_id=patient_id, doctor_id=doctor.id, start=start, end=end,
                source=source, created_at=now, updated_at=now, slot_key=slot_key(doctor.id, start),
                idempotency_key=idempotency_key,
                rescheduled_from=rescheduled_from.id if rescheduled_from else None,
                outbox_pending=[Notice.booking_rescheduled.value,
                                Notice.doctor_booking_rescheduled.value] if rescheduled_from else
                [Notice.booking_confirmation.value, Notice.doctor_new_booking.value],
                history=[HistoryEntry(at=now, actor=actor.user_id, status=BookingStatus.confirmed,
                                      action="rescheduled_in" if rescheduled_from else "booked")])
            try:
                await self.store.bookings.insert(booking)
            except SlotKeyTaken:
                return "taken"
            except DuplicateKeyError:
                continue
            return Booked(booking, doctor)
        raise RuntimeError("could not allocate a unique booking reference")

    async def _free_but_for(self, doctor: Doctor, start: datetime, own: Booking) -> bool:
        """Free if we ignore the patient's own booking being moved (buffers around it)."""
        busy = await self.store.bookings.busy_intervals([doctor.id], start - timedelta(days=1),
                                               start + timedelta(days=1))
        mine = Interval(own.start, own.end)
        others = [b for b in busy[doctor.id] if b != mine]
        holds = await self.coord.holds([doctor.id], exclude_patient=own.patient_id)
        slots = available_slots(doctor, now=self.clock(), start=start,
                                end=start + timedelta(minutes=1), bookings=others,
                                holds=holds[doctor.id])
        return bool(slots) and slots[0].start == start

    # ---- reading bookings ------------------------------------------------------------
    async def get_booking(self, booking_id: str, actor: Actor) -> Booking:
        booking: Booking = await self.store.bookings.get(booking_id)
        await self._authorize(booking, actor)
        return booking

    async def _authorize(self, booking: Booking, actor: Actor) -> None:
        if actor.role == Role.admin:
            return
        if actor.role == Role.patient and booking.patient_id == actor.user_id:
            return
        if actor.role == Role.doctor:
            user: User = await self.store.users.get(actor.user_id)
            if user.doctor_id == booking.doctor_id:
                return
        # Same answer as a missing booking: ids of other patients' bookings leak nothing.
        raise NotFound("booking not found", booking_id=booking.id)

    async def patient_bookings(self, patient_id: str, *, upcoming_only: bool = True
                               ) -> list[Booking]:
        bookings, _ = await self.store.bookings.find(
            patient_id=patient_id,
            statuses=[BookingStatus.confirmed.value] if upcoming_only else None,
            start_from=self.clock() if upcoming_only else None)
        return list(bookings)

    async def agenda(self, doctor_id: str, day: date) -> list[Booking]:
        doctor = await self.doctor(doctor_id)
        tz = doctor.tz
        start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        bookings, _ = await self.store.bookings.find(
            doctor_id=doctor_id, start_from=start, start_to=end,
            statuses=[BookingStatus.confirmed.value, BookingStatus.completed.value,
                      BookingStatus.no_show.value])
        return list(bookings)

    # ---- changes ---------------------------------------------------------------------
    def _check_cutoff(self, booking: Booking, actor: Actor) -> None:
        if actor.role != Role.patient:
            return  # staff may change bookings up to the start
        if booking.start - self.clock() < timedelta(minutes=self.policy.cutoff_minutes):
            raise CutoffPassed(
                f"changes close {self.policy.cutoff_minutes // 60} hours before the appointment",
                cutoff_minutes=self.policy.cutoff_minutes)

    async def _transition(self, booking: Booking, new: BookingStatus, actor: Actor, action: str,
                          set_fields: dict[str, Any] | None = None, note: str = "") -> Booking:
        if new not in TRANSITIONS[booking.status]:
            raise InvalidTransition(f"a {booking.status.value} booking cannot become {new.value}",
                                    status=booking.status.value)
        now = self.clock()
        history = {"at": now, "action": action, "actor": actor.user_id, "status": new.value,
                   "note": note}
        updated: Booking | None = await self.store.bookings.transition(
            booking.id, booking.status, new, {**(set_fields or {}), "updated_at": now}, history)
        if updated is None:
            current: Booking = await self.store.bookings.get(booking.id)
            raise InvalidTransition(f"the booking is already {current.status.value}",
                                    status=current.status.value)
        return updated

    async def cancel(self, booking_id: str, *, actor: Actor, reason: str = "") -> Booking:
        booking = await self.get_booking(booking_id, actor)
        if booking.status != BookingStatus.confirmed:
            raise InvalidTransition(f"the booking is already {booking.status.value}",
                                    status=booking.status.value)
        if booking.start <= self.clock():
            raise CutoffPassed("the appointment has already started")
        self._check_cutoff(booking, actor)
        updated = await self._transition(
            booking, BookingStatus.cancelled, actor, "cancelled",
            {"cancel_reason": reason[:500] or None,
             "outbox_pending": [Notice.booking_cancelled.value,
                                Notice.doctor_booking_cancelled.value]}, note=reason[:500])
        await self._emit(updated)
        await self._slot_freed(updated.doctor_id, updated.start)
        return updated

    async def reschedule(self, booking_id: str, new_start: datetime, *, actor: Actor,
                         source: BookingSource | None = None) -> BookResult:
        """Take the new slot first, then release the old one; on any failure nothing changes."""
        old = await self.get_booking(booking_id, actor)
        if old.status != BookingStatus.confirmed:
            raise InvalidTransition(f"the booking is already {old.status.value}",
                                    status=old.status.value)
        if old.start <= self.clock():
            raise CutoffPassed("the appointment has already started")
        self._check_cutoff(old, actor)
        doctor = await self.doctor(old.doctor_id)
        new_start = as_utc(new_start)
        if new_start == old.start:
            raise InvalidInput("that is the current time of the booking")
        self._check_slot_rules(doctor, new_start)
        end = new_start + timedelta(minutes=doctor.slot_minutes)
        result: Booked | str = "busy"
        async with self.coord.patient_lock(old.patient_id) as patient_locked, \
                self.coord.slot_lock(doctor.id, new_start) as slot_locked:
            if patient_locked and slot_locked:
                result = await self._book_locked(doctor, old.patient_id, new_start, end,
                                                 source or old.source, None, actor,
                                                 rescheduled_from=old)
                if isinstance(result, Booked):
                    try:
                        await self._transition(old, BookingStatus.rescheduled, actor,
                                               "rescheduled",
                                               {"rescheduled_to": result.booking.id})
                    except BaseException:
                        # compensate: the old booking changed under us, give the new slot back
                        await self.store.bookings.delete(result.booking.id)
                        raise
        if isinstance(result, str):
            return await self._taken(doctor, new_start, old.patient_id, result)
        await self.coord.release_hold(doctor.id, new_start, old.patient_id)
        await self._emit(result.booking)
        await self._slot_freed(old.doctor_id, old.start)
        log.info("booking %s rescheduled to %s", old.id, result.booking.id)
        return Booked(result.booking, doctor)

    async def mark_no_show(self, booking_id: str, *, actor: Actor) -> Booking:
        booking = await self.get_booking(booking_id, actor)
        if actor.role == Role.patient:
            raise NotFound("booking not found", booking_id=booking_id)
        if booking.start > self.clock():
            raise InvalidTransition("a no-show can only be recorded after the start time")
        # The doctor hears of a no-show staff recorded (not of their own mark).
        pending = [] if actor.role == Role.doctor else [Notice.doctor_no_show.value]
        updated = await self._transition(booking, BookingStatus.no_show, actor, "no_show",
                                         {"outbox_pending": pending} if pending else None)
        await self._emit(updated)
        return updated

    async def confirm_attendance(self, booking_id: str, *, actor: Actor) -> Booking:
        booking = await self.get_booking(booking_id, actor)
        if booking.status != BookingStatus.confirmed:
            raise InvalidTransition(f"the booking is already {booking.status.value}")
        now = self.clock()
        updated: Booking = await self.store.bookings.update_fields(
            booking.id, {"patient_confirmed_at": now, "updated_at": now},
            {"at": now, "action": "patient_confirmed", "actor": actor.user_id,
             "status": booking.status.value, "note": ""})
        return updated

    async def complete_past(self, *, limit: int = 500) -> int:
        """Confirmed bookings that have ended become completed (scheduler job)."""
        now = self.clock()
        past, _ = await self.store.bookings.find(statuses=[BookingStatus.confirmed.value],
                                                 start_to=now, limit=limit)
        done = 0
        for booking in past:
            if booking.end <= now:
                try:
                    await self._transition(booking, BookingStatus.completed, Actor.system(),
                                           "completed")
                    done += 1
                except InvalidTransition:
                    continue
        return done

    # ---- schedules -------------------------------------------------------------------
    async def stranded_by(self, doctor_id: str, schedule: Schedule) -> list[Booking]:
        """Upcoming confirmed bookings the schedule would no longer cover."""
        upcoming, _ = await self.store.bookings.find(
            doctor_id=doctor_id, statuses=[BookingStatus.confirmed.value],
            start_from=self.clock())
        return stranded_bookings(schedule, upcoming)

    async def replace_schedule(self, doctor_id: str, schedule: Schedule, *,
                               force: bool = False) -> ScheduleSaved:
        """Replace a doctor's weekly plan. Refused (ScheduleConflict, with the list) when it
        strands bookings, unless forced: then their patients are told, once per change."""
        doctor = await self.doctor(doctor_id)
        stranded = await self.stranded_by(doctor_id, schedule)
        if stranded and not force:
            raise ScheduleConflict(
                "the change would strand existing bookings; resend with force=true to apply "
                "it and notify the patients",
                stranded=[{"id": b.id, "ref": b.ref,
                           "start": b.start.astimezone(doctor.tz).isoformat()}
                          for b in stranded])
        updated = Doctor.model_validate({**doctor.model_dump(), **schedule.model_dump()})
        await self.store.doctors.upsert(updated)
        await self.coord.cache_bump(DOCTOR_CACHE_NS)  # cached doctor pages are stale now
        # A booking made between the check and the save is stranded too: never silently.
        seen = {b.id for b in stranded}
        stranded += [b for b in await self.stranded_by(doctor_id, schedule)
                     if b.id not in seen]
        notified = await self._tell_stranded(updated, stranded, schedule) if stranded else 0
        log.info("schedule of doctor %s replaced (stranded=%d, forced=%s)", doctor_id,
                 len(stranded), force)
        return ScheduleSaved(updated, stranded, notified)

    async def _tell_stranded(self, doctor: Doctor, stranded: list[Booking],
                             schedule: Schedule) -> int:
        change = hashlib.sha256(schedule.model_dump_json().encode()).hexdigest()[:12]
        docs = []
        for booking in stranded:
            try:
                patient: User = await self.store.users.get(booking.patient_id)
            except NotFound:
                continue
            docs += self.notices.entries(Notice.schedule_changed, booking, doctor, patient,
                                         occasion=change)
        if not docs:
            return 0
        created: int = await self.store.outbox.enqueue(docs)
        return created

    # ---- outbox ----------------------------------------------------------------------
    async def _emit(self, booking: Booking) -> None:
        """Copy a booking's pending notifications into the outbox, then clear them.

        Dedupe keys make a replay harmless, so a crash between the two steps is
        repaired by flush_pending_outbox (scheduler) sending nothing twice.
        """
        if not booking.outbox_pending:
            return
        doctor = await self.doctor(booking.doctor_id)
        patient: User = await self.store.users.get(booking.patient_id)
        doctor_user: User | None = None
        if doctor.user_id:
            try:
                doctor_user = await self.store.users.get(doctor.user_id)
            except NotFound:
                doctor_user = None
        entries = [e for kind in booking.outbox_pending
                   for e in self.notices.entries(Notice(kind), booking, doctor, patient,
                                                 doctor_user)]
        if entries:
            await self.store.outbox.enqueue(entries)
        await self.store.bookings.update_fields(booking.id, {"outbox_pending": []})

    async def repair_interrupted_reschedules(self, *, grace: timedelta = timedelta(minutes=1),
                                             window: timedelta = timedelta(days=2)) -> int:
        """Finish moves a crash interrupted: the new booking exists, the old one is still
        confirmed. The old one becomes rescheduled (its slot freed), as the move intended,
        so no patient keeps two confirmed bookings (scheduler job)."""
        now = self.clock()
        repaired = 0
        stuck = await self.store.bookings.interrupted_reschedules(now - grace, now - window)
        for new, old in stuck:
            try:
                await self._transition(old, BookingStatus.rescheduled, Actor.system(),
                                       "rescheduled", {"rescheduled_to": new.id},
                                       note="completed by the repair sweep")
            except InvalidTransition:
                continue  # changed meanwhile (cancelled, completed): nothing to finish
            repaired += 1
            log.warning("interrupted reschedule repaired: %s -> %s", old.id, new.id)
        return repaired

    async def flush_pending_outbox(self, *, grace: timedelta = timedelta(minutes=1)) -> int:
        """Re-emit notifications a crashed process decided but did not copy (scheduler job)."""
        stuck = await self.store.bookings.with_pending_outbox(self.clock() - grace)
        for booking in stuck:
            await self._emit(booking)
        return len(stuck)
