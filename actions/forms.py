"""Form validation: read the patient's answer, resolve it against what was offered, call booking/.

Each form's validation action reads the latest message once (`interpret`) and returns
the slot changes plus the next requested slot. It returns nothing when the message is
not an answer (an FAQ, "menu", "batal"...), so Rasa rejects the form step and the
digression rules take over. The confirm step does the real work: the service books,
cancels or reschedules atomically; losing a race is answered with alternatives.
"""

from __future__ import annotations

import json
import logging
import re
from abc import abstractmethod
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import choices as ch
from actions import scheduling as sch
from actions.base import Message, ServiceAction, language
from actions.formatting import day_long, local
from actions.patients import clean_name, ensure_patient, set_name
from booking.dates import WEEKDAYS, When, parse_when
from booking.errors import (
    BookingError,
    CutoffPassed,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PatientOverlap,
    SlotUnavailable,
    TooManyBookings,
)
from booking.fuzzy import find_city, find_specialty
from booking.locks import Hold
from booking.models import Booking, BookingStatus, Doctor, Role, User
from booking.refs import normalise_ref
from booking.service import Actor, Booked, BookResult, SlotTaken
from booking.yesno import CHANGE_DAY, CHANGE_DOCTOR, CHANGE_TIME, is_correction, yes_no

log = logging.getLogger(__name__)

DONE = "__done__"  # interpret() result key: end the form now (already explained to the patient)
# Intents that can carry an answer to a form question.
ANSWER_INTENTS = frozenset({"inform", "book_appointment", "check_availability", "search_doctor",
                            "affirm", "deny", "nlu_fallback", "cancel_appointment",
                            "reschedule_appointment"})
# Of those, the ones that mean "I am answering" even when nothing could be read: ask again.
REASK_INTENTS = frozenset({"inform", "book_appointment", "check_availability", "search_doctor",
                           "affirm"})
NOT_A_NAME = frozenset({"greet", "deny", "goodbye", "human_handoff", "faq", "bot_challenge",
                        "thank", "cancel_appointment", "list_appointments"})
WEEKDAY_WORDS = r"\b(" + "|".join(WEEKDAYS) + r")\b"
CONFIRM_SLOTS = frozenset({"booking_confirmed", "cancel_confirmed", "reschedule_confirmed"})
UNCLEAR_GIVE_UP = 4  # unreadable answers to one yes/no question before the form ends


def says_when(text: str) -> bool:
    """Does the text name a day or a time ("bukan, yang jam 2": a correction, not a no)?"""
    return bool(text) and not parse_when(text, datetime.now(UTC)).empty


# Questions a day or time answers, and words that make a message about the patient's
# bookings rather than an answer ("jadwal saya", "my appointments")
WHEN_QUESTIONS = frozenset({"doctor_id", "appt_date", "slot_start"})
ABOUT_MY_BOOKINGS = re.compile(
    r"\b(booking|janji|jadwal|reservasi|appointments?|bookings?)\s+(saya|sy|aku|ku|gw|gue|"
    r"mine)\b|\bmy\s+(bookings?|appointments?|reservations?|schedule)\b|\bbookingku\b")
# intents that leave the form (their rules stop it) and ones that keep their own meaning
_LEAVING_INTENTS = frozenset({"deny", "human_handoff", "greet", "goodbye", "cancel_appointment"})
_KEEP_INTENTS = frozenset({"inform", "affirm", "faq"})


def answers_question(msg: Message, requested: str | None) -> bool:
    """Does a message the NLU read as something else answer the form's open question? At
    the doctor, day and time questions a message that names a day or time and no booking
    code, and does not ask about the patient's bookings, is an answer; at any step "jam
    lain dong", "dokter lain aja" (a correction) is. The digression actions (list, FAQ,
    fallback, out of scope) ask the same question and stay silent when it is: the form
    reads the message when it resumes."""
    if not msg.typed or requested is None or msg.intent in _LEAVING_INTENTS:
        return False
    if msg.entity("booking_ref") or ABOUT_MY_BOOKINGS.search(msg.typed.lower()):
        return False
    if is_correction(msg.typed) and (requested in WHEN_QUESTIONS or requested in CONFIRM_SLOTS):
        return True
    if msg.intent in _KEEP_INTENTS or requested not in WHEN_QUESTIONS:
        return False
    return says_when(msg.typed)


