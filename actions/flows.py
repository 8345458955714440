"""Single-turn actions (search, availability, list, handoff, fallback) and the forms' endings."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from rasa_sdk import Tracker, ValidationAction
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import choices as ch
from actions import scheduling as sch
from actions.asking import explain_no_doctor
from actions.base import FLOW_SLOTS, Message, ServiceAction, language
from actions.formatting import booking_line, doctor_line
from actions.forms import ABOUT_MY_BOOKINGS, answers_question, offered_value, says_when
from actions.patients import ensure_patient, wa_id
from actions.turn import report, understood
from booking.catalog import city_name, specialty_code, specialty_label
from booking.dates import When, parse_when
from booking.errors import BookingError, NotFound
from booking.formatting import local_when
from booking.fuzzy import find_city, find_specialty
from booking.language import next_language
from booking.models import Booking, Doctor

log = logging.getLogger(__name__)
Events = list[dict[str, Any]]
SEARCH_LIMIT = 5
AVAILABILITY_LIMIT = 6
# kv entry per WhatsApp number: the gateway turns it into a handoff (notify/handoff.py)
HANDOFF_KEY = "handoff:"


async def request_handoff(service: Any, tracker: Tracker, reason: str) -> None:
    """Ask the gateway for a person (it opens the handoff once Rasa has answered)."""
    number = wa_id(tracker)
    if number is None:
        return
    try:
        await service.store.kv.set(HANDOFF_KEY + number, {
            "wa_id": number, "at": service.clock().isoformat(), "open": True,
            "reason": reason, "language": language(tracker)})
    except BookingError as exc:
        log.warning("handoff not recorded: %s", exc.code)


def remembered_when(text: str, now: datetime) -> Events:
    """What a search says about when ("tgl 14/1 sore"), kept for the booking that follows."""
    if not text:
        return []
    when = parse_when(text, now)
    events: Events = []
    if when.day is not None:
        events.append(SlotSet("date_pref", sch.encode_day(when.day, when.span_days)))
    pref = sch.encode_pref(when)
    if pref is not None:
        events.append(SlotSet("time_pref", pref))
    return events


async def next_free(service: Any, doctor: Doctor, asked: When) -> datetime | None:
    """The doctor's first free slot from the day and part of day asked for."""
    after = None
    if asked.day is not None:
        after = datetime.combine(asked.day, datetime.min.time(), tzinfo=doctor.tz).astimezone(UTC)
    found = await service.earliest([doctor], after=after, limit=40 if asked.has_time else 1)
    fits = [s for _, s in found if asked.accepts(s.start.astimezone(doctor.tz))]
    candidates = fits or [s for _, s in found]
    return candidates[0].start if candidates else None


def answer_pending(tracker: Tracker) -> bool:
    """Inside a form, does this digression's message answer the form's question? Then the
    digression stays silent and the form reads the message when it resumes."""
    return bool(tracker.active_loop_name) and answers_question(
        Message.of(tracker), tracker.get_slot("requested_slot"))


def about_a_doctor(msg: Message) -> bool:
    """Does a "jadwal ..." message name a doctor or specialty rather than "my bookings"?"""
    if not msg.typed or ABOUT_MY_BOOKINGS.search(msg.typed.lower()):
        return False
    return bool(sch.said_specialty(msg) or msg.entity("doctor_name"))


# The last bot actions whose offer a day or time refines ("actually, the afternoon")
REFINABLE = ("action_search_doctor", "action_check_availability")


def last_action(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") not in (
                "action_listen", "action_validate_slot_mappings", "action_extract_slots",
                "action_handle_fallback"):
            return str(event.get("name"))
    return None


def merged_when(asked: When, date_pref: str | None, time_pref: str | None) -> When:
    """What the message says about when, completed by what the patient said before."""
    day = sch.decode_day(date_pref)
    earlier = sch.decode_pref(time_pref)
    if asked.day is None and day is not None and not day.tried:
        asked = replace(asked, day=day.day, span_days=day.span)
    if not asked.has_time and earlier.has_time:
        asked = replace(asked, at=earlier.at, window=earlier.window)
    return asked


