"""The raw-document scan: after a WhatsApp booking conversation and a web registration,
no stored document (read from the database as it is, without the store's decryption)
holds a phone number, a name, an e-mail address or a message text in plain."""

from __future__ import annotations

from datetime import timedelta

from app.keys import SERVICE
from booking.models import Role
from booking.service import Actor, Booked, BookingService
from tests.api.conftest import Api
from tests.bot.conftest import BotApp
from tests.conftest import make_doctor
from tests.data_protection.conftest import leaks, phone_forms, raw_dump
from tests.data_protection.test_rights import counts

WA = "6281298765432"
NAME = "Wulan Kusumawardani"
TEXTS = ["halo dok, saya mau booking dokter umum", "besok pagi jam 9 bisa?",
         "catatan: saya alergi amoksisilin"]


async def whatsapp_conversation(bot_app: BotApp) -> tuple[Booked, list[str]]:
    """A WhatsApp booking conversation, booked and cancelled; the secrets it stored."""
    service: BookingService = bot_app.client.server.app[SERVICE]
    doctor = make_doctor(horizon_days=60)
    bot_app.store.upsert_doctor(doctor)
    for text in TEXTS[:2]:
        await bot_app.sandbox.inject(WA, text=text, name=NAME)
        await bot_app.settle()
    # what the booking actions do for this sender: register them, book, confirm
    patient = await service.store.users.upsert_whatsapp_patient(WA, NAME, "id")
    slot = (await service.earliest([doctor], after=service.clock() + timedelta(days=2)))[0][1]
    result = await service.book(patient.id, doctor.id, slot.start)
    assert isinstance(result, Booked)
    assert await bot_app.rt.dispatcher.run_once() >= 1  # the confirmation goes out
    await bot_app.sandbox.inject(WA, text=TEXTS[2], name=NAME)
    await bot_app.settle()
    await service.cancel(result.booking.id, actor=Actor(patient.id, Role.patient),
                         reason="anak saya demam tinggi")
    await bot_app.rt.dispatcher.run_once()
    secrets = [*phone_forms(WA), NAME, "Wulan", "Kusumawardani", *TEXTS, "amoksisilin",
               "demam tinggi", *(m["text"] for m in bot_app.sandbox.sent_to(WA, "text")
                                 if len(m.get("text") or "") > 12)]
    return result, secrets


async def test_whatsapp_booking_conversation_leaves_no_plain_text(bot_app: BotApp) -> None:
    result, secrets = await whatsapp_conversation(bot_app)
    # the conversation really was stored (so the scan below scans something)
    dump = raw_dump(bot_app.store)
    assert dump.count("chat_logs:") >= 6 and "outbox:" in dump and "inbox:" in dump
    assert "wa_contacts:" in dump and "users:" in dump and "bookings:" in dump
    assert leaks(bot_app.store, secrets) == []
    assert leaks(bot_app.store, ["dr. Test Satu"]) != []  # the scan sees what is plain
    # and the app still reads all of it back
    logs = list(bot_app.store.chat_logs.find({"wa_id": WA, "direction": "in"}))
    assert [d["text"] for d in logs] == TEXTS
    assert bot_app.store.get_booking(result.booking.id).cancel_reason == \
        "anak saya demam tinggi"


async def test_whatsapp_erasure_leaves_nothing_readable_and_keeps_the_counts(
        bot_app: BotApp) -> None:
    """After the same conversation, "hapus data saya" + "Ya, hapus" on WhatsApp: nothing of
    the patient is left even to the app's own decryption; the analytics counts stay."""
    result, secrets = await whatsapp_conversation(bot_app)
    before = counts(bot_app.store)
    await bot_app.sandbox.inject(WA, text="hapus data saya", name=NAME)
    await bot_app.settle()
    await bot_app.sandbox.inject(WA, kind="button", title="Ya, hapus", name=NAME)
    await bot_app.settle()
    assert bot_app.sandbox.sent_to(WA, "text")[-1]["text"].startswith(
        "Data pribadi Anda sudah dihapus")
    assert leaks(bot_app.store, [*secrets, "hapus data saya"]) == []
    feeder = bot_app.rt.gateway.nlu_inbox  # nor what the NLU inbox held of the last turns
    assert feeder is not None and WA not in feeder.recent
    # decrypted too: the store itself finds nothing of the patient any more
    assert bot_app.store.chat_logs.count_documents({"wa_id": WA}) == 0
    assert bot_app.store.find_user(whatsapp=WA) is None
    stored = bot_app.store.get_booking(result.booking.id)
    assert stored.cancel_reason is None and stored.patient_id == result.booking.patient_id
    assert bot_app.store.get_user(stored.patient_id).name == ""
    assert counts(bot_app.store) == before


async def test_web_registration_leaves_no_plain_text(api: Api) -> None:
    body = {"name": "Sari Rahmawati", "email": "sari.rahma@example.id",
            "whatsapp": "0812-7777-8888", "password": "panjang-sekali-99"}
    resp = await api.client.post("/auth/register", json=body)
    assert resp.status == 202, await resp.text()
    stored = api.store.find_user(email="sari.rahma@example.id")
    assert stored is not None and stored.whatsapp_pending == "6281277778888"
    seeded = [api.seed.patient.name, api.seed.patient.email or "", "6281200000101"]
    assert leaks(api.store, [*phone_forms("6281277778888"), "Sari Rahmawati", "Rahmawati",
                             "sari.rahma@example.id", *seeded]) == []