@dataclass
class Turn:
    """One validation call: the message, the slots as they stand, and the changes so far."""

    tracker: Tracker
    dispatcher: CollectingDispatcher
    lang: str
    msg: Message
    requested: str | None
    updates: dict[str, Any] = field(default_factory=dict)

    def slot(self, name: str) -> Any:
        return self.updates[name] if name in self.updates else self.tracker.get_slot(name)

    def set(self, name: str, value: Any) -> None:
        self.updates[name] = value

    def say(self, response: str, **kwargs: Any) -> None:
        self.dispatcher.utter_message(response=response, **kwargs)

    @property
    def offered(self) -> list[ch.Choice]:
        value = self.slot("offered") or {}
        return list(value.get("items") or []) if isinstance(value, dict) else []


def offered_value(items: list[ch.Choice], *, fresh: bool) -> dict[str, Any]:
    """The `offered` slot: what the last question listed; fresh = already shown this turn."""
    return {"items": items, "fresh": fresh}


class FormValidation(ServiceAction):
    """Base of the three form validators."""

    form: str = ""
    reask_intents: frozenset[str] = REASK_INTENTS

    def name(self) -> str:
        return f"validate_{self.form}"

    @abstractmethod
    def required(self, turn: Turn) -> list[str]:
        """Required slots in order, given the slots as they now stand."""

    @abstractmethod
    async def interpret(self, turn: Turn) -> None:
        """Read the latest message into turn.updates (or DONE)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        msg = Message.of(tracker)
        requested = tracker.get_slot("requested_slot")
        if answers_question(msg, requested):
            # "sorry, can we do the afternoon instead?" read as reschedule or list: at the
            # doctor, day and time questions a message naming a day or time is the answer
            msg = replace(msg, intent="inform")
        turn = Turn(tracker, dispatcher, language(tracker), msg, requested)
        try:
            await self.interpret(turn)
        except BookingError as exc:  # store down, or a rule the precheck missed
            log.warning("%s failed: %s", self.name(), exc.code)
            turn.say("utter_service_error")
            turn.updates[DONE] = True
        if DONE in turn.updates:
            turn.updates.pop(DONE)
            return [SlotSet(k, v) for k, v in turn.updates.items()] + [
                SlotSet("requested_slot", None)]
        if not turn.updates:
            if msg.intent in self.reask_intents and turn.requested:
                turn.set("offered", offered_value(turn.offered, fresh=False))  # ask again
            else:
                return []  # not an answer: Rasa rejects the step, the rules take over
        nxt = next((s for s in self.required(turn) if turn.slot(s) is None), None)
        return [SlotSet(k, v) for k, v in turn.updates.items()] + [SlotSet("requested_slot", nxt)]

    # ---- shared steps -----------------------------------------------------------------
    async def patient(self, turn: Turn) -> User | None:
        user = await ensure_patient(self.service, turn.tracker, turn.lang)
        if user is None:
            turn.say("utter_unknown_sender")
            turn.set(DONE, True)
        return user

    async def doctor(self, turn: Turn) -> Doctor | None:
        doctor_id = turn.slot("doctor_id")
        if not doctor_id:
            return None
        try:
            return await self.service.doctor(doctor_id)
        except NotFound:
            turn.set("doctor_id", None)
            return None

    async def picked(self, turn: Turn) -> tuple[str, Any] | None:
        """The offered choice the message names: tap, position, title, or the slot's time."""
        value = ch.resolve(turn.msg.typed, turn.msg.entity("choice"), turn.offered)
        if value is None and len(turn.offered) == 1 and turn.requested not in CONFIRM_SLOTS \
                and yes_no(turn.msg.text, turn.msg.intent, self.verb) is True:
            value = turn.offered[0]["value"]  # one option offered, and "ya"
        if value is None and len(turn.offered) == 1 and turn.requested in (None, "doctor_id") \
                and str(turn.offered[0]["value"]).startswith("d:") and says_when(turn.msg.typed) \
                and not (turn.msg.entity("specialty") or turn.msg.entity("doctor_name")):
            value = turn.offered[0]["value"]  # one doctor offered, and "sore aja": that doctor
        if value is not None:
            return ch.parse_value(value)
        if not turn.msg.typed:
            return None
        for choice in turn.offered:  # "yang jam 10 aja" against offered slots
            parsed = ch.parse_value(choice["value"])
            if not parsed or parsed[0] != "slot":
                continue
            doctor_id, start = parsed[1]
            try:
                doctor = await self.service.doctor(doctor_id)
            except NotFound:
                continue
            when = parse_when(turn.msg.typed, self.service.clock(), doctor.timezone)
            if when.at is not None and when.accepts(local(start, doctor.timezone)):
                return parsed
        return None

    async def read_when(self, turn: Turn, patient: User, doctor: Doctor | None,
                        picked_slot: bool) -> None:
        """Day and time from free text ('besok sore', 'yang jam 10 aja', 'paling cepat'),
        else from what the patient asked before the doctor was known (`date_pref`)."""
        text = "" if picked_slot else turn.msg.typed
        tz = doctor.timezone if doctor else "Asia/Jakarta"
        when = parse_when(text, self.service.clock(), tz) if text else When()
        pref = sch.encode_pref(when)
        if pref is not None:
            turn.set("time_pref", pref)
        day: date | None = when.day
        span = when.span_days
        if doctor is not None and text and sch.EARLIEST_WORDS.search(text) and day is None:
            days = await sch.free_days(self.service, doctor, patient.id, limit=1)
            day = days[0] if days else None
        if doctor is None:
            if day is not None:  # kept until a doctor is chosen
                turn.set("date_pref", sch.encode_day(day, span))
            return
        asked = sch.decode_day(turn.slot("date_pref"))
        if day is None and not turn.slot("appt_date") and asked is not None and not asked.tried:
            day, span = asked.day, asked.span  # "tgl 14 sore" said before the doctor list
        if day is not None:
            window = when if when.has_time else sch.decode_pref(turn.slot("time_pref"))
            chosen = await self.first_free_day(turn, doctor, patient, day, span, window)
            if chosen is None:
                turn.say("utter_no_slots", doctor=doctor.name, date=day_long(day, turn.lang))
                turn.set("appt_date", None)
                turn.set("date_pref", sch.encode_day(day, tried=True))
                return
            if chosen.isoformat() != turn.slot("appt_date"):
                self.clear_from(turn, "appt_date")
            turn.set("appt_date", chosen.isoformat())
        if not when.has_time and day is not None:
            when = sch.decode_pref(turn.slot("time_pref"))  # "jam 10" said before the day
        if when.has_time and turn.slot("appt_date") and not turn.slot("slot_start"):
            await self.time_on_day(turn, patient, doctor, when)
        elif when.has_time and turn.slot("appt_date") and when.day is None and text:
            await self.time_on_day(turn, patient, doctor, when)  # "bukan, yang jam 2"

    async def first_free_day(self, turn: Turn, doctor: Doctor, patient: User, day: date,
                             span: int, window: When | None = None) -> date | None:
        """The first day from `day` (within `span` days) with a free slot, preferring one
        with a slot in the part of day asked for."""
        today = sch.local_today(self.service, doctor)
        first_any: date | None = None
        for offset in range(max(span, 1)):
            candidate = day + timedelta(days=offset)
            if candidate < today:
                continue
            slots = await sch.slots_on(self.service, doctor, candidate, patient.id)
            if not slots:
                continue
            if window is None or window.window is None or any(
                    window.accepts(s.start.astimezone(doctor.tz)) for s in slots):
                return candidate
            first_any = first_any or candidate
        return first_any

    async def time_on_day(self, turn: Turn, patient: User, doctor: Doctor, when: When) -> None:
        day = date.fromisoformat(turn.slot("appt_date"))
        slots = await sch.slots_on(self.service, doctor, day, patient.id)
        slot = sch.matching_slot(slots, doctor, when)
        if slot is not None:
            await self.take(turn, patient, doctor, slot.start)
        elif when.at is not None and when.window is None:
            turn.say("utter_slot_unavailable")
            self.clear_from(turn, "slot_start")

    async def take(self, turn: Turn, patient: User, doctor: Doctor, start: datetime) -> None:
        """The patient picked a slot: hold it while they confirm."""
        previous = turn.slot("slot_start")
        if previous and previous != start.isoformat():
            await self.service.release_hold(patient.id, doctor.id,
                                            datetime.fromisoformat(previous))
        try:
            held = await self.service.hold(patient.id, doctor.id, start)
        except SlotUnavailable:
            turn.say("utter_slot_unavailable")
            self.clear_from(turn, "slot_start")
            return
        if isinstance(held, Hold):
            turn.set("doctor_id", doctor.id)
            turn.set("appt_date", local(start, doctor.timezone).date().isoformat())
            turn.set("slot_start", start.isoformat())
            turn.set(self.confirm_slot, None)
            if turn.slot("confirm_tries"):
                turn.set("confirm_tries", None)
        else:
            self.offer_alternatives(turn, held)

    async def affirmed_start(self, turn: Turn, patient: User, doctor: Doctor,
                             confirmed_slot: str) -> datetime | None:
        """The held slot's start once the patient says yes. On no, the hold is released and
        `confirmed_slot` set to False; None for both, and while they have said neither."""
        start = datetime.fromisoformat(turn.slot("slot_start"))
        answer = self.answer(turn)
        if answer is False or answer is None and turn.slot("confirm_tries") == -1:
            await self.service.release_hold(patient.id, doctor.id, start)
            turn.set(confirmed_slot, False)
            return None
        return start if answer else None

    verb = "book"

    def answer(self, turn: Turn) -> bool | None:
        """The yes/no of a confirm step; an unreadable one is counted (after two the question
        comes with buttons and a way out, after UNCLEAR_GIVE_UP the form ends: tries = -1)."""
        answer = yes_no(turn.msg.text, turn.msg.intent, self.verb)
        if answer is None:
            tries = int(turn.slot("confirm_tries") or 0) + 1
            turn.set("confirm_tries", -1 if tries >= UNCLEAR_GIVE_UP else tries)
        return answer

    def record_result(self, turn: Turn, result: BookResult, confirmed_slot: str) -> None:
        """Booked: the form is done with the new code; lost the slot: offer the nearest."""
        if isinstance(result, Booked):
            log.info("%s: booking %s via chat", self.form, result.booking.id)
            turn.set(confirmed_slot, True)
            turn.set("result_ref", result.booking.ref)
        else:
            self.offer_alternatives(turn, result)

    def offer_alternatives(self, turn: Turn, taken: SlotTaken) -> None:
        alts = taken.alternatives
        if self.form == "reschedule_form":  # a booking moves only within its doctor
            alts = [(d, s) for d, s in alts if d.id == taken.doctor_id]
        items = sch.alternative_choices(alts, turn.lang)
        turn.say("utter_slot_taken", buttons=ch.buttons(items))
        turn.set("offered", offered_value(items, fresh=True))
        turn.set("slot_start", None)
        turn.set(self.confirm_slot, None)

    confirm_slot = "booking_confirmed"

    @staticmethod
    def retry_day(turn: Turn) -> None:
        """Another doctor: the day asked for applies again (it was only full for the last)."""
        asked = sch.decode_day(turn.slot("date_pref"))
        if asked is not None and asked.tried:
            turn.set("date_pref", sch.encode_day(asked.day))

    def clear_from(self, turn: Turn, slot: str) -> None:
        """A changed answer invalidates the later ones."""
        order = ["doctor_id", "appt_date", "slot_start", self.confirm_slot]
        for name in order[order.index(slot):]:
            if name not in turn.updates or name == slot:
                turn.set(name, None)

    async def correction(self, turn: Turn, patient: User, *, doctor_fixed: bool) -> bool:
        """ "ganti dokter lain", "hari lain", "jam lain": forget that answer (and the later
        ones), keep the rest; True when the message was such a correction."""
        text = turn.msg.typed.lower()
        if not text:
            return False
        for pattern, slot in ((CHANGE_DOCTOR, "doctor_id"), (CHANGE_DAY, "appt_date"),
                              (CHANGE_TIME, "slot_start")):
            if not pattern.search(text) or (doctor_fixed and slot == "doctor_id"):
                continue
            await self.release(turn, patient)
            if slot == "doctor_id" and turn.slot("appt_date") and not turn.slot("date_pref"):
                turn.set("date_pref", sch.encode_day(date.fromisoformat(turn.slot("appt_date"))))
            if slot == "doctor_id":
                turn.set("doctor_name", None)
            if slot == "appt_date":
                turn.set("date_pref", None)
            if slot == "slot_start":
                turn.set("time_pref", None)
            self.clear_from(turn, slot)
            turn.set("offered", None)
            return True
        return False

    async def release(self, turn: Turn, patient: User) -> None:
        start, doctor_id = turn.slot("slot_start"), turn.slot("doctor_id")
        if start and doctor_id:
            await self.service.release_hold(patient.id, doctor_id, datetime.fromisoformat(start))

    async def pick_slot(self, turn: Turn, patient: User, picked: tuple[str, Any] | None,
                        fixed_doctor: Doctor | None = None) -> bool:
        """Apply a tapped/typed choice of doctor, day or slot; True when a slot was picked."""
        if picked is None:
            return False
        kind, value = picked
        if kind == "doctor" and fixed_doctor is None:
            if value != turn.slot("doctor_id"):
                self.clear_from(turn, "doctor_id")
                self.retry_day(turn)
            turn.set("doctor_id", value)
        elif kind == "day":
            if value != turn.slot("appt_date"):
                self.clear_from(turn, "appt_date")
            turn.set("appt_date", value)
        elif kind == "slot":
            doctor_id, start = value
            if fixed_doctor is not None and doctor_id != fixed_doctor.id:
                return False
            try:
                doctor = await self.service.doctor(doctor_id)
            except NotFound:
                return False
            await self.take(turn, patient, doctor, start)
            return True
        return False