def reset_flow() -> Events:
    return [SlotSet(name, None) for name in FLOW_SLOTS]


class ValidateSlotMappings(ValidationAction):
    """Runs after every user message: keeps the conversation's language up to date and
    reports what the message was understood as (actions/turn.py)."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> Events:
        events: Events = await super().run(dispatcher, tracker, domain)
        lang = next((e.get("value") for e in events
                     if e.get("event") == "slot" and e.get("name") == "language"),
                    tracker.get_slot("language"))
        report(dispatcher, **understood(tracker), language=lang)
        return events

    async def extract_language(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        current = tracker.get_slot("language")
        lang = next_language(current, Message.of(tracker).text)
        return {} if lang == current else {"language": lang}

    async def validate_specialty(self, value: Any, dispatcher: CollectingDispatcher,
                                 tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return {"specialty": specialty_code(str(value)) if value else None}

    async def validate_city(self, value: Any, dispatcher: CollectingDispatcher,
                            tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return {"city": city_name(str(value)) if value else None}


class ActionSearchDoctor(ServiceAction):
    def name(self) -> str:
        return "action_search_doctor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        lang = language(tracker)
        msg = Message.of(tracker)
        spec, city = tracker.get_slot("specialty"), tracker.get_slot("city")
        name = await sch.said_doctor(self.service, msg)
        events = remembered_when(msg.typed, self.service.clock())
        if msg.values("doctor_name") and not name:  # not one of our doctors: a search
            events.append(SlotSet("doctor_name", None))
        found = sch.said_specialty(msg)  # also typos and shorthand DIET missed ("dktr ggi")
        if found and found != spec:
            spec = found
            events.append(SlotSet("specialty", spec))
        town = sch.said_city(msg)
        if town and town != city:
            city = town
            events.append(SlotSet("city", city))
        if name:
            events.append(SlotSet("doctor_name", name))
        if not (spec or city or name):
            dispatcher.utter_message(response="utter_choose_specialty")
            return events
        doctors = await sch.find_doctors(self.service, specialty=None if name else spec,
                                         city=None if name else city, name=name)
        if not doctors:
            return events + await explain_no_doctor(self.service, dispatcher, lang, spec, city,
                                                    name)
        shown = doctors[:SEARCH_LIMIT]
        asked = parse_when(msg.typed, self.service.clock(), shown[0].timezone)
        lines = []
        for i, doctor in enumerate(shown):
            nxt = await next_free(self.service, doctor, asked)
            lines.append(doctor_line(i + 1, doctor, lang, nxt))
        items = sch.doctor_choices(shown)
        dispatcher.utter_message(response="utter_doctor_list", doctors="\n".join(lines),
                                 buttons=ch.buttons(items, intent="book_appointment"))
        return [SlotSet("offered", offered_value(items, fresh=False)), *events]


class ActionCheckAvailability(ServiceAction):
    def name(self) -> str:
        return "action_check_availability"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        lang = language(tracker)
        msg = Message.of(tracker)
        name = msg.entity("doctor_name") or tracker.get_slot("doctor_name")
        said_spec, said_city = sch.said_specialty(msg), sch.said_city(msg)
        spec = said_spec or tracker.get_slot("specialty")
        city = said_city or tracker.get_slot("city")
        if not (name or spec):
            dispatcher.utter_message(response="utter_ask_what_to_check")
            return []
        doctors = await sch.find_doctors(self.service, specialty=None if name else spec,
                                         city=None if name else city, name=name)
        if not doctors:
            dispatcher.utter_message(response="utter_no_doctor",
                                     what=sch.search_label(lang, spec, city, name))
            return []
        when = parse_when(msg.typed, self.service.clock(), doctors[0].timezone)
        if msg.intent == "nlu_fallback":  # a refinement of the last offer (fallback above)
            when = merged_when(when, tracker.get_slot("date_pref"), tracker.get_slot("time_pref"))
        after = None
        if when.day is not None:
            after = datetime.combine(when.day, datetime.min.time(),
                                     tzinfo=doctors[0].tz).astimezone(UTC)
        found = await self.service.earliest(doctors, after=after, limit=60)
        if when.day is not None or when.has_time:
            found = [(d, s) for d, s in found if when.accepts(s.start.astimezone(d.tz))] or found
        found = found[:AVAILABILITY_LIMIT]
        if not found:
            dispatcher.utter_message(response="utter_no_slots_at_all",
                                     doctor=", ".join(d.name for d in doctors[:3]))
            return []
        items = sch.alternative_choices(found, lang)
        events = remembered_when(msg.typed, self.service.clock())
        events += [SlotSet(k, v) for k, v in (("specialty", said_spec), ("city", said_city))
                   if v and v != tracker.get_slot(k)]
        if len(doctors) == 1:
            what = doctors[0].name
        else:
            what = specialty_label(spec, lang) if spec else sch.names_of(doctors)
            if city:
                what += f" ({city})"
        dispatcher.utter_message(response="utter_availability", what=what,
                                 buttons=ch.buttons(items, intent="book_appointment"))
        return [SlotSet("offered", offered_value(items, fresh=False)), *events]


async def _doctors_of(service: Any, bookings: list[Booking]) -> dict[str, Doctor]:
    out: dict[str, Doctor] = {}
    for doctor_id in {b.doctor_id for b in bookings}:
        out[doctor_id] = await service.doctor(doctor_id)
    return out


class ActionListAppointments(ServiceAction):
    def name(self) -> str:
        return "action_list_appointments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        if answer_pending(tracker):
            return []
        if not tracker.active_loop_name and about_a_doctor(Message.of(tracker)):
            # "cek jadwal dokter anak medan": a doctor's schedule, not the patient's
            return await ActionCheckAvailability(self._service).run(dispatcher, tracker, domain)
        lang = language(tracker)
        patient = await ensure_patient(self.service, tracker, lang)
        if patient is None:
            dispatcher.utter_message(response="utter_unknown_sender")
            return []
        bookings = await self.service.patient_bookings(patient.id)
        if not bookings:
            dispatcher.utter_message(response="utter_no_bookings")
            return []
        doctors = await _doctors_of(self.service, bookings)
        lines = "\n".join(booking_line(i + 1, b, doctors[b.doctor_id], lang)
                          for i, b in enumerate(bookings))
        dispatcher.utter_message(response="utter_bookings_list", bookings=lines)
        return []


class ActionHandoff(ServiceAction):
    """Marks the conversation for staff (slot + a kv entry they can list) and says when."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        await request_handoff(self.service, tracker, "requested")
        dispatcher.utter_message(response="utter_handoff")
        report(dispatcher, handoff=True)
        return [SlotSet("handoff", True)]


