"""Conversations through the gateway: choices resolve to payloads, reminder quick replies,
chat logs with exactly the agreed fields, and no phone numbers or names in app logs."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest

from app.keys import SERVICE
from booking.models import Role, User
from booking.service import Booked, BookingService
from notify.outbox import Kind, OutboxEntry
from notify.rules import booking_params
from tests.bot.conftest import BotApp, answers
from tests.conftest import make_doctor

WA = "6281234567890"
SPECIALTIES = [("Umum", '/inform{"specialty":"general"}'),
               ("Anak", '/inform{"specialty":"pediatrics"}'),
               ("Gigi", '/inform{"specialty":"dentistry"}')]
DOCTORS = [(f"dr. Dokter Spesialis Nomor {i}", f'/inform{{"doctor_id":"d{i}"}}')
           for i in range(1, 6)]


def clinic_bot(sender: str, message: str) -> list[dict[str, Any]]:
    if message == "mau booking":
        return [{"text": "Spesialis apa?",
                 "buttons": [{"title": t, "payload": p} for t, p in SPECIALTIES]}]
    if message.startswith('/inform{"specialty"'):
        return [{"text": "Pilih dokter:",
                 "buttons": [{"title": t, "payload": p} for t, p in DOCTORS]}]
    return [{"text": f"echo: {message}"}]


async def test_taps_and_typed_numbers_resolve_to_payloads(bot_app: BotApp) -> None:
    bot_app.rasa.replier = clinic_bot
    box = bot_app.sandbox
    await box.inject(WA, text="mau booking")
    await bot_app.settle()
    first = answers(box.sent)[-1]
    assert first["op"] == "buttons" and first["buttons"] == ["Umum", "Anak", "Gigi"]
    await box.inject(WA, kind="button", title="Anak")
    await bot_app.settle()
    assert box.sent[-1]["op"] == "list"
    shown = [r["title"] for r in box.sent[-1]["rows"]]
    assert all(len(t) <= 24 for t in shown)
    await box.inject(WA, kind="list", title=shown[3])      # tap a (truncated) row
    await bot_app.settle()
    await box.inject(WA, kind="button", title="Anak")     # re-show the doctors
    await bot_app.settle()
    await box.inject(WA, text="2")                         # type a number
    await bot_app.settle()
    await box.inject(WA, text="besok pagi saja")           # free text stays text
    await bot_app.settle()
    assert bot_app.rasa.messages_of(WA) == [
        "mau booking", SPECIALTIES[1][1], DOCTORS[3][1], SPECIALTIES[1][1], DOCTORS[1][1],
        "besok pagi saja"]
    meta = bot_app.rasa.calls[0][2]
    assert meta["senderName"] == "Pasien" and meta["messageId"].startswith("wamid.")


async def book(app: BotApp) -> tuple[Booked, BookingService]:
    service: BookingService = app.client.server.app[SERVICE]
    doctor = make_doctor(horizon_days=60)
    app.store.upsert_doctor(doctor)
    patient = User(id="pat-wa", name="Budi Santoso", whatsapp=WA, role=Role.patient)
    app.store.insert_user(patient)
    slot = (await service.earliest([doctor], after=service.clock() + timedelta(days=2)))[0][1]
    result = await service.book(patient.id, doctor.id, slot.start)
    assert isinstance(result, Booked)
    reminder = OutboxEntry(kind=Kind.appointment_reminder,
                           dedupe_key=f"appointment_reminder:{result.booking.id}:24h",
                           booking_id=result.booking.id, to=WA, template="appointment_reminder",
                           params=booking_params(result.booking, doctor, patient, "id"),
                           text="Pengingat")
    app.store.enqueue([reminder.to_doc()])
    assert await app.rt.dispatcher.run_once() >= 1
    # The confirmation and the reminder go out concurrently: pick the reminder by name.
    reminders = [s for s in app.sandbox.sent_to(WA, "template")
                 if s["template"] == "appointment_reminder"]
    assert [s["quick_replies"] for s in reminders] == [["Hadir", "Ubah jadwal", "Batal"]]
    return result, service


async def test_reminder_hadir_confirms_attendance(bot_app: BotApp) -> None:
    booked, _ = await book(bot_app)
    await bot_app.sandbox.inject(WA, kind="quick", title="Hadir")
    await bot_app.settle()
    stored = bot_app.store.get_booking(booked.booking.id)
    assert stored.patient_confirmed_at is not None
    assert answers(bot_app.sandbox.sent_to(WA, "text"))[-1]["text"].startswith(
        f"Terima kasih! Kehadiran Anda untuk booking {booked.booking.ref}")
    assert bot_app.rasa.calls == []


@pytest.mark.parametrize("title,intent", [("Ubah jadwal", "reschedule_appointment"),
                                          ("Batal", "cancel_appointment"),
                                          ("Cancel", "cancel_appointment")])
async def test_reminder_change_and_cancel_go_to_rasa_with_the_booking(
        bot_app: BotApp, title: str, intent: str) -> None:
    booked, _ = await book(bot_app)
    await bot_app.sandbox.inject(WA, kind="quick", title=title)
    await bot_app.settle()
    ref = json.dumps({"booking_ref": booked.booking.ref}, separators=(",", ":"))
    assert bot_app.rasa.messages_of(WA) == [f"/{intent}{ref}"]


async def test_chat_logs_have_exactly_the_agreed_fields(bot_app: BotApp,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    caplog.set_level(logging.DEBUG)
    await bot_app.sandbox.inject(WA, text="halo dok", name="Budi Santoso")
    await bot_app.sandbox.inject(WA, text="??? blah", name="Budi Santoso")
    await bot_app.settle()
    logs = list(bot_app.store.chat_logs.find().sort("at", 1))
    fields = {"_id", "wa_id", "direction", "text", "type", "intent", "confidence", "entities",
              "message_id", "at", "latency_ms", "fallback", "handoff", "language"}
    assert all(set(d) == fields for d in logs if d["direction"] == "in")
    assert all(set(d) == fields | {"refs"} for d in logs if d["direction"] == "out")
    inbound = [d for d in logs if d["direction"] == "in"]
    outbound = [d for d in logs if d["direction"] == "out"]
    assert [d["text"] for d in inbound] == ["halo dok", "??? blah"]
    assert [(d["intent"], d["fallback"]) for d in inbound] == [("greet", False),
                                                                ("nlu_fallback", True)]
    assert inbound[0]["confidence"] == pytest.approx(0.91)
    assert inbound[0]["message_id"].startswith("wamid.") and inbound[0]["language"] == "id"
    assert all(d["latency_ms"] is not None and d["latency_ms"] > 0 for d in outbound)
    assert all(d["message_id"] for d in outbound)
    assert all(d["at"].tzinfo is not None for d in logs)
    for record in caplog.records:
        text = record.getMessage()
        assert WA not in text and "Budi" not in text, text
