"""The forms' questions: each lists what can be chosen now, as buttons (and remembers it)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import choices as ch
from actions import scheduling as sch
from actions.base import ServiceAction, language
from actions.formatting import booking_line, booking_title, day_long, doctor_line, rupiah
from actions.forms import offered_value
from actions.patients import wa_id
from booking.catalog import nearest_first, specialty_label
from booking.errors import NotFound
from booking.formatting import local_when
from booking.models import Booking, Doctor, Role
from booking.service import Actor, BookingService

Events = list[dict[str, Any]]


def unclear(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """Two unreadable answers to a yes/no question: ask with buttons and a way out instead."""
    tries = tracker.get_slot("confirm_tries")
    if isinstance(tries, int | float) and tries >= 2:
        dispatcher.utter_message(response="utter_confirm_unclear")
        return True
    return False


async def explain_no_doctor(service: BookingService, dispatcher: CollectingDispatcher,
                            lang: str, spec: str | None, city: str | None,
                            name: str | None) -> Events:
    """No doctor for the search: keep the specialty, say why (no clinic in the city, or no
    such specialist there) and offer the cities that have it, nearest first."""
    if spec and city and not name:
        elsewhere = await sch.find_doctors(service, specialty=spec)
        if elsewhere:
            cities = nearest_first(city, [d.city for d in elsewhere])[:ch.MAX_BUTTONS]
            has_clinic = bool(await sch.find_doctors(service, city=city))
            response = "utter_no_specialty_in_city" if has_clinic else "utter_no_clinic_in_city"
            dispatcher.utter_message(
                response=response, city=city, specialty=specialty_label(spec, lang),
                cities=", ".join(cities),
                buttons=[{"title": ch.shorten(c, ch.TITLE_MAX_SMALL),
                          "payload": "/inform" + json.dumps({"city": c}, separators=(",", ":"))}
                         for c in cities])
            return [SlotSet("city", None), SlotSet("doctor_name", None), SlotSet("offered", None)]
    dispatcher.utter_message(response="utter_no_doctor",
                             what=sch.search_label(lang, spec, city, name))
    dispatcher.utter_message(response="utter_choose_specialty")
    return [SlotSet("specialty", None), SlotSet("doctor_name", None), SlotSet("offered", None)]


class AskAction(ServiceAction):
    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def patient_id(self, tracker: Tracker) -> str | None:
        number = wa_id(tracker)
        if number is None:
            return None
        user = await self.service.store.users.find(whatsapp=number)
        return user.id if user else None

    async def doctor(self, tracker: Tracker) -> Doctor | None:
        doctor_id = tracker.get_slot("doctor_id")
        if not doctor_id:
            return None
        try:
            return await self.service.doctor(doctor_id)
        except NotFound:
            return None

    async def booking(self, tracker: Tracker) -> Booking | None:
        booking_id, patient = tracker.get_slot("target_booking"), await self.patient_id(tracker)
        if not booking_id or patient is None:
            return None
        try:
            found: Booking = await self.service.get_booking(booking_id,
                                                            Actor(patient, Role.patient))
            return found
        except NotFound:
            return None


class ActionAskDoctorId(AskAction):
    slot = "doctor_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        lang = language(tracker)
        spec, city, name = (tracker.get_slot(s) for s in ("specialty", "city", "doctor_name"))
        dropped: Events = []
        if name and not await sch.real_name(self.service, name):
            name, dropped = None, [SlotSet("doctor_name", None)]
        if not (spec or city or name):
            dispatcher.utter_message(response="utter_choose_specialty")
            return [*dropped, SlotSet("offered", None)]
        doctors = await sch.find_doctors(self.service, specialty=None if name else spec,
                                         city=None if name else city, name=name)
        if not doctors:
            return dropped + await explain_no_doctor(self.service, dispatcher, lang, spec,
                                                     city, name)
        shown = doctors[:sch.MAX_DOCTORS]
        items = sch.doctor_choices(shown)
        lines = "\n".join(doctor_line(i + 1, d, lang) for i, d in enumerate(shown))
        dispatcher.utter_message(response="utter_choose_doctor", doctors=lines,
                                 buttons=ch.buttons(items))
        return [*dropped, SlotSet("offered", offered_value(items, fresh=False))]


class ActionAskApptDate(AskAction):
    slot = "appt_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        lang = language(tracker)
        doctor = await self.doctor(tracker)
        if doctor is None:
            return [SlotSet("requested_slot", "doctor_id")]
        asked = sch.decode_day(tracker.get_slot("date_pref"))  # offer from the day asked for
        days = await sch.free_days(self.service, doctor, await self.patient_id(tracker),
                                   from_day=asked.day if asked else None)
        if not days and asked:
            days = await sch.free_days(self.service, doctor, await self.patient_id(tracker))
        if not days:
            dispatcher.utter_message(response="utter_no_slots_at_all", doctor=doctor.name)
            events: Events = [SlotSet("doctor_id", None), SlotSet("requested_slot", "doctor_id"),
                              SlotSet("offered", None)]
            spec, city = tracker.get_slot("specialty"), tracker.get_slot("city")
            others = [d for d in await sch.find_doctors(self.service, specialty=spec, city=city)
                      if d.id != doctor.id] if spec or city else []
            if others:  # the other doctors of the same search, as buttons
                shown = others[:sch.MAX_DOCTORS]
                items = sch.doctor_choices(shown)
                lines = "\n".join(doctor_line(i + 1, d, lang) for i, d in enumerate(shown))
                dispatcher.utter_message(response="utter_choose_doctor", doctors=lines,
                                         buttons=ch.buttons(items))
                events[-1] = SlotSet("offered", offered_value(items, fresh=False))
            return events
        items = sch.day_choices(days, doctor, lang, sch.local_today(self.service, doctor))
        dispatcher.utter_message(response="utter_choose_date", doctor=doctor.name,
                                 buttons=ch.buttons(items))
        return [SlotSet("offered", offered_value(items, fresh=False))]


class ActionAskSlotStart(AskAction):
    slot = "slot_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        offered = tracker.get_slot("offered") or {}
        if isinstance(offered, dict) and offered.get("fresh"):
            # the alternatives to a taken slot were just listed with the apology
            return [SlotSet("offered", offered_value(offered.get("items") or [], fresh=False))]
        lang = language(tracker)
        doctor = await self.doctor(tracker)
        day_text = tracker.get_slot("appt_date")
        if doctor is None or not day_text:
            return []
        day = date.fromisoformat(day_text)
        patient = await self.patient_id(tracker)
        slots = await sch.slots_on(self.service, doctor, day, patient,
                                   sch.decode_pref(tracker.get_slot("time_pref")))
        if not slots:
            dispatcher.utter_message(response="utter_no_slots", doctor=doctor.name,
                                     date=day_long(day, lang))
            days = await sch.free_days(self.service, doctor, patient)
            items = sch.day_choices(days, doctor, lang, sch.local_today(self.service, doctor))
            dispatcher.utter_message(response="utter_choose_date", doctor=doctor.name,
                                     buttons=ch.buttons(items))
            return [SlotSet("appt_date", None), SlotSet("requested_slot", "appt_date"),
                    SlotSet("offered", offered_value(items, fresh=False))]
        items = sch.slot_choices(slots, doctor, lang)
        dispatcher.utter_message(response="utter_choose_slot", doctor=doctor.name,
                                 date=day_long(day, lang), buttons=ch.buttons(items))
        return [SlotSet("offered", offered_value(items, fresh=False))]


class ActionAskBookingConfirmed(AskAction):
    slot = "booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        if unclear(tracker, dispatcher):
            return []
        lang = language(tracker)
        doctor = await self.doctor(tracker)
        start_text = tracker.get_slot("slot_start")
        if doctor is None or not start_text:
            return []
        day, clock = local_when(datetime.fromisoformat(start_text), doctor.timezone, lang)
        dispatcher.utter_message(response="utter_confirm_booking", doctor=doctor.name,
                                 specialty=specialty_label(doctor.specialty, lang), date=day,
                                 time=clock, clinic=doctor.clinic, city=doctor.city,
                                 fee=rupiah(doctor.fee))
        return []


class ActionAskTargetBooking(AskAction):
    slot = "target_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        lang = language(tracker)
        patient = await self.patient_id(tracker)
        bookings = await self.service.patient_bookings(patient) if patient else []
        if not bookings:
            dispatcher.utter_message(response="utter_no_bookings")
            return []
        doctors = {d.id: d for d in [await self.service.doctor(i)
                                     for i in {b.doctor_id for b in bookings}]}
        shown = bookings[:ch.MAX_BUTTONS]
        lines = "\n".join(booking_line(i + 1, b, doctors[b.doctor_id], lang)
                          for i, b in enumerate(shown))
        items = [ch.Choice(title=booking_title(b, doctors[b.doctor_id], lang),
                           value=ch.booking_value(b.id)) for b in shown]
        dispatcher.utter_message(response="utter_choose_booking", bookings=lines,
                                 buttons=ch.buttons(items))
        return [SlotSet("offered", offered_value(items, fresh=False))]


class ActionAskCancelConfirmed(AskAction):
    slot = "cancel_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        if unclear(tracker, dispatcher):
            return []
        booking = await self.booking(tracker)
        if booking is None:
            return []
        doctor = await self.service.doctor(booking.doctor_id)
        day, clock = local_when(booking.start, doctor.timezone, language(tracker))
        dispatcher.utter_message(response="utter_confirm_cancel", ref=booking.ref,
                                 doctor=doctor.name, date=day, time=clock)
        return []


class ActionAskRescheduleConfirmed(AskAction):
    slot = "reschedule_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> Events:
        if unclear(tracker, dispatcher):
            return []
        lang = language(tracker)
        booking = await self.booking(tracker)
        start_text = tracker.get_slot("slot_start")
        if booking is None or not start_text:
            return []
        doctor = await self.service.doctor(booking.doctor_id)
        old_day, old_clock = local_when(booking.start, doctor.timezone, lang)
        new_start = datetime.fromisoformat(start_text)
        day, clock = local_when(new_start, doctor.timezone, lang)
        dispatcher.utter_message(response="utter_confirm_reschedule", ref=booking.ref,
                                 doctor=doctor.name, old_date=old_day, old_time=old_clock,
                                 date=day, time=clock)
        return []
