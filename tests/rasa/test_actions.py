"""Action unit tests: rasa_sdk Tracker + CollectingDispatcher against the real booking service.

Fixtures from tests/conftest.py: the clock is Monday 7 December 2026 07:00 WIB; `doctor`
is a Jakarta GP (Mon-Fri 09-12, 13-16, 30-minute slots, 60 min notice).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.asking import ActionAskDoctorId, ActionAskSlotStart, ActionAskTargetBooking
from actions.flows import (
    ActionCheckAvailability,
    ActionFinishBooking,
    ActionHandleFallback,
    ActionHandoff,
    ActionListAppointments,
    ActionSearchDoctor,
    ActionStopForm,
    ValidateSlotMappings,
)
from actions.forms import ValidateBookingForm, ValidateCancelForm, ValidateRescheduleForm
from actions.turn import TURN_KEY
from booking.models import BookingStatus, Doctor, User
from booking.service import Booked, BookingService
from booking.store import MongoStore
from tests.rasa.conftest import entity, make_tracker

# 09:00 WIB on Tuesday 8 December = 02:00 UTC
TUE_0900 = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
TUE_0930 = TUE_0900 + timedelta(minutes=30)


def slot_value(doctor: Doctor, start: datetime) -> str:
    return f"s:{doctor.id}|{start:%Y-%m-%dT%H:%MZ}"


async def run(action: Any, tracker: Any, domain: dict[str, Any]
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return events, dispatcher.messages


def responses(messages: list[dict[str, Any]]) -> list[str]:
    """The responses the patient sees (turn reports for the gateway left out)."""
    return [m["response"] for m in messages if TURN_KEY not in (m.get("custom") or {})]


def turn_report(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The turn reports of an action's messages, merged (actions/turn.py)."""
    merged: dict[str, Any] = {}
    for m in messages:
        merged.update((m.get("custom") or {}).get(TURN_KEY) or {})
    return merged


async def book(service: BookingService, patient: User, doctor: Doctor, start: datetime) -> Any:
    result = await service.book(patient.id, doctor.id, start)
    assert isinstance(result, Booked)
    return result.booking


# ---- booking form -------------------------------------------------------------------------
async def test_booking_form_reads_everything_from_one_message(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="mau booking dokter umum di jakarta besok jam 9",
                           intent="book_appointment",
                           entities=[entity("specialty", "general"), entity("city", "Jakarta")])
    events, messages = await run(ValidateBookingForm(service), tracker, domain)
    assert events == [
        SlotSet("patient_name", "Pasien 0"), SlotSet("specialty", "general"),
        SlotSet("city", "Jakarta"), SlotSet("doctor_id", doctor.id),
        SlotSet("appt_date", "2026-12-08"), SlotSet("slot_start", TUE_0900.isoformat()),
        SlotSet("booking_confirmed", None), SlotSet("time_pref", "09:00"),
        SlotSet("requested_slot", "booking_confirmed")]
    assert messages == []
    # the offered slot is held for this patient while they confirm
    assert await service.coord.hold_owner(doctor.id, TUE_0900) == patients[0].id


async def test_booking_confirm_books(service: BookingService, doctor: Doctor,
                                    patients: list[User], sync_store: MongoStore,
                                    domain: dict[str, Any]) -> None:
    await service.hold(patients[0].id, doctor.id, TUE_0900)
    tracker = make_tracker(text="ya", intent="affirm", requested="booking_confirmed", slots={
        "patient_name": "Pasien 0", "doctor_id": doctor.id, "appt_date": "2026-12-08",
        "slot_start": TUE_0900.isoformat()})
    events, messages = await run(ValidateBookingForm(service), tracker, domain)
    bookings, _ = sync_store.find_bookings(patient_id=patients[0].id)
    assert len(bookings) == 1 and bookings[0].start == TUE_0900
    assert events == [SlotSet("booking_confirmed", True),
                      SlotSet("result_ref", bookings[0].ref), SlotSet("requested_slot", None)]
    assert messages == []


