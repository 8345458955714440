"""The patient's rights over WhatsApp, handled by the gateway before Rasa: "hapus data saya"
asks first and then erases through the shared operation (the doctor is told of cancelled
visits), "data saya" answers with a summary and e-mails a download link, and a number's
first message gets the privacy notice once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from app.keys import SERVICE
from app.main import create_app
from booking.models import User
from booking.service import Booked, BookingService
from booking.store import MongoStore
from sandbox import WatiSandbox
from tests.bot.conftest import BotApp, FakeRasa, Smtp, answers, bot_settings, is_notice
from tests.conftest import make_doctor
from tests.data_protection.conftest import leaks, phone_forms
from tests.data_protection.test_rights import counts

WA = "6281277712345"
NAME = "Dewi Anggraini"
TEXTS = ["halo, saya mau cek jadwal dokter umum", "saya ada riwayat hipertensi"]
DOCTOR_WA = "6281100000999"


@pytest.fixture
async def rights_app(aiohttp_client: Any, sandbox: WatiSandbox, fake_rasa: FakeRasa,
                     sync_store: MongoStore, redis_ns: str, smtp: Smtp
                     ) -> AsyncIterator[BotApp]:
    """The bot and the API in one app: the e-mailed link is served by the API role."""
    settings = bot_settings(sandbox=sandbox, rasa_url=fake_rasa.url, namespace=redis_ns,
                            smtp_port=smtp.port, roles="api,bot")
    client = await aiohttp_client(create_app(settings, store=sync_store))
    app = BotApp(client, sandbox, fake_rasa, sync_store)
    sandbox.webhook_url = app.hook_url()
    yield app


async def say(app: BotApp, text: str | None = None, *, kind: str = "text",
              title: str | None = None, wa: str = WA) -> list[dict[str, Any]]:
    """Send one message; the replies it got."""
    before = len(app.sandbox.sent_to(wa))
    await app.sandbox.inject(wa, text=text, name=NAME, kind=kind, title=title)
    await app.settle()
    return app.sandbox.sent_to(wa)[before:]


async def booked_patient(app: BotApp) -> tuple[User, Booked]:
    """A patient who chatted and booked on WhatsApp (as the booking actions do it)."""
    service: BookingService = app.client.server.app[SERVICE]
    doctor = make_doctor(horizon_days=60, whatsapp=DOCTOR_WA)
    app.store.upsert_doctor(doctor)
    for text in TEXTS:
        await say(app, text)
    patient = await service.store.users.upsert_whatsapp_patient(WA, NAME, "id")
    slot = (await service.earliest([doctor], after=service.clock() + timedelta(days=2)))[0][1]
    result = await service.book(patient.id, doctor.id, slot.start)
    assert isinstance(result, Booked)
    await app.rt.dispatcher.run_once()  # the confirmation goes out
    return patient, result


async def test_erasure_over_whatsapp_asks_first_then_erases_everything(bot_app: BotApp
                                                                       ) -> None:
    patient, booked = await booked_patient(bot_app)
    before = counts(bot_app.store)
    asked = await say(bot_app, "tolong hapus semua data sy")
    assert [m["op"] for m in asked] == ["buttons"]
    assert asked[0]["buttons"] == ["Ya, hapus", "Batal"]
    assert "booking" in asked[0]["text"] and "dokter diberi tahu" in asked[0]["text"]
    assert bot_app.store.get_user(patient.id).name == NAME  # nothing erased yet
    done = await say(bot_app, kind="button", title="Ya, hapus")
    assert [m["text"] for m in done] == [
        "Data pribadi Anda sudah dihapus dan 1 booking yang akan datang dibatalkan. "
        "Terima kasih telah menggunakan layanan kami 🙏"]
    # Rasa never saw the request nor the answer
    assert bot_app.rasa.messages_of(WA) == TEXTS
    # and what its tracker store held of the earlier conversation is emptied
    assert bot_app.rasa.forgotten == [(WA, [])]

    # nothing personal is left, raw documents included: not even this conversation's lines
    sent_texts = [m.get("text") or "" for m in bot_app.sandbox.sent_to(WA)]
    assert leaks(bot_app.store, [*phone_forms(WA), NAME, "Dewi", "Anggraini", *TEXTS,
                                 "hipertensi", "hapus semua data",
                                 *(t for t in sent_texts if len(t) > 30)]) == []
    assert bot_app.store.chat_logs.count_documents({"wa_id": WA}) == 0
    assert bot_app.store.db["wa_contacts"].count_documents({"_id": WA}) == 0
    # what may follow: Wati's delivery receipts of the closing reply (no text; the number
    # only as its blind index; they expire with the processed inbox entries)
    late = list(bot_app.store.db["inbox"].find({"wa_id": WA}))
    assert {d["action"] for d in late} <= {"status"}, [d["action"] for d in late]
    assert bot_app.store.find_user(whatsapp=WA) is None
    # the clinic's record stays, pseudonymous and cancelled; analytics counts unchanged
    kept = bot_app.store.get_booking(booked.booking.id)
    assert kept.status.value == "cancelled" and kept.patient_id == patient.id
    assert counts(bot_app.store) == before
    # the doctor is told, without the patient's name
    [told] = [d for d in bot_app.store.outbox.find({"kind": "doctor_booking_cancelled"})]
    assert told["to"] == DOCTOR_WA and told["status"] == "pending"
    assert told["params"]["patient"] == "Pasien" and "Dewi" not in told["text"]
    # audited as the patient's own request over WhatsApp, ids and counts only
    [entry] = list(bot_app.store.raw_db["audit_log"].find({"action": "erase"}))
    assert (entry["actor_id"], entry["actor_role"], entry["channel"], entry["subject_id"]) == \
        (patient.id, "patient", "whatsapp", patient.id)
    assert entry["detail"]["cancelled_bookings"] == 1 and entry["detail"]["chat_logs"] >= 6


async def test_a_number_without_an_account_is_erased_too(bot_app: BotApp) -> None:
    await say(bot_app, "halo saya sakit gigi dari kemarin")
    # an earlier conversation handed to staff (closed): its transcript is the number's too
    bot_app.store.db["handoffs"].insert_one({
        "_id": "h1", "wa_id": WA, "status": "closed", "name": NAME, "note": "gigi bungsu",
        "last_messages": [{"direction": "in", "text": "gigi bungsu saya bengkak"}]})
    raw = bot_app.store.raw_db["handoffs"].find_one({"_id": "h1"})
    assert raw is not None and raw["last_messages"] and raw["name"]  # (sealed) until erased
    await say(bot_app, "delete my data please")
    done = await say(bot_app, "yes")
    assert done[0]["text"].startswith("Your personal data has been erased.")
    assert leaks(bot_app.store, [*phone_forms(WA), NAME, "sakit gigi"]) == []
    handoff = bot_app.store.raw_db["handoffs"].find_one({"_id": "h1"})
    assert handoff is not None and handoff["status"] == "closed"  # staff metrics keep it
    assert not {"last_messages", "name", "note"} & set(handoff)
    [entry] = list(bot_app.store.raw_db["audit_log"].find())
    assert entry["subject_id"].startswith("wa:bi1:") and entry["channel"] == "whatsapp"
    assert WA not in str(entry)
    # a new message afterwards is a first contact again: the notice is shown again
    again = await say(bot_app, "halo lagi")
    assert [m["text"] for m in answers(again)] == ["echo: halo lagi"]
    assert sum(map(is_notice, again)) == 1


async def test_saying_no_keeps_the_data(bot_app: BotApp) -> None:
    await say(bot_app, "halo")
    asked = await say(bot_app, "please erase my account and data")
    assert asked[0]["buttons"] == ["Yes, erase", "Cancel"]
    kept = await say(bot_app, kind="button", title="Cancel")
    assert [m["text"] for m in kept] == ["OK, nothing was erased. Your data stays as it was."]
    assert bot_app.rasa.messages_of(WA) == ["halo"]  # "Cancel" did not reach the bot
    # 3 lines a turn (+ the first turn's notice): this turn was logged as usual
    assert bot_app.store.chat_logs.count_documents({"wa_id": WA}) == 7
    # anything else: not erased, and the message goes on to the bot as usual
    await say(bot_app, "hapus akun saya")
    other = await say(bot_app, "mau booking dokter anak")
    assert [m["text"] for m in other] == ["Baik, tidak jadi. Data Anda tidak dihapus.",
                                          "echo: mau booking dokter anak"]
    assert bot_app.rasa.messages_of(WA) == ["halo", "mau booking dokter anak"]
    assert bot_app.store.db["wa_contacts"].count_documents({"_id": WA}) == 1
    assert not list(bot_app.store.raw_db["audit_log"].find())


async def test_a_yes_after_the_question_expired_erases_nothing(bot_app: BotApp) -> None:
    from redis.asyncio import Redis

    from bot.privacy import ERASE_PENDING_PREFIX
    from tests.conftest import REDIS_TEST_URL

    await say(bot_app, "halo")
    await say(bot_app, "hapus data saya")
    redis = Redis.from_url(REDIS_TEST_URL)
    ns = bot_app.rt.inbox.ns
    assert await redis.delete(ns + ERASE_PENDING_PREFIX + WA) == 1  # 10 minutes later
    await redis.aclose()
    late = await say(bot_app, kind="button", title="Ya, hapus")
    assert late[0]["text"].startswith("Pertanyaan penghapusan data sudah kedaluwarsa")
    assert bot_app.rasa.messages_of(WA) == ["halo"]
    assert bot_app.store.db["wa_contacts"].count_documents({"_id": WA}) == 1
    # and a plain "Batal" with no question pending is booking talk: it goes to the bot
    await say(bot_app, "Batal")
    assert bot_app.rasa.messages_of(WA) == ["halo", "Batal"]


async def test_data_saya_answers_with_a_summary_and_emails_a_link(rights_app: BotApp,
                                                                  smtp: Smtp) -> None:
    patient, booked = await booked_patient(rights_app)
    rights_app.store.users.update_one({"_id": patient.id},
                                      {"$set": {"email": "dewi@example.id"}})
    got = await say(rights_app, "data apa saja yang kalian simpan tentang saya?")
    summary, emailed = (m["text"] for m in got)
    assert "Booking: 1 (1 akan datang: " + booked.booking.ref in summary
    assert "Pesan chat: 5 sejak" in summary  # 2 in, 2 answers, the notice and "180 hari" in summary
    assert emailed.startswith("Salinan lengkap (JSON) kami kirim ke email")
    assert rights_app.rasa.messages_of(WA) == TEXTS
    [entry] = list(rights_app.store.outbox.find({"kind": "data_export"}))
    assert entry["email"] == "dewi@example.id" and entry.get("to") is None
    link = entry["params"]["link"]
    assert "/me/data/download?token=" in link
    assert await rights_app.rt.dispatcher.run_once() >= 1
    mail = next(m for m in smtp.box.messages if m["To"] == "dewi@example.id")
    assert link in mail.get_payload(decode=True).decode()
    path = link[link.index("/me/data/download"):]
    resp = await rights_app.client.get(path)
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert data["profile"]["name"] == NAME and data["bookings"][0]["ref"] == booked.booking.ref
    assert [m["text"] for m in data["chat_messages"] if m["direction"] == "in"][:2] == TEXTS
    channels = sorted(e["channel"] for e in rights_app.store.raw_db["audit_log"].find(
        {"action": "export"}))
    assert channels == ["email", "email", "whatsapp"]  # the mail sent, the link used
    # a forged or foreign token does not open anything
    assert (await rights_app.client.get(path[:-4] + "AAAA")).status == 401
    assert (await rights_app.client.get("/me/data/download?token=" + "x" * 40)).status == 401
    # the link dies with an erasure (token version)
    await say(rights_app, "hapus data saya")
    await say(rights_app, "ya")
    assert (await rights_app.client.get(path)).status == 401


async def test_data_saya_without_an_email_points_to_the_web(bot_app: BotApp) -> None:
    await say(bot_app, "halo")
    got = await say(bot_app, "my data")
    assert got[0]["text"].startswith("The data we hold about you:\n• Bookings: 0 (0 upcoming)")
    assert "Chat messages: 3" in got[0]["text"]
    assert got[1]["text"].startswith("For a full copy (JSON): a web account with an e-mail")
    assert not list(bot_app.store.outbox.find({"kind": "data_export"}))
    [entry] = list(bot_app.store.raw_db["audit_log"].find())
    assert entry["action"] == "export" and entry["channel"] == "whatsapp"


async def test_the_first_message_gets_the_privacy_notice_once(bot_app: BotApp) -> None:
    first = await say(bot_app, "mau booking dokter anak")
    assert [m["text"][:30] for m in first] == ["echo: mau booking dokter anak",
                                               "ℹ️ Privasi: kami menyimpan nam"]
    notice = first[1]["text"]
    assert "180 hari" in notice and "hapus data saya" in notice and "/privacy" in notice
    contact = bot_app.store.db["wa_contacts"].find_one({"_id": WA})
    assert contact is not None and contact["privacy_notice_shown_at"] is not None
    second = await say(bot_app, "besok pagi")
    assert [m["text"] for m in second] == ["echo: besok pagi"]
    # logged like any reply (so staff see what the patient was told)
    outs = [d["text"] for d in bot_app.store.chat_logs.find({"wa_id": WA, "direction": "out"})]
    assert outs.count(notice) == 1
    # in English for a patient who writes English
    en = await say(bot_app, "hello I need a doctor", wa="6281277700001")
    assert en[1]["text"].startswith("ℹ️ Privacy: we keep your name")


async def test_the_privacy_page_is_public_and_bilingual(bot_app: BotApp) -> None:
    resp = await bot_app.client.get("/privacy")
    assert resp.status == 200 and resp.content_type == "text/html"
    page = await resp.text()
    assert "Privasi data pasien" in page and "Patient data privacy" in page
    assert "setelah 180 hari" in page and "after 180 days" in page
