"""Issue 13 in the actions: details of the first message carried to the booking, one option +
"ya", corrections, natural confirmations, a city without the specialty. Fixtures as in
test_actions.py (Monday 7 December 2026 07:00 WIB; a Jakarta GP Mon-Fri 09-12 and 13-16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions import scheduling as sch
from actions.asking import ActionAskBookingConfirmed, ActionAskDoctorId
from actions.base import Message
from actions.flows import (
    ActionAnswerFaq,
    ActionHandleFallback,
    ActionListAppointments,
    ActionOutOfScope,
    ActionSearchDoctor,
)
from actions.forms import ValidateBookingForm, ValidateCancelForm, answers_question
from booking.models import BookingStatus, Doctor, User
from booking.service import Booked, BookingService
from booking.store import MongoStore
from tests.conftest import make_doctor
from tests.rasa.conftest import entity, make_tracker

WED_1500 = datetime(2026, 12, 9, 8, 0, tzinfo=UTC)  # 15:00 WIB


async def run(action: Any, tracker: Any, domain: dict[str, Any]
              ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}, \
        dispatcher.messages


async def test_search_remembers_day_and_part_of_day(service: BookingService, doctor: Doctor,
                                                   domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="cari dokter umum di jakarta tgl 9/12 sore",
                           intent="search_doctor",
                           slots={"specialty": "general", "city": "Jakarta"})
    slots, messages = await run(ActionSearchDoctor(service), tracker, domain)
    assert slots["date_pref"] == "2026-12-09+1" and slots["time_pref"] == "15:00-18:00"
    assert "15:00" in messages[0]["doctors"]  # the next free time shown is from what was asked


async def test_doctor_choice_keeps_the_day_and_part_of_day(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    choice = f"d:{doctor.id}"
    tracker = make_tracker(text=f'/book_appointment{{"choice":"{choice}"}}',
                           intent="book_appointment", entities=[entity("choice", choice)],
                           slots={"specialty": "general", "city": "Jakarta",
                                  "date_pref": "2026-12-09+1", "time_pref": "15:00-18:00"})
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert slots["doctor_id"] == doctor.id and slots["appt_date"] == "2026-12-09"
    assert slots["requested_slot"] == "slot_start"


async def test_exact_time_from_the_first_message_is_held(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="ya", intent="affirm",
                           slots={"specialty": "general", "city": "Jakarta",
                                  "date_pref": "2026-12-09+1", "time_pref": "15:00",
                                  "offered": {"items": [{"title": "dr. Test",
                                                         "value": f"d:{doctor.id}"}],
                                              "fresh": False}})
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)  # one option + ya
    assert slots["doctor_id"] == doctor.id
    assert slots["slot_start"] == WED_1500.isoformat()
    assert slots["requested_slot"] == "booking_confirmed"


async def test_week_pref_offers_its_first_free_day(service: BookingService, doctor: Doctor,
                                                  patients: list[User],
                                                  domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="mau booking dokter umum di jakarta minggu depan",
                           intent="book_appointment",
                           entities=[entity("specialty", "general"), entity("city", "Jakarta")])
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert slots["appt_date"] == "2026-12-14"  # Monday of next week


async def test_correction_changes_only_the_day(service: BookingService, doctor: Doctor,
                                              patients: list[User],
                                              domain: dict[str, Any]) -> None:
    await service.hold(patients[0].id, doctor.id, WED_1500)
    tracker = make_tracker(text="eh salah, maksudnya hari Kamis", intent="inform",
                           requested="booking_confirmed", slots={
                               "patient_name": "Pasien 0", "doctor_id": doctor.id,
                               "appt_date": "2026-12-09", "time_pref": "15:00",
                               "slot_start": WED_1500.isoformat()})
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)
    thu_1500 = WED_1500 + timedelta(days=1)
    assert slots["appt_date"] == "2026-12-10" and slots["slot_start"] == thu_1500.isoformat()
    assert slots["requested_slot"] == "booking_confirmed"


async def test_another_doctor_keeps_the_day(service: BookingService, doctor: Doctor,
                                           patients: list[User],
                                           domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="ganti dokter lain aja", intent="inform",
                           requested="appt_date", slots={
                               "patient_name": "Pasien 0", "doctor_id": doctor.id,
                               "specialty": "general", "appt_date": "2026-12-09"})
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert slots["doctor_id"] is None and slots["date_pref"] == "2026-12-09+1"
    assert slots["requested_slot"] == "doctor_id"


async def test_natural_yes_books_and_unclear_answers_get_a_way_out(
        service: BookingService, doctor: Doctor, patients: list[User], sync_store: MongoStore,
        domain: dict[str, Any]) -> None:
    await service.hold(patients[0].id, doctor.id, WED_1500)
    held = {"patient_name": "Pasien 0", "doctor_id": doctor.id, "appt_date": "2026-12-09",
            "slot_start": WED_1500.isoformat()}
    slots, _ = await run(ValidateBookingForm(service), make_tracker(
        text="hmm", intent="nlu_fallback", requested="booking_confirmed",
        slots={**held, "confirm_tries": 1}), domain)
    assert slots == {"confirm_tries": 2, "requested_slot": "booking_confirmed"}
    _, messages = await run(ActionAskBookingConfirmed(service), make_tracker(
        slots={**held, "confirm_tries": 2}), domain)
    assert [m["response"] for m in messages] == ["utter_confirm_unclear"]
    slots, _ = await run(ValidateBookingForm(service), make_tracker(
        text="oke booking", intent="book_appointment", requested="booking_confirmed",
        slots={**held, "confirm_tries": 2}), domain)
    assert slots["booking_confirmed"] is True
    bookings, _ = sync_store.find_bookings(patient_id=patients[0].id)
    assert [b.start for b in bookings] == [WED_1500]


async def test_iya_batalkan_cancels(service: BookingService, doctor: Doctor,
                                    patients: list[User], sync_store: MongoStore,
                                    domain: dict[str, Any]) -> None:
    made = await service.book(patients[0].id, doctor.id, WED_1500)
    assert isinstance(made, Booked)
    slots, _ = await run(ValidateCancelForm(service), make_tracker(
        text="iya batalkan", intent="cancel_appointment", requested="cancel_confirmed",
        slots={"target_booking": made.booking.id}), domain)
    assert slots["cancel_confirmed"] is True
    assert sync_store.get_booking(made.booking.id).status == BookingStatus.cancelled


async def test_city_without_the_specialty_keeps_it_and_offers_cities(
        service: BookingService, doctor: Doctor, sync_store: MongoStore,
        domain: dict[str, Any]) -> None:
    sync_store.upsert_doctor(make_doctor(id="doc-eye-bdg", name="dr. Mata Bandung",
                                         specialty="ophthalmology", city="Bandung"))
    sync_store.upsert_doctor(make_doctor(id="doc-eye-mks", name="dr. Mata Makassar",
                                         specialty="ophthalmology", city="Makassar",
                                         timezone="Asia/Makassar"))
    slots, messages = await run(ActionAskDoctorId(service), make_tracker(
        slots={"specialty": "ophthalmology", "city": "Palembang"},
        requested="doctor_id"), domain)
    assert slots == {"city": None, "doctor_name": None, "offered": None}  # specialty kept
    assert messages[0]["response"] == "utter_no_clinic_in_city"
    assert [b["title"] for b in messages[0]["buttons"]] == ["Bandung", "Makassar"]
    assert messages[0]["buttons"][0]["payload"] == '/inform{"city":"Bandung"}'


async def test_a_time_at_the_time_question_is_an_answer_whatever_the_intent(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="sorry, can we do the afternoon instead?",
                           intent="list_appointments", requested="slot_start",
                           slots={"patient_name": "Pasien 0", "doctor_id": doctor.id,
                                  "appt_date": "2026-12-09"})
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert slots["time_pref"] == "12:00-17:00" and slots["requested_slot"] == "slot_start"


# ---- a message read as another intent that answers the form's question ---------------------
async def test_time_change_read_as_reschedule_is_an_answer_in_the_booking_form(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    # "sorry, can we do the afternoon instead?" at the time question, NLU: reschedule
    tracker = make_tracker(text="sorry, can we do the afternoon instead?",
                           intent="reschedule_appointment", requested="slot_start",
                           active_loop="booking_form",
                           slots={"doctor_id": doctor.id, "appt_date": "2026-12-09",
                                  "patient_name": "Pasien 0"})
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert slots["time_pref"] == "12:00-17:00"
    assert slots["requested_slot"] == "slot_start"


async def test_list_and_fallback_stay_silent_when_the_message_answers_the_form(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    for action, intent in ((ActionListAppointments(service), "list_appointments"),
                           (ActionHandleFallback(service), "nlu_fallback"),
                           (ActionOutOfScope(service), "out_of_scope")):
        tracker = make_tracker(text="can we do the afternoon instead?", intent=intent,
                               requested="slot_start", active_loop="booking_form",
                               slots={"doctor_id": doctor.id, "appt_date": "2026-12-09"})
        slots, messages = await run(action, tracker, domain)
        assert messages == [] and slots == {}, action.name()
        # ... and answer as before when it does not
        tracker = make_tracker(text="jadwal saya besok apa aja", intent=intent,
                               requested="slot_start", active_loop="booking_form")
        _, messages = await run(action, tracker, domain)
        assert messages, action.name()


def test_answers_question_rules() -> None:
    def msg(text: str, intent: str = "list_appointments", ref: str | None = None) -> Message:
        return Message(text=text, intent=intent,
                       entities=[entity("booking_ref", ref)] if ref else [])
    assert answers_question(msg("bisa sore aja?"), "slot_start")
    assert answers_question(msg("how about friday", "reschedule_appointment"), "appt_date")
    assert answers_question(msg("besok pagi", "out_of_scope"), "doctor_id")
    assert not answers_question(msg("booking saya besok apa aja"), "slot_start")
    assert not answers_question(msg("my appointments next week"), "appt_date")
    assert not answers_question(msg("pindah K7M-4QX ke jumat", ref="K7M-4QX"), "slot_start")
    assert not answers_question(msg("bisa sore aja?"), "booking_confirmed")
    assert not answers_question(msg("bisa sore aja?"), None)
    assert not answers_question(msg("jam buka klinik?", "faq"), "slot_start")
    assert not answers_question(msg("thanks"), "slot_start")


async def test_refinement_after_an_offer_keeps_the_day(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    # search for 9 Dec (Wednesday) shown; "actually make it the afternoon" (fallback)
    events = [{"event": "user", "text": "book a GP in Jakarta on 9 Dec",
               "parse_data": {"intent": {"name": "search_doctor"}}},
              {"event": "action", "name": "action_search_doctor"},
              {"event": "action", "name": "action_listen"},
              {"event": "user", "text": "actually make it the afternoon",
               "parse_data": {"intent": {"name": "nlu_fallback"}}}]
    tracker = make_tracker(text="actually make it the afternoon", intent="nlu_fallback",
                           events=events,
                           slots={"specialty": "general", "city": "Jakarta",
                                  "date_pref": "2026-12-09+1", "time_pref": None})
    slots, messages = await run(ActionHandleFallback(service), tracker, domain)
    assert messages[0]["response"] == "utter_availability"
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles and all("9" in t and any(h in t for h in ("13:", "14:", "15:", "16:"))
                          for t in titles), titles
    assert slots["time_pref"] == "12:00-17:00"


async def test_a_code_of_my_booking_in_a_booking_message_asks_move_or_cancel(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    booked = await service.book(patients[0].id, doctor.id, WED_1500)
    assert isinstance(booked, Booked)
    ref = booked.booking.ref
    tracker = make_tracker(text=f"ganti jadwal booking {ref} ke 11/12 jam 3 sore",
                           intent="book_appointment", entities=[entity("booking_ref", ref)],
                           active_loop="booking_form")
    slots, messages = await run(ValidateBookingForm(service), tracker, domain)
    assert messages[0]["response"] == "utter_ask_move_or_cancel"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [f'/reschedule_appointment{{"booking_ref": "{ref}"}}',
                        f'/cancel_appointment{{"booking_ref": "{ref}"}}']
    assert slots["requested_slot"] is None and "doctor_id" not in slots
    # someone else's code is not mine: the booking goes on
    tracker = make_tracker(text=f"booking dokter umum {ref}", intent="book_appointment",
                           entities=[entity("booking_ref", ref)], sender="6281200000002",
                           active_loop="booking_form")
    _, messages = await run(ValidateBookingForm(service), tracker, domain)
    assert all(m.get("response") != "utter_ask_move_or_cancel" for m in messages)


# ---- which doctor or booking the message means --------------------------------------------
def test_first_entity_value_that_resolves_wins() -> None:
    # DIET tags "Dec" as a second city after the real (misspelt) one
    msg = Message(text="dermatologists in surabya?? need one 16 Dec", intent="search_doctor",
                  entities=[entity("specialty", "dermatology"), entity("city", "Dec"),
                            entity("city", "surabya")])
    assert sch.said_specialty(msg) == "dermatology"
    assert sch.said_city(msg) == "Surabaya"
    typo = Message(text="i wanna book a pediatrition in surabaya", intent="book_appointment",
                   entities=[entity("specialty", "pediatrition")])
    assert sch.said_specialty(typo) == "pediatrics"  # two edits in a long word


async def test_doctor_named_in_text_when_diet_splits_the_name(
        service: BookingService, doctor: Doctor, domain: dict[str, Any]) -> None:
    msg = Message(text="mau booking dr. Test Satu besok jam 10", intent="inform",
                  entities=[entity("doctor_name", "dr")])
    assert await sch.said_doctor(service, msg) == "dr. Test Satu"
    assert await sch.said_doctor(service, Message(
        text="mau ke dokter gigi besok", intent="inform", entities=[])) is None


async def test_cancel_picks_the_booking_by_its_doctors_specialty(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User], domain: dict[str, Any]) -> None:
    dentist = make_doctor(id="doc-test-2", name="drg. Gigi Dua", specialty="dentistry")
    sync_store.upsert_doctor(dentist)
    first = await service.book(patients[0].id, doctor.id, WED_1500)
    second = await service.book(patients[0].id, dentist.id, WED_1500 + timedelta(days=1))
    assert isinstance(first, Booked) and isinstance(second, Booked)
    tracker = make_tracker(text="sy ga bisa dateng yg ke dokter gigi, batalin ya",
                           intent="cancel_appointment",
                           entities=[entity("specialty", "dentistry")])
    slots, _ = await run(ValidateCancelForm(service), tracker, domain)
    assert slots["target_booking"] == second.booking.id


async def test_one_doctor_offered_and_a_part_of_day_takes_that_doctor(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="sore aja kak", intent="inform",
                           slots={"specialty": "general", "city": "Jakarta",
                                  "date_pref": "2026-12-09+1",
                                  "offered": {"items": [{"title": "dr. Test",
                                                         "value": f"d:{doctor.id}"}],
                                              "fresh": False}})
    slots, _ = await run(ValidateBookingForm(service), tracker, domain)
    assert slots["doctor_id"] == doctor.id and slots["appt_date"] == "2026-12-09"
    assert slots["time_pref"] == "15:00-18:00"


async def test_a_doctors_schedule_asked_as_list_shows_availability(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="cek jadwal dokter umum jakarta", intent="list_appointments",
                           entities=[entity("specialty", "general"), entity("city", "Jakarta")])
    _, messages = await run(ActionListAppointments(service), tracker, domain)
    assert messages[0]["response"] == "utter_availability" and messages[0]["buttons"]


async def test_correction_read_as_faq_inside_the_form_is_not_answered_as_faq(
        service: BookingService, doctor: Doctor, patients: list[User],
        domain: dict[str, Any]) -> None:
    latest_faq = {"response_selector": {"faq": {"response": {
        "intent_response_key": "faq/opening_hours"}}}}
    tracker = make_tracker(text="jam lain dong", intent="faq", requested="booking_confirmed",
                           active_loop="booking_form")
    tracker.latest_message.update(latest_faq)
    _, messages = await run(ActionAnswerFaq(service), tracker, domain)
    assert messages == []
    tracker = make_tracker(text="klinik buka jam berapa?", intent="faq",
                           requested="booking_confirmed", active_loop="booking_form")
    tracker.latest_message.update(latest_faq)
    _, messages = await run(ActionAnswerFaq(service), tracker, domain)
    assert [m["response"] for m in messages] == ["utter_faq/opening_hours"]