async def test_slot_taken_meanwhile_offers_alternatives(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    await book(service, patients[1], doctor, TUE_0900)  # someone else was faster
    tracker = make_tracker(text="iya", intent="affirm", requested="booking_confirmed", slots={
        "patient_name": "Pasien 0", "doctor_id": doctor.id, "appt_date": "2026-12-08",
        "slot_start": TUE_0900.isoformat()})
    events, messages = await run(ValidateBookingForm(service), tracker, domain)
    items = [{"title": "Sel 8/12 09:30", "value": slot_value(doctor, TUE_0930)},
             {"title": "Sel 8/12 10:00", "value": slot_value(doctor, TUE_0900 + timedelta(
                 hours=1))},
             {"title": "Sel 8/12 10:30", "value": slot_value(doctor, TUE_0900 + timedelta(
                 minutes=90))}]
    assert events == [SlotSet("offered", {"items": items, "fresh": True}),
                      SlotSet("slot_start", None), SlotSet("booking_confirmed", None),
                      SlotSet("requested_slot", "slot_start")]
    assert responses(messages) == ["utter_slot_taken"]
    assert [b["title"] for b in messages[0]["buttons"]] == [i["title"] for i in items]
    assert messages[0]["buttons"][0]["payload"] == (
        '/inform{"choice":"' + slot_value(doctor, TUE_0930) + '"}')
    # the question for slot_start does not repeat the list that was just shown
    ask_events, ask_messages = await run(ActionAskSlotStart(service), make_tracker(
        slots={"offered": {"items": items, "fresh": True}, "doctor_id": doctor.id,
               "appt_date": "2026-12-08"}), domain)
    assert ask_events == [SlotSet("offered", {"items": items, "fresh": False})]
    assert ask_messages == []


async def test_typed_time_picks_an_offered_slot(service: BookingService, doctor: Doctor,
                                              patients: list[User],
                                              domain: dict[str, Any]) -> None:
    items = [{"title": "09:00", "value": slot_value(doctor, TUE_0900)},
             {"title": "09:30", "value": slot_value(doctor, TUE_0930)}]
    tracker = make_tracker(text="yang jam 9.30 aja", intent="inform", requested="slot_start",
                           slots={"patient_name": "Pasien 0", "doctor_id": doctor.id,
                                  "appt_date": "2026-12-08",
                                  "offered": {"items": items, "fresh": False}})
    events, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert events == [SlotSet("doctor_id", doctor.id), SlotSet("appt_date", "2026-12-08"),
                      SlotSet("slot_start", TUE_0930.isoformat()),
                      SlotSet("booking_confirmed", None),
                      SlotSet("requested_slot", "booking_confirmed")]


async def test_unavailable_time_is_explained(service: BookingService, doctor: Doctor,
                                            patients: list[User],
                                            domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="jam 12 siang", intent="inform", requested="slot_start",
                           slots={"patient_name": "Pasien 0", "doctor_id": doctor.id,
                                  "appt_date": "2026-12-08"})
    events, messages = await run(ValidateBookingForm(service), tracker, domain)
    assert responses(messages) == ["utter_slot_unavailable"]  # 12-13 is the lunch gap
    assert events == [SlotSet("time_pref", "12:00"), SlotSet("slot_start", None),
                      SlotSet("booking_confirmed", None),
                      SlotSet("requested_slot", "slot_start")]


async def test_deny_at_confirm_keeps_nothing(service: BookingService, doctor: Doctor,
                                            patients: list[User],
                                            domain: dict[str, Any]) -> None:
    await service.hold(patients[0].id, doctor.id, TUE_0900)
    tracker = make_tracker(text="gak jadi", intent="deny", requested="booking_confirmed", slots={
        "patient_name": "Pasien 0", "doctor_id": doctor.id, "appt_date": "2026-12-08",
        "slot_start": TUE_0900.isoformat()})
    events, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert events == [SlotSet("booking_confirmed", False), SlotSet("requested_slot", None)]
    assert await service.coord.hold_owner(doctor.id, TUE_0900) is None


async def test_faq_inside_the_form_is_not_an_answer(service: BookingService, doctor: Doctor,
                                                   patients: list[User],
                                                   domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="klinik buka jam 8?", intent="faq", requested="slot_start",
                           slots={"patient_name": "Pasien 0", "doctor_id": doctor.id,
                                  "appt_date": "2026-12-08"})
    events, messages = await run(ValidateBookingForm(service), tracker, domain)
    assert events == [] and messages == []  # Rasa rejects the step; the FAQ rule answers


async def test_unreadable_answer_asks_again(service: BookingService, doctor: Doctor,
                                           patients: list[User], domain: dict[str, Any]) -> None:
    offered = {"items": [{"title": "09:00", "value": slot_value(doctor, TUE_0900)}],
               "fresh": False}
    tracker = make_tracker(text="hmm yang itu deh", intent="inform", requested="slot_start",
                           slots={"patient_name": "Pasien 0", "doctor_id": doctor.id,
                                  "appt_date": "2026-12-08", "offered": offered})
    events, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert events == [SlotSet("offered", offered), SlotSet("requested_slot", "slot_start")]


async def test_first_time_sender_without_name_is_asked_once(
        service: BookingService, doctor: Doctor, sync_store: MongoStore,
        domain: dict[str, Any]) -> None:
    sender = "6281399990001"
    tracker = make_tracker(text="mau booking", intent="book_appointment", sender=sender)
    events, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert events == []  # nothing to fill: Rasa asks utter_ask_patient_name
    user = sync_store.find_user(whatsapp=sender)
    assert user is not None and user.name == ""
    tracker = make_tracker(text="nama saya siti aminah", intent="inform", sender=sender,
                           requested="patient_name")
    events, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert events == [SlotSet("patient_name", "Siti Aminah"),
                      SlotSet("requested_slot", "doctor_id")]
    stored = sync_store.find_user(whatsapp=sender)
    assert stored is not None and stored.name == "Siti Aminah" and stored.id == user.id


async def test_whatsapp_name_registers_the_patient(service: BookingService,
                                                  sync_store: MongoStore,
                                                  domain: dict[str, Any]) -> None:
    sender = "6281399990002"
    tracker = make_tracker(text="cek booking saya", intent="list_appointments", sender=sender,
                           metadata={"senderName": "Budi Santoso"})
    events, messages = await run(ActionListAppointments(service), tracker, domain)
    assert events == [] and responses(messages) == ["utter_no_bookings"]
    user = sync_store.find_user(whatsapp=sender)
    assert user is not None and user.name == "Budi Santoso" and user.language == "id"


async def test_ask_doctor_lists_choices(service: BookingService, doctor: Doctor,
                                       sync_store: MongoStore, domain: dict[str, Any]) -> None:
    other = doctor.model_copy(update={"id": "doc-test-2", "name": "dr. Dua Lestari Putri"})
    sync_store.upsert_doctor(other)
    tracker = make_tracker(slots={"specialty": "general", "city": "Jakarta"},
                           requested="doctor_id")
    events, messages = await run(ActionAskDoctorId(service), tracker, domain)
    items = [{"title": "dr. Dua Lestari P.", "value": "d:doc-test-2"},
             {"title": "dr. Test Satu", "value": "d:doc-test-1"}]
    assert events == [SlotSet("offered", {"items": items, "fresh": False})]
    assert responses(messages) == ["utter_choose_doctor"]
    assert messages[0]["buttons"] == [
        {"title": "dr. Dua Lestari P.", "payload": '/inform{"choice":"d:doc-test-2"}'},
        {"title": "dr. Test Satu", "payload": '/inform{"choice":"d:doc-test-1"}'}]
    assert "Rp150.000" in messages[0]["doctors"]


# ---- cancel and reschedule ------------------------------------------------------------------
async def test_cancel_with_several_bookings(service: BookingService, doctor: Doctor,
                                           patients: list[User], sync_store: MongoStore,
                                           domain: dict[str, Any]) -> None:
    first = await book(service, patients[0], doctor, TUE_0900)
    second = await book(service, patients[0], doctor, TUE_0900 + timedelta(days=1))
    activation = make_tracker(text="mau batalin janji", intent="cancel_appointment")
    assert await run(ValidateCancelForm(service), activation, domain) == ([], [])
    events, messages = await run(ActionAskTargetBooking(service), make_tracker(
        requested="target_booking"), domain)
    assert responses(messages) == ["utter_choose_booking"]
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        f'/inform{{"choice":"b:{first.id}"}}', f'/inform{{"choice":"b:{second.id}"}}']
    offered = events[0]["value"]
    pick = make_tracker(text=f'/inform{{"choice":"b:{second.id}"}}', intent="inform",
                        entities=[entity("choice", f"b:{second.id}")], requested="target_booking",
                        slots={"offered": offered})
    events, _ = await run(ValidateCancelForm(service), pick, domain)
    assert events == [SlotSet("target_booking", second.id), SlotSet("booking_ref", second.ref),
                      SlotSet("requested_slot", "cancel_confirmed")]
    confirm = make_tracker(text="ya", intent="affirm", requested="cancel_confirmed",
                           slots={"target_booking": second.id})
    events, _ = await run(ValidateCancelForm(service), confirm, domain)
    assert events == [SlotSet("cancel_confirmed", True), SlotSet("result_ref", second.ref),
                      SlotSet("requested_slot", None)]
    assert sync_store.get_booking(second.id).status == BookingStatus.cancelled
    assert sync_store.get_booking(first.id).status == BookingStatus.confirmed