class ValidateBookingForm(FormValidation):
    form = "booking_form"
    confirm_slot = "booking_confirmed"

    def required(self, turn: Turn) -> list[str]:
        return ["patient_name", "doctor_id", "appt_date", "slot_start", "booking_confirmed"]

    async def interpret(self, turn: Turn) -> None:
        msg = turn.msg
        patient = await self.patient(turn)
        if patient is None:
            return
        if not turn.slot("patient_name") and patient.name:
            turn.set("patient_name", patient.name)
        if await self.about_a_booking(turn, patient):
            return
        if turn.requested == "patient_name":
            if msg.intent not in NOT_A_NAME:
                name = clean_name(msg.typed)
                if name:
                    await set_name(self.service, patient, name)
                    turn.set("patient_name", name)
            return
        confirming = turn.requested == "booking_confirmed"
        if msg.intent not in ANSWER_INTENTS or msg.intent in (
                "cancel_appointment", "reschedule_appointment") and not confirming:
            return
        if msg.intent == "deny" and not confirming and not says_when(msg.typed) \
                and not CHANGE_DOCTOR.search(msg.typed.lower()):
            return
        if await self.correction(turn, patient, doctor_fixed=False):
            return
        picked = await self.picked(turn)
        slot_picked = await self.pick_slot(turn, patient, picked)
        if picked is None:
            await self.read_doctor(turn)
        doctor = await self.doctor(turn)
        await self.read_when(turn, patient, doctor, slot_picked)
        if turn.requested == "booking_confirmed" and "slot_start" not in turn.updates \
                and doctor is not None:
            await self.confirm(turn, patient, doctor)

    async def about_a_booking(self, turn: Turn, patient: User) -> bool:
        """"ganti jadwal booking K7M-4QX ke tgl 20" read as a new booking: the code of one
        of the patient's own bookings makes the message about that booking. Ask whether to
        move or cancel it (buttons) instead of starting a new booking."""
        ref = turn.msg.entity("booking_ref")
        if not ref or turn.requested not in (None, "doctor_id"):
            return False
        code = normalise_ref(ref)
        booking = await self.service.store.bookings.find_one(ref=code) if code else None
        if booking is None or booking.patient_id != patient.id \
                or booking.status != BookingStatus.confirmed:
            return False
        entity = json.dumps({"booking_ref": booking.ref})
        titles = ("Move it", "Cancel it") if turn.lang == "en" else ("Pindahkan", "Batalkan")
        turn.say("utter_ask_move_or_cancel", ref=booking.ref, buttons=[
            {"title": titles[0], "payload": f"/reschedule_appointment{entity}"},
            {"title": titles[1], "payload": f"/cancel_appointment{entity}"}])
        turn.set(DONE, True)
        return True

    async def read_doctor(self, turn: Turn) -> None:
        """Specialty, city or doctor name from the message (entities, else the catalog)."""
        msg = turn.msg
        entities_only = replace(msg, text="")  # the message's entities, not its words
        asked_doctor = turn.requested in (None, "doctor_id")
        spec = sch.said_specialty(entities_only)
        town = sch.said_city(entities_only)
        # at the doctor question a doctor's name may also stand in the words themselves
        name = await sch.said_doctor(self.service, msg if asked_doctor else entities_only)
        if msg.values("doctor_name") and not name and turn.slot("doctor_name"):
            turn.set("doctor_name", None)  # not a doctor we have: read the message as a search
        typed = msg.typed
        if typed and asked_doctor and not name:
            # DIET found none: typos and shorthand against the catalogue ("dktr ggi sby")
            spec = spec or find_specialty(typed)
            town = town or find_city(typed)
            if not (spec or town) and typed.lower().startswith(("dr", "dok", "doc")):
                name = typed
        if not (spec or town or name):
            return
        if spec:
            turn.set("specialty", spec)
        if town:
            turn.set("city", town)
        if name:
            turn.set("doctor_name", name)
        doctors = await sch.find_doctors(
            self.service, specialty=None if name else turn.slot("specialty"),
            city=None if name else turn.slot("city"), name=name)
        current = turn.slot("doctor_id")
        if len(doctors) == 1:
            if doctors[0].id != current:
                self.clear_from(turn, "doctor_id")
                self.retry_day(turn)
            turn.set("doctor_id", doctors[0].id)
        elif current and current not in {d.id for d in doctors}:
            self.clear_from(turn, "doctor_id")

    async def confirm(self, turn: Turn, patient: User, doctor: Doctor) -> None:
        start = await self.affirmed_start(turn, patient, doctor, "booking_confirmed")
        if start is None:
            return
        try:
            result = await self.service.book(patient.id, doctor.id, start)
        except PatientOverlap:
            turn.say("utter_patient_overlap")
            self.clear_from(turn, "slot_start")
            return
        except TooManyBookings as exc:
            turn.say("utter_too_many_bookings", limit=exc.details.get("max_upcoming", ""))
            turn.set(DONE, True)
            return
        except (SlotUnavailable, InvalidInput):
            turn.say("utter_slot_unavailable")
            self.clear_from(turn, "slot_start")
            return
        self.record_result(turn, result, "booking_confirmed")


