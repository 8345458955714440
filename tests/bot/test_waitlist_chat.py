"""A waitlist offer answered on WhatsApp: 'Ambil' books the held slot (the answer carries the
booking code), 'Lewati' passes it to the next waiting patient; neither reaches Rasa."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app.keys import SERVICE, WAITLIST
from booking.models import Role, User
from booking.service import Actor, Booked
from tests.bot.conftest import BotApp, answers
from tests.conftest import make_doctor

PATIENTS = {"6281200000301": "Ani", "6281200000302": "Budi", "6281200000303": "Citra"}


async def setup_offer(bot_app: BotApp) -> tuple[Any, Any, list[User], Any]:
    app = bot_app.client.server.app
    service, waitlist = app[SERVICE], app[WAITLIST]
    doctor = make_doctor(id="doc-wl")
    bot_app.store.upsert_doctor(doctor)
    users = [User(id=f"u-{wa}", name=name, whatsapp=wa, role=Role.patient)
             for wa, name in PATIENTS.items()]
    for u in users:
        bot_app.store.insert_user(u)
    today = datetime.now(doctor.tz).date()
    slots = await service.day_slots(doctor, today + timedelta(days=1))
    day = today + timedelta(days=1)
    while not slots:
        day += timedelta(days=1)
        slots = await service.day_slots(doctor, day)
    result = await service.book(users[0].id, doctor.id, slots[0].start)
    assert isinstance(result, Booked)
    for u in users[1:]:
        await waitlist.join(u.id, doctor.id, date.today(), day + timedelta(days=1))
    await service.cancel(result.booking.id, actor=Actor(users[0].id, Role.patient))
    return service, waitlist, users, slots[0].start


async def test_ambil_books_the_offered_slot(bot_app: BotApp) -> None:
    service, waitlist, users, start = await setup_offer(bot_app)
    assert await waitlist.open_offer(users[1].id) is not None
    box = bot_app.sandbox
    await box.inject(users[1].whatsapp, text="Ambil", name="Budi")
    await bot_app.settle()
    assert bot_app.rasa.messages_of(users[1].whatsapp) == []
    [booking] = list(bot_app.store.bookings.find({"patient_id": users[1].id}))
    assert booking["status"] == "confirmed"
    reply = answers(box.sent_to(users[1].whatsapp))[-1]["text"]
    assert reply.startswith("Berhasil! Jadwal Anda dengan dr. Test Satu")
    assert booking["ref"] in reply
    # a second "Ambil" finds no open offer: it goes to Rasa like any text
    await box.inject(users[1].whatsapp, text="Ambil", name="Budi")
    await bot_app.settle()
    assert bot_app.rasa.messages_of(users[1].whatsapp) == ["Ambil"]


async def test_lewati_passes_it_on(bot_app: BotApp) -> None:
    service, waitlist, users, start = await setup_offer(bot_app)
    box = bot_app.sandbox
    await box.inject(users[1].whatsapp, text="lewati", name="Budi")
    await bot_app.settle()
    assert answers(box.sent_to(users[1].whatsapp))[-1]["text"].startswith(
        "Baik, jadwal ini kami tawarkan")
    nxt = await waitlist.open_offer(users[2].id)
    assert nxt is not None and nxt["start"] == start
    await box.inject(users[2].whatsapp, text="Take it", name="Citra")
    await bot_app.settle()
    assert answers(box.sent_to(users[2].whatsapp))[-1]["text"].startswith(
        "Done! Your appointment")