async def test_cancel_by_typed_reference(service: BookingService, doctor: Doctor,
                                        patients: list[User], domain: dict[str, Any]) -> None:
    await book(service, patients[0], doctor, TUE_0900)
    second = await book(service, patients[0], doctor, TUE_0930)
    tracker = make_tracker(text=f"cancel booking {second.ref.lower()}",
                           intent="cancel_appointment")
    events, _ = await run(ValidateCancelForm(service), tracker, domain)
    assert events == [SlotSet("target_booking", second.id), SlotSet("booking_ref", second.ref),
                      SlotSet("requested_slot", "cancel_confirmed")]


async def test_cancel_inside_cutoff_is_explained(service: BookingService, doctor: Doctor,
                                                patients: list[User], clock: Any,
                                                domain: dict[str, Any]) -> None:
    booking = await book(service, patients[0], doctor, TUE_0900)
    clock.advance(hours=24, minutes=30)  # Tuesday 07:30 WIB: 90 minutes before the visit
    events, messages = await run(ValidateCancelForm(service), make_tracker(
        text="batalkan booking saya", intent="cancel_appointment"), domain)
    assert events == [SlotSet("requested_slot", None)]
    assert messages == [{**messages[0], "response": "utter_cutoff", "ref": booking.ref,
                         "hours": 2}]