class ActionHandleFallback(ServiceAction):
    """Low NLU confidence: ask to rephrase; the second time in a row, offer a human."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        if answer_pending(tracker):
            return []
        intents = [(e.get("parse_data") or {}).get("intent", {}).get("name")
                   for e in tracker.events if e.get("event") == "user"]
        in_a_row = 0
        for intent in reversed(intents):
            if intent != "nlu_fallback":
                break
            in_a_row += 1
        text = Message.of(tracker).typed
        if text and not tracker.active_loop_name and last_action(tracker) in REFINABLE \
                and says_when(text):
            # "actually make it the afternoon" after a search or availability offer: the
            # times of that offer, narrowed to what the patient now says
            return await ActionCheckAvailability(self._service).run(dispatcher, tracker, domain)
        if text and (find_specialty(text) or find_city(text)):
            # "I want to see a cardiologist in Jakarta this weekend": unsure intent, clear
            # search: answer it as one
            return await ActionSearchDoctor(self._service).run(dispatcher, tracker, domain)
        if in_a_row >= 2:  # the second in a row: a person takes over (the gateway says so)
            await request_handoff(self.service, tracker, "fallback")
        dispatcher.utter_message(response="utter_fallback_handoff" if in_a_row >= 2
                                 else "utter_fallback")
        report(dispatcher, fallback=True)
        return []


class ActionOutOfScope(ServiceAction):
    """Out of scope inside a form: unless the message answers the form's question."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        if not answer_pending(tracker):
            dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionAnswerFaq(ServiceAction):
    """A question inside a form: the answer the ResponseSelector chose, unless the message
    corrects the form's answer ("jam lain dong" read as a question about opening hours)."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        if answer_pending(tracker):
            return []
        selected = ((tracker.latest_message or {}).get("response_selector") or {}).get(
            "faq") or {}
        key = (selected.get("response") or {}).get("intent_response_key")  # "faq/price"
        if isinstance(key, str) and key.startswith("faq/"):
            dispatcher.utter_message(response=f"utter_{key}")
        else:
            dispatcher.utter_message(response="utter_fallback")
        return []


class ActionStopForm(ServiceAction):
    """The patient left a form ('menu', 'batal'): release a held slot, forget the flow."""

    def name(self) -> str:
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        await release_held(self.service, tracker)
        return reset_flow()


async def release_held(service: Any, tracker: Tracker) -> None:
    start, doctor_id = tracker.get_slot("slot_start"), tracker.get_slot("doctor_id")
    number = wa_id(tracker)
    if not (start and doctor_id and number) or tracker.get_slot("result_ref"):
        return
    user = await service.store.users.find(whatsapp=number)
    if user is not None:
        await service.release_hold(user.id, doctor_id, datetime.fromisoformat(start))


class ActionFinishBooking(ServiceAction):
    def name(self) -> str:
        return "action_finish_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        lang = language(tracker)
        ref = tracker.get_slot("result_ref")
        booking = await self.service.store.bookings.find_one(ref=ref) if ref else None
        if booking is not None and tracker.get_slot("booking_confirmed"):
            doctor = await self.service.doctor(booking.doctor_id)
            day, clock = local_when(booking.start, doctor.timezone, lang)
            dispatcher.utter_message(response="utter_booked", ref=booking.ref,
                                     doctor=doctor.name, date=day, time=clock,
                                     clinic=f"{doctor.clinic}, {doctor.address}".strip(", "))
            report(dispatcher, refs=[booking.ref])
        elif tracker.get_slot("booking_confirmed") is False:
            await release_held(self.service, tracker)
            dispatcher.utter_message(response="utter_booking_aborted")
            dispatcher.utter_message(response="utter_menu")
        return reset_flow()


class ActionFinishCancel(ServiceAction):
    def name(self) -> str:
        return "action_finish_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        confirmed, ref = tracker.get_slot("cancel_confirmed"), tracker.get_slot("result_ref")
        if confirmed and ref:
            dispatcher.utter_message(response="utter_cancelled", ref=ref)
            report(dispatcher, refs=[ref])
        elif confirmed is False:
            dispatcher.utter_message(response="utter_booking_kept")
        return reset_flow()


class ActionFinishReschedule(ServiceAction):
    def name(self) -> str:
        return "action_finish_reschedule"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        lang = language(tracker)
        confirmed, ref = tracker.get_slot("reschedule_confirmed"), tracker.get_slot("result_ref")
        booking = await self.service.store.bookings.find_one(ref=ref) if confirmed and ref else None
        if booking is not None:
            try:
                doctor = await self.service.doctor(booking.doctor_id)
            except NotFound:
                return reset_flow()
            day, clock = local_when(booking.start, doctor.timezone, lang)
            dispatcher.utter_message(response="utter_rescheduled", ref=booking.ref,
                                     doctor=doctor.name, date=day, time=clock)
            report(dispatcher, refs=[booking.ref])
        elif confirmed is False:
            await release_held(self.service, tracker)
            dispatcher.utter_message(response="utter_booking_kept")
        return reset_flow()

