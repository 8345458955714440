"""The waitlist: a patient asks to be told when an earlier slot with a doctor frees up.

When a slot frees (a cancellation or a move, `BookingService.slot_listeners`), the waiting
patients whose date range covers it are offered it in turn, oldest entry first. An offer
holds the slot for WAITLIST_OFFER_MINUTES (a Redis hold: other patients do not see it) and
is sent through the outbox (the `OfferMessages` port: notify/ writes the message). Taking
it books the slot, or moves the patient's later booking with that doctor; skipping it or
letting it expire passes the slot to the next patient. Offers live in MongoDB, so they
survive a restart; the scheduler expires them (`expire_due`).

Exactly one patient gets a slot: an offer is answered by a compare-and-set on its status,
only one offer of a slot is open at a time (unique `active_key`), and the booking itself
is still the core's (unique slot_key). Nobody is offered the same slot twice (unique
entry/slot).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from booking.errors import BookingError, InvalidInput, NotFound
from booking.models import Booking, BookingStatus, Doctor, Role, User, as_utc, new_id, slot_key
from booking.service import Actor, Booked, BookingService, BookResult, SlotTaken
from booking.store import Store

log = logging.getLogger(__name__)

MAX_RANGE_DAYS = 60
MAX_ACTIVE_PER_PATIENT = 5


class OfferMessages(Protocol):
    def offer_entry(self, offer: dict[str, Any], doctor: Doctor, patient: User,
                    minutes: int) -> dict[str, Any] | None:
        """The outbox document telling the patient of an offer (None: no way to reach them)."""
        ...


@dataclass(frozen=True, slots=True)
class TakeResult:
    outcome: str                      # booked | moved | expired | lost
    booking: Booking | None = None


class WaitlistService:
    def __init__(self, store: Store, service: BookingService, messages: OfferMessages, *,
                 offer_minutes: int = 15, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.waitlist = store.waitlist
        self.service = service
        self.messages = messages
        self.offer_minutes = offer_minutes
        self.clock = clock or service.clock

    # ---- entries --------------------------------------------------------------------------
    async def join(self, patient_id: str, doctor_id: str, from_day: date, to_day: date, *,
                   language: str = "id") -> dict[str, Any]:
        doctor = await self.service.doctor(doctor_id)
        today = self.clock().astimezone(doctor.tz).date()
        if to_day < from_day or to_day < today:
            raise InvalidInput("the date range is empty or in the past")
        if (to_day - max(from_day, today)).days > MAX_RANGE_DAYS:
            raise InvalidInput(f"at most {MAX_RANGE_DAYS} days")
        active = await self.waitlist.patient_entries(patient_id, ["active"])
        if len(active) >= MAX_ACTIVE_PER_PATIENT:
            raise InvalidInput(f"at most {MAX_ACTIVE_PER_PATIENT} waitlist entries at once")
        now = self.clock()
        return await self.waitlist.add_entry({
            "_id": new_id(), "patient_id": patient_id, "doctor_id": doctor.id,
            "from_day": max(from_day, today).isoformat(), "to_day": to_day.isoformat(),
            "status": "active", "language": language, "created_at": now, "updated_at": now,
            "seq": time.time_ns()})  # first come, first offered (ties of created_at)

    async def entries(self, patient_id: str) -> list[dict[str, Any]]:
        return await self.waitlist.patient_entries(patient_id, ["active", "booked"])

    async def leave(self, entry_id: str, patient_id: str) -> dict[str, Any]:
        entry = await self.waitlist.get_entry(entry_id)
        if entry is None or entry["patient_id"] != patient_id:
            raise NotFound("waitlist entry not found")
        left = await self.waitlist.set_entry(entry_id, "active", {
            "status": "cancelled", "updated_at": self.clock()})
        if left is None:
            raise NotFound("waitlist entry not active")
        return left

    # ---- offers ---------------------------------------------------------------------------
    async def slot_freed(self, doctor_id: str, start: datetime) -> dict[str, Any] | None:
        """Offer a freed slot to the next waiting patient; the offer, or None."""
        start = as_utc(start)
        if start <= self.clock():
            return None
        doctor = await self.service.doctor(doctor_id)
        free = await self.service.availability(doctor, start, start + timedelta(minutes=1))
        if not free or free[0].start != start:
            return None  # taken again already, or not a bookable slot any more
        key = slot_key(doctor_id, start)
        day = start.astimezone(doctor.tz).date().isoformat()
        for entry in await self.waitlist.candidates(doctor_id, day, key):
            if not await self._earlier_for(entry, doctor_id, start):
                continue
            offer = await self._offer(entry, doctor, start, key)
            if offer == "slot_busy":
                return None
            if isinstance(offer, dict):
                return offer
        return None

    async def _earlier_for(self, entry: dict[str, Any], doctor_id: str, start: datetime
                           ) -> bool:
        """Worth offering: the patient has no booking with this doctor at or before it."""
        bookings, _ = await self.store.bookings.find(
            patient_id=entry["patient_id"], doctor_id=doctor_id,
            statuses=[BookingStatus.confirmed.value], limit=20)
        return all(b.start > start for b in bookings)

    async def _offer(self, entry: dict[str, Any], doctor: Doctor, start: datetime,
                     key: str) -> dict[str, Any] | str:
        now = self.clock()
        end = start + timedelta(minutes=doctor.slot_minutes)
        hold = await self.service.coord.place_hold(doctor.id, start, end, entry["patient_id"],
                                                   seconds=self.offer_minutes * 60)
        if hold is None:
            return "slot_busy"  # a patient in the chat holds it
        offer = {"_id": new_id(), "entry_id": entry["id"], "patient_id": entry["patient_id"],
                 "doctor_id": doctor.id, "start": start, "slot_key": key, "status": "offered",
                 "created_at": now, "expires_at": now + timedelta(minutes=self.offer_minutes),
                 "language": entry.get("language") or "id"}
        outcome = await self.waitlist.add_offer(offer)
        if outcome != "ok":
            await self.service.coord.release_hold(doctor.id, start, entry["patient_id"])
            return outcome
        offer["id"] = offer.pop("_id")
        try:
            patient: User = await self.store.users.get(entry["patient_id"])
        except NotFound:
            patient = User(id=entry["patient_id"], name="", role=Role.patient)
        doc = self.messages.offer_entry(offer, doctor, patient, self.offer_minutes)
        if doc is not None:
            await self.store.outbox.enqueue_one(doc)
        log.info("waitlist: slot offered (offer %s)", offer["id"])
        return offer

    async def open_offer(self, patient_id: str) -> dict[str, Any] | None:
        return await self.waitlist.open_offer_for(patient_id)

    async def take(self, offer_id: str, patient_id: str) -> TakeResult:
        """Book the offered slot (or move the patient's later booking with that doctor)."""
        offer = await self.waitlist.get_offer(offer_id)
        if offer is None or offer["patient_id"] != patient_id:
            raise NotFound("offer not found")
        claimed = await self.waitlist.claim_offer(offer_id, "taking", self.clock(),
                                                  unexpired=True)
        if claimed is None:
            return TakeResult("expired")
        actor = Actor(patient_id, Role.patient)
        later = await self._later_booking(patient_id, claimed["doctor_id"], claimed["start"])
        result: BookResult
        try:
            if later is not None:
                result = await self.service.reschedule(later.id, claimed["start"], actor=actor)
            else:
                result = await self.service.book(patient_id, claimed["doctor_id"],
                                                 claimed["start"], actor=actor)
        except BookingError as exc:
            log.info("waitlist: offer %s could not be booked: %s", offer_id, exc.code)
            result = SlotTaken(claimed["doctor_id"], claimed["start"], reason="taken")
        if isinstance(result, Booked):
            saved = int((later.start - claimed["start"]).total_seconds() // 60) if later else None
            await self.waitlist.set_offer(offer_id, {"status": "taken",
                                                     "booking_id": result.booking.id,
                                                     "minutes_saved": saved})
            await self.waitlist.set_entry(claimed["entry_id"], "active", {
                "status": "booked", "booking_id": result.booking.id,
                "booked_start": claimed["start"], "updated_at": self.clock()})
            return TakeResult("moved" if later else "booked", result.booking)
        await self.waitlist.set_offer(offer_id, {"status": "lost"})
        return TakeResult("lost")

    async def _later_booking(self, patient_id: str, doctor_id: str, start: datetime
                             ) -> Booking | None:
        bookings, _ = await self.store.bookings.find(
            patient_id=patient_id, doctor_id=doctor_id,
            statuses=[BookingStatus.confirmed.value], limit=20)
        later = sorted((b for b in bookings if b.start > start), key=lambda b: b.start)
        return later[0] if later else None

    async def skip(self, offer_id: str, patient_id: str) -> bool:
        offer = await self.waitlist.get_offer(offer_id)
        if offer is None or offer["patient_id"] != patient_id:
            raise NotFound("offer not found")
        claimed = await self.waitlist.claim_offer(offer_id, "skipped", self.clock(),
                                                  unexpired=False)
        if claimed is None:
            return False
        await self._pass_on(claimed)
        return True

    async def expire_due(self) -> int:
        """Offers nobody answered in time pass to the next patient (the scheduler)."""
        count = 0
        for offer in await self.waitlist.due_offers(self.clock()):
            claimed = await self.waitlist.claim_offer(offer["id"], "expired", self.clock(),
                                                      unexpired=False)
            if claimed is not None:
                count += 1
                await self._pass_on(claimed)
        return count

    async def _pass_on(self, offer: dict[str, Any]) -> None:
        await self.service.coord.release_hold(offer["doctor_id"], offer["start"],
                                              offer["patient_id"])
        try:
            await self.slot_freed(offer["doctor_id"], offer["start"])
        except BookingError as exc:
            log.warning("waitlist: passing a slot on failed: %s", exc.code)