async def test_reschedule_moves_the_booking(service: BookingService, doctor: Doctor,
                                           patients: list[User], sync_store: MongoStore,
                                           domain: dict[str, Any]) -> None:
    old = await book(service, patients[0], doctor, TUE_0900)
    wed_1000 = TUE_0900 + timedelta(days=1, hours=1)
    tracker = make_tracker(text="mau pindah ke lusa jam 10", intent="reschedule_appointment")
    events, _ = await run(ValidateRescheduleForm(service), tracker, domain)
    assert events == [SlotSet("target_booking", old.id), SlotSet("booking_ref", old.ref),
                      SlotSet("doctor_id", doctor.id), SlotSet("time_pref", "10:00"),
                      SlotSet("appt_date", "2026-12-09"),
                      SlotSet("slot_start", wed_1000.isoformat()),
                      SlotSet("reschedule_confirmed", None),
                      SlotSet("requested_slot", "reschedule_confirmed")]
    confirm = make_tracker(text="oke", intent="affirm", requested="reschedule_confirmed", slots={
        "target_booking": old.id, "doctor_id": doctor.id, "appt_date": "2026-12-09",
        "slot_start": wed_1000.isoformat()})
    events, _ = await run(ValidateRescheduleForm(service), confirm, domain)
    moved = sync_store.get_booking(old.id)
    assert moved.status == BookingStatus.rescheduled and moved.rescheduled_to
    new = sync_store.get_booking(moved.rescheduled_to)
    assert new.start == wed_1000 and new.status == BookingStatus.confirmed
    assert events == [SlotSet("reschedule_confirmed", True), SlotSet("result_ref", new.ref),
                      SlotSet("requested_slot", None)]