class BookingChange(FormValidation):
    """Cancel and reschedule: first pick one of the patient's bookings (cut-off checked)."""

    async def pick_booking(self, turn: Turn, patient: User) -> Booking | None:
        current = turn.slot("target_booking")
        if current:
            try:
                booking: Booking = await self.service.get_booking(
                    current, Actor(patient.id, Role.patient))
                return booking
            except NotFound:
                turn.set("target_booking", None)
        bookings = await self.service.patient_bookings(patient.id)
        if not bookings:
            turn.say("utter_no_bookings")
            turn.set(DONE, True)
            return None
        chosen = await self.match_booking(turn, bookings)
        if chosen is None and len(bookings) == 1:
            chosen = bookings[0]
        if chosen is None:
            return None
        hours = self.service.policy.cutoff_minutes // 60
        if chosen.start - self.service.clock() < timedelta(
                minutes=self.service.policy.cutoff_minutes):
            turn.say("utter_cutoff", ref=chosen.ref, hours=hours)
            turn.set(DONE, True)
            return None
        turn.set("target_booking", chosen.id)
        turn.set("booking_ref", chosen.ref)
        return chosen

    async def match_booking(self, turn: Turn, bookings: list[Booking]) -> Booking | None:
        by_id = {b.id: b for b in bookings}
        picked = await self.picked(turn)
        if picked and picked[0] == "booking" and picked[1] in by_id:
            return by_id[picked[1]]
        refs = [normalise_ref(turn.msg.entity("booking_ref") or "")]
        refs += [normalise_ref(w) for w in turn.msg.typed.replace(",", " ").split()]
        for ref in refs:
            hit = [b for b in bookings if ref and b.ref == ref]
            if hit:
                return hit[0]
        by_doctor = await self.match_doctor(turn, bookings)
        if by_doctor is not None:
            return by_doctor
        if turn.msg.typed:
            when = parse_when(turn.msg.typed, self.service.clock())
            if when.day is not None:
                # local day in the booking's own zone is close enough for matching
                same = [b for b in bookings if any(
                    (b.start + timedelta(hours=h)).date() == when.day for h in (7, 8, 9))]
                if len(same) == 1:
                    return same[0]
                if not same and re.search(WEEKDAY_WORDS, turn.msg.typed.lower()):
                    # "the one on Thursday": the booking on that weekday, whichever week
                    same = [b for b in bookings if (b.start + timedelta(hours=8)).weekday()
                            == when.day.weekday()]
                    if len(same) == 1:
                        return same[0]
        return None

    async def match_doctor(self, turn: Turn, bookings: list[Booking]) -> Booking | None:
        """"the dentist one", "yg sama dr. Sari", "the skin doctor appointment": the one
        booking whose doctor has the specialty or name the message gives."""
        msg = turn.msg
        spec = sch.said_specialty(msg)
        name = " ".join(msg.values("doctor_name")).lower().replace("drg.", "").replace("dr.", "")
        name_words = [w for w in re.findall(r"[a-z]{3,}", name) if w not in ("dokter", "doctor")]
        if not (spec or name_words):
            return None
        doctors = {b.doctor_id: await self.service.doctor(b.doctor_id) for b in bookings}
        hits = [b for b in bookings
                if (spec and doctors[b.doctor_id].specialty == spec)
                or (name_words and all(w in doctors[b.doctor_id].name.lower()
                                       for w in name_words))]
        return hits[0] if len(hits) == 1 else None


