"""Outages as an attacker (or bad luck) can cause them: Redis going away while a patient's
message is handled must not lose the message; an outage while an event is handled leaves
it pending and retries it in order; a crash half-way through a move leaves no patient with
two confirmed bookings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest

from app.main import create_app
from booking.errors import StoreUnavailable
from booking.models import BookingStatus
from booking.service import Actor, Booked, BookingService
from booking.store import MongoStore, Store
from bot.inbox import Inbox
from bot.payloads import Action, Classified, WatiEvent
from tests.bot.conftest import BotApp, Smtp, answers, bot_settings
from tests.conftest import REDIS_TEST_URL, Clock
from tests.security.helpers import TcpProxy

WA = "6281234500077"


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    url = urlparse(REDIS_TEST_URL)
    proxy = await TcpProxy(url.hostname or "127.0.0.1", url.port or 6379).start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def flaky_bot(aiohttp_client: Any, sandbox: Any, fake_rasa: Any,
                    sync_store: MongoStore, redis_ns: str, smtp: Smtp,
                    proxy: TcpProxy) -> AsyncIterator[BotApp]:
    settings = bot_settings(sandbox=sandbox, rasa_url=fake_rasa.url, namespace=redis_ns,
                            smtp_port=smtp.port,
                            redis_url=f"redis://127.0.0.1:{proxy.port}/0")
    client = await aiohttp_client(create_app(settings, store=sync_store))
    app = BotApp(client, sandbox, fake_rasa, sync_store)
    sandbox.webhook_url = app.hook_url()
    yield app


async def test_redis_outage_during_a_patient_message(flaky_bot: BotApp,
                                                     proxy: TcpProxy) -> None:
    # a list was shown: taps resolve through Redis, which then goes away
    await flaky_bot.rt.gateway.choices.remember(
        WA, {"dokter gigi": '/inform{"specialty":"dentist"}'})
    await proxy.cut()
    payload = flaky_bot.sandbox.inbound_payload(WA, text="Dokter gigi", name="Budi")
    resp = await flaky_bot.post(payload)
    assert resp.status == 200 and (await resp.json())["status"] == "accepted"
    await flaky_bot.settle(30)
    # the tap could not be resolved: it went to Rasa as the text it shows, and was answered
    assert flaky_bot.rasa.messages_of(WA) == ["Dokter gigi"]
    assert [m["text"] for m in answers(flaky_bot.sandbox.sent_to(WA))] == ["echo: Dokter gigi"]
    inbox = flaky_bot.store.db["inbox"].find_one({"wa_id": WA})
    assert inbox is not None and inbox["status"] == "done"


async def test_outage_while_handling_an_event(store: Store, redis_namespace: str) -> None:
    from redis.asyncio import Redis

    handled: list[str] = []
    failures = {"m:1": 2}  # the first event meets an outage twice, then it passes

    async def handler(doc: dict[str, Any]) -> None:
        key = doc["_id"]
        if failures.get(key, 0) > 0:
            failures[key] -= 1
            raise StoreUnavailable("database error: AutoReconnect")
        handled.append(key)

    redis = Redis.from_url(REDIS_TEST_URL)
    inbox = Inbox(store.chat, redis, redis_namespace, handler, retry_base_s=0.05)
    try:
        for n in ("1", "2"):
            event = WatiEvent(eventType="message", waId=WA, whatsappMessageId=n, text=n)
            assert await inbox.accept(event, Classified(Action.message), {"text": n},
                                      Clock().now) == "accepted"
        await inbox.idle(10)
    finally:
        await inbox.stop()
        await redis.aclose()
    assert handled == ["m:1", "m:2"]  # retried, and the sender's next message waited for it
    statuses = {d["_id"]: d["status"] for d in store.sync.db["inbox"].find()}
    assert statuses == {"m:1": "done", "m:2": "done"}


async def test_crash_between_the_new_booking_and_the_old_ones_release(
        service: BookingService, clock: Clock, store: Store, doctor: Any,
        patients: list[Any]) -> None:
    patient = patients[0]
    start = clock.now + timedelta(days=2)
    slots = await service.availability(doctor, start, start + timedelta(days=1))
    first = await service.book(patient.id, doctor.id, slots[0].start)
    assert isinstance(first, Booked)
    actor = Actor(patient.id, patient.role)
    # reschedule's first write (the new booking) happens, then the process is killed before
    # its second write (the old booking's release) and before any compensation can run
    new_start = slots[3].start
    moved = await service._book_locked(
        doctor, patient.id, new_start, new_start + timedelta(minutes=doctor.slot_minutes),
        first.booking.source, None, actor, rescheduled_from=first.booking)
    assert isinstance(moved, Booked)
    both = await service.patient_bookings(patient.id)
    assert len(both) == 2  # the state a crash leaves: two confirmed bookings
    assert await service.repair_interrupted_reschedules() == 0  # not before the grace
    clock.advance(minutes=2)
    assert await service.repair_interrupted_reschedules() == 1
    [kept] = await service.patient_bookings(patient.id)
    assert kept.start == slots[3].start
    old = await store.bookings.get(first.booking.id)
    assert old.status == BookingStatus.rescheduled and old.rescheduled_to == kept.id
    assert old.slot_key is None  # the old slot is free for others again
    assert await service.repair_interrupted_reschedules() == 0