async def test_no_bookings_ends_the_form(service: BookingService, patients: list[User],
                                        domain: dict[str, Any]) -> None:
    events, messages = await run(ValidateRescheduleForm(service), make_tracker(
        text="ganti jadwal", intent="reschedule_appointment"), domain)
    assert events == [SlotSet("requested_slot", None)]
    assert responses(messages) == ["utter_no_bookings"]


# ---- single-turn actions ----------------------------------------------------------------------
async def test_search_doctor_lists_with_next_free_slot(service: BookingService, doctor: Doctor,
                                                      domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="cari dokter umum di jakarta", intent="search_doctor",
                           slots={"specialty": "general", "city": "Jakarta", "language": "en"})
    events, messages = await run(ActionSearchDoctor(service), tracker, domain)
    assert events == [SlotSet("offered", {"items": [
        {"title": "dr. Test Satu", "value": "d:doc-test-1"}], "fresh": False})]
    assert responses(messages) == ["utter_doctor_list"]
    assert messages[0]["doctors"] == (
        "1. dr. Test Satu (General Practitioner), Klinik Uji, Jakarta, Rp150.000; "
        "next free: Monday, 7 December 2026, 09:00 WIB")
    assert messages[0]["buttons"] == [{"title": "dr. Test Satu",
                                       "payload": '/book_appointment{"choice":"d:doc-test-1"}'}]


async def test_check_availability_offers_earliest_slots(service: BookingService, doctor: Doctor,
                                                       domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="dr. Test besok ada jadwal?", intent="check_availability",
                           entities=[entity("doctor_name", "dr. Test")])
    events, messages = await run(ActionCheckAvailability(service), tracker, domain)
    assert responses(messages) == ["utter_availability"]
    assert messages[0]["what"] == "dr. Test Satu"
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Sel 8/12 09:00", "Sel 8/12 09:30", "Sel 8/12 10:00", "Sel 8/12 10:30",
                      "Sel 8/12 11:00", "Sel 8/12 11:30"]
    assert events[0]["value"]["items"][0]["value"] == slot_value(doctor, TUE_0900)


async def test_handoff_marks_the_conversation(service: BookingService, sync_store: MongoStore,
                                             domain: dict[str, Any]) -> None:
    events, messages = await run(ActionHandoff(service), make_tracker(
        text="mau bicara dengan admin", intent="human_handoff"), domain)
    assert events == [SlotSet("handoff", True)]
    assert responses(messages) == ["utter_handoff"]
    assert sync_store.kv_get("handoff:6281200000000")["open"] is True