class ValidateCancelForm(BookingChange):
    form = "cancel_form"
    verb = "cancel"
    reask_intents = frozenset({"inform", "affirm", "cancel_appointment"})
    confirm_slot = "cancel_confirmed"

    def required(self, turn: Turn) -> list[str]:
        return ["target_booking", "cancel_confirmed"]

    async def interpret(self, turn: Turn) -> None:
        msg = turn.msg
        if msg.intent not in ANSWER_INTENTS:
            return
        if msg.intent == "deny" and turn.requested != "cancel_confirmed":
            return
        if msg.intent == "reschedule_appointment" and turn.requested != "cancel_confirmed":
            return
        patient = await self.patient(turn)
        if patient is None:
            return
        had_target = bool(turn.slot("target_booking"))
        booking = await self.pick_booking(turn, patient)
        if booking is None or not had_target or turn.requested != "cancel_confirmed":
            return
        answer = self.answer(turn)
        if answer is False or answer is None and turn.slot("confirm_tries") == -1:
            turn.set("cancel_confirmed", False)
        elif answer:
            try:
                cancelled = await self.service.cancel(booking.id,
                                                      actor=Actor(patient.id, Role.patient),
                                                      reason="cancelled by the patient in chat")
            except CutoffPassed:
                turn.say("utter_cutoff", ref=booking.ref,
                         hours=self.service.policy.cutoff_minutes // 60)
                turn.set(DONE, True)
                return
            except InvalidTransition:
                turn.say("utter_no_bookings")
                turn.set(DONE, True)
                return
            turn.set("cancel_confirmed", True)
            turn.set("result_ref", cancelled.ref)


class ValidateRescheduleForm(BookingChange):
    form = "reschedule_form"
    verb = "reschedule"
    reask_intents = REASK_INTENTS | {"reschedule_appointment"}
    confirm_slot = "reschedule_confirmed"

    def required(self, turn: Turn) -> list[str]:
        return ["target_booking", "appt_date", "slot_start", "reschedule_confirmed"]

    def clear_from(self, turn: Turn, slot: str) -> None:
        order = ["appt_date", "slot_start", "reschedule_confirmed"]
        if slot not in order:
            return
        for name in order[order.index(slot):]:
            if name not in turn.updates or name == slot:
                turn.set(name, None)

    async def interpret(self, turn: Turn) -> None:
        msg = turn.msg
        confirming = turn.requested == "reschedule_confirmed"
        if msg.intent not in ANSWER_INTENTS or msg.intent == "cancel_appointment" \
                and not confirming:
            return
        if msg.intent == "deny" and not confirming and not says_when(msg.typed):
            return
        patient = await self.patient(turn)
        if patient is None:
            return
        had_target = bool(turn.slot("target_booking"))
        booking = await self.pick_booking(turn, patient)
        if booking is None:
            return
        doctor = await self.service.doctor(booking.doctor_id)
        if turn.slot("doctor_id") != doctor.id:
            turn.set("doctor_id", doctor.id)
        if not had_target and not msg.typed:
            return
        if await self.correction(turn, patient, doctor_fixed=True):
            return
        picked = await self.picked(turn)
        slot_picked = await self.pick_slot(turn, patient, picked, fixed_doctor=doctor)
        await self.read_when(turn, patient, doctor, slot_picked)
        if turn.requested == "reschedule_confirmed" and "slot_start" not in turn.updates:
            await self.confirm(turn, patient, doctor, booking)

    async def confirm(self, turn: Turn, patient: User, doctor: Doctor, booking: Booking) -> None:
        start = await self.affirmed_start(turn, patient, doctor, "reschedule_confirmed")
        if start is None:
            return
        try:
            result = await self.service.reschedule(booking.id, start,
                                                   actor=Actor(patient.id, Role.patient))
        except CutoffPassed:
            turn.say("utter_cutoff", ref=booking.ref,
                     hours=self.service.policy.cutoff_minutes // 60)
            turn.set(DONE, True)
            return
        except (SlotUnavailable, InvalidInput, PatientOverlap):
            turn.say("utter_slot_unavailable")
            self.clear_from(turn, "slot_start")
            return
        self.record_result(turn, result, "reschedule_confirmed")