async def test_fallback_twice_in_a_row_offers_a_human(service: BookingService,
                                                     domain: dict[str, Any]) -> None:
    def user(intent: str) -> dict[str, Any]:
        return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}

    once = make_tracker(intent="nlu_fallback", events=[user("greet"), user("nlu_fallback")])
    twice = make_tracker(intent="nlu_fallback", events=[user("nlu_fallback"),
                                                        {"event": "bot", "text": "?"},
                                                        user("nlu_fallback")])
    assert responses((await run(ActionHandleFallback(service), once, domain))[1]) == [
        "utter_fallback"]
    assert responses((await run(ActionHandleFallback(service), twice, domain))[1]) == [
        "utter_fallback_handoff"]


async def test_stop_form_releases_the_hold(service: BookingService, doctor: Doctor,
                                          patients: list[User], domain: dict[str, Any]) -> None:
    await service.hold(patients[0].id, doctor.id, TUE_0900)
    tracker = make_tracker(text="batal", intent="deny", slots={
        "doctor_id": doctor.id, "slot_start": TUE_0900.isoformat(), "city": "Jakarta"})
    events, _ = await run(ActionStopForm(service), tracker, domain)
    assert SlotSet("slot_start", None) in events and SlotSet("doctor_id", None) in events
    assert all(e["name"] != "city" for e in events)
    assert await service.coord.hold_owner(doctor.id, TUE_0900) is None


async def test_finish_booking_confirms_with_reference(service: BookingService, doctor: Doctor,
                                                     patients: list[User],
                                                     domain: dict[str, Any]) -> None:
    booking = await book(service, patients[0], doctor, TUE_0900)
    tracker = make_tracker(slots={"result_ref": booking.ref, "booking_confirmed": True,
                                  "language": "en"})
    events, messages = await run(ActionFinishBooking(service), tracker, domain)
    assert responses(messages) == ["utter_booked"]
    assert (messages[0]["ref"], messages[0]["date"], messages[0]["time"]) == (
        booking.ref, "Tuesday, 8 December 2026", "09:00 WIB")
    assert SlotSet("result_ref", None) in events


async def test_language_follows_the_patient(domain: dict[str, Any]) -> None:
    action = ValidateSlotMappings()
    english = make_tracker(text="I want to book a dentist tomorrow")
    events, _ = await run(action, english, domain)
    assert events == [SlotSet("language", "en")]
    keep = make_tracker(text="/inform{\"choice\":\"d:x\"}", slots={"language": "en"})
    assert (await run(action, keep, domain))[0] == []
    back = make_tracker(text="besok jam 10 aja kak", slots={"language": "en"})
    assert (await run(action, back, domain))[0] == [SlotSet("language", "id")]


async def test_actions_report_the_turn_to_the_gateway(service: BookingService, doctor: Doctor,
                                                      patients: list[User],
                                                      domain: dict[str, Any]) -> None:
    """What the gateway logs comes inside the reply (no tracker read): every message's
    understanding and language, a handoff, a fallback, the booking code a turn told."""
    english = make_tracker(text="I want to book a dentist tomorrow", intent="book_appointment",
                           entities=[entity("specialty", "dentist")])
    _, messages = await run(ValidateSlotMappings(), english, domain)
    assert responses(messages) == []
    assert turn_report(messages) == {
        "intent": "book_appointment", "confidence": 0.98, "language": "en",
        "entities": [{"entity": "specialty", "value": "dentist", "start": 0, "end": 7}]}
    _, handoff = await run(ActionHandoff(service), make_tracker(intent="human_handoff"), domain)
    assert turn_report(handoff) == {"handoff": True}
    _, fallback = await run(ActionHandleFallback(service), make_tracker(intent="nlu_fallback"),
                            domain)
    assert turn_report(fallback) == {"fallback": True}
    booked = await book(service, patients[0], doctor, TUE_0900)
    tracker = make_tracker(slots={"result_ref": booked.ref, "booking_confirmed": True})
    _, finished = await run(ActionFinishBooking(service), tracker, domain)
    assert turn_report(finished) == {"refs": [booked.ref]}
