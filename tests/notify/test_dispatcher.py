"""The outbox dispatcher against the sandbox and a local SMTP server: window both ways,
outage → retries → email fallback, dead letters, one send per entry, crash takeover."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from booking.store import MongoStore, Store
from booking.store_chat import ChatStore
from notify.channels import Channel, EmailChannel, WhatsAppChannel
from notify.dispatcher import OutboxDispatcher
from notify.email import Mailer
from notify.outbox import Kind, OutboxEntry, OutboxStatus, RetryPolicy
from notify.parked import ParkedStatuses
from notify.whatsapp import WatiClient
from sandbox import WatiSandbox
from tests.bot.conftest import API_TOKEN, Smtp
from tests.conftest import REDIS_TEST_URL, Clock

WA = "6281234567890"
PARAMS = {"name": "Budi", "patient": "Budi", "ref": "K7M-4QX", "doctor": "dr. Sari",
          "specialty": "Dokter Umum", "date": "Senin, 7 Desember 2026", "time": "10:00 WIB",
          "clinic": "Klinik Sehat Menteng"}


@pytest.fixture
async def chat(store: Store) -> ChatStore:
    await store.chat.ensure_indexes()
    await store.outbox.ensure_indexes()
    return store.chat


@pytest.fixture
async def make(store: Store, chat: ChatStore, sandbox: WatiSandbox, smtp: Smtp, clock: Clock
               ) -> AsyncIterator[Callable[..., OutboxDispatcher]]:
    sandbox.enforce_window = False
    session = aiohttp.ClientSession()
    wati = WatiClient(session, sandbox.url, API_TOKEN, attempts=2, backoff_s=0.001,
                      timeout=aiohttp.ClientTimeout(total=None, connect=1, sock_read=0.3))
    mailer = Mailer("127.0.0.1", smtp.port, "noreply@klinik.test", timeout_s=5)

    def factory(**kw: Any) -> OutboxDispatcher:
        kw.setdefault("policy", RetryPolicy(max_attempts=3, base_s=30, claim_s=60))
        email = kw.pop("mailer", mailer)
        channels: list[Channel] = [WhatsAppChannel(wati, store.outbox, chat)]
        if email is not None:
            channels.append(EmailChannel(email))
        return OutboxDispatcher(store.outbox, channels, clock=clock, **kw)

    yield factory
    await session.close()


def entry(clock: Clock, n: int = 1, **kw: Any) -> OutboxEntry:
    values: dict[str, Any] = dict(
        kind=Kind.booking_confirmation, dedupe_key=f"booking_confirmation:b{n}",
        booking_id=f"b{n}", to=WA, email="budi@example.com", template="booking_confirmation",
        params=PARAMS, text="Booking dikonfirmasi ✅\nKode: K7M-4QX", next_attempt_at=clock.now)
    values.update(kw)
    return OutboxEntry(**values)


def put(store: MongoStore, *entries: OutboxEntry) -> None:
    assert store.enqueue([e.to_doc() for e in entries]) == len(entries)


def doc(store: MongoStore, e: OutboxEntry) -> dict[str, Any]:
    found = store.outbox.find_one({"_id": e.id})
    assert found is not None
    return found


async def test_inside_the_window_sends_session_text(make: Callable[..., OutboxDispatcher],
                                                    chat: ChatStore, sync_store: MongoStore,
                                                    sandbox: WatiSandbox, clock: Clock) -> None:
    await chat.touch_inbound(WA, clock.now - timedelta(hours=3), "Budi", "id")
    e = entry(clock)
    put(sync_store, e)
    assert await make().run_once() == 1
    assert [(s["op"], s["text"]) for s in sandbox.sent] == [("text", e.text)]
    d = doc(sync_store, e)
    assert d["status"] == "sent" and d["mode"] == "session" and d["attempts"] == 1
    assert d["provider_message_id"] == sandbox.sent[0]["message_id"]
    assert await make().run_once() == 0  # nothing due any more


@pytest.mark.parametrize("lang,template", [("id", "booking_confirmation"),
                                           ("en", "booking_confirmation_en")])
async def test_outside_the_window_sends_the_template(make: Callable[..., OutboxDispatcher],
                                                     chat: ChatStore, sync_store: MongoStore,
                                                     sandbox: WatiSandbox, clock: Clock,
                                                     lang: str, template: str) -> None:
    await chat.touch_inbound(WA, clock.now - timedelta(hours=30), "Budi", lang)
    e = entry(clock, language=lang)
    put(sync_store, e)
    assert await make().run_once() == 1
    sent = sandbox.sent[0]
    assert (sent["op"], sent["template"]) == ("template", template)
    assert sent["params"]["ref"] == "K7M-4QX" and sent["local_message_id"] == e.id
    d = doc(sync_store, e)
    assert (d["status"], d["mode"], d["provider_message_id"]) == ("sent", "template", e.id)


@pytest.mark.parametrize("mode", ["error", "timeout", "ratelimit"])
async def test_outage_retries_with_backoff_then_falls_back_to_email(
        make: Callable[..., OutboxDispatcher], sync_store: MongoStore, sandbox: WatiSandbox,
        smtp: Smtp, clock: Clock, mode: str) -> None:
    sandbox.fail(mode, retry_after=0.01, delay_s=1.0)
    e = entry(clock)
    put(sync_store, e)
    dispatcher = make()
    delays = []
    for attempt in (1, 2):
        assert await dispatcher.run_once() == 1
        d = doc(sync_store, e)
        assert (d["status"], d["attempts"]) == ("pending", attempt)
        delays.append(d["next_attempt_at"] - clock.now)
        assert await dispatcher.run_once() == 0  # not due before its backoff
        clock.advance(hours=2)
    assert timedelta(seconds=24) <= delays[0] <= timedelta(seconds=36)
    assert timedelta(seconds=48) <= delays[1] <= timedelta(seconds=72)  # exponential
    assert await dispatcher.run_once() == 1
    d = doc(sync_store, e)
    assert d["status"] == "emailed" and d["attempts"] == 3 and d["channel"] == "email"
    assert "3 attempts failed" in d["last_error"]
    assert sandbox.sent == []  # WhatsApp never accepted it: nothing was sent twice
    assert len(smtp.box.messages) == 1
    mail = smtp.box.messages[0]
    assert mail["To"] == "budi@example.com"
    assert mail["Subject"] == "Booking dikonfirmasi K7M-4QX"
    assert "Kode: K7M-4QX" in mail.get_payload(decode=True).decode()
    clock.advance(days=1)
    assert await dispatcher.run_once() == 0  # done for good


async def test_a_permanent_rejection_falls_back_at_once(make: Callable[..., OutboxDispatcher],
                                                        sync_store: MongoStore, smtp: Smtp,
                                                        clock: Clock) -> None:
    e = entry(clock, template="booking_confirmation", params={"name": "Budi"})  # missing params
    put(sync_store, e)
    assert await make().run_once() == 1
    d = doc(sync_store, e)
    assert d["status"] == "emailed" and d["attempts"] == 1
    assert d["last_error"].startswith("rejected:")
    assert len(smtp.box.messages) == 1


async def test_no_email_means_dead_never_silent(make: Callable[..., OutboxDispatcher],
                                                sync_store: MongoStore, sandbox: WatiSandbox,
                                                clock: Clock,
                                                caplog: pytest.LogCaptureFixture) -> None:
    sandbox.fail("reject", status=400)
    e = entry(clock, email=None)
    put(sync_store, e)
    assert await make().run_once() == 1
    d = doc(sync_store, e)
    assert d["status"] == "dead" and "no email fallback" in d["last_error"]
    assert any("is dead" in r.getMessage() and e.id in r.getMessage() for r in caplog.records)


async def test_email_server_down_is_retried_then_recovers(make: Callable[..., OutboxDispatcher],
                                                          sync_store: MongoStore,
                                                          sandbox: WatiSandbox, smtp: Smtp,
                                                          clock: Clock) -> None:
    sandbox.fail("reject", status=400)
    smtp.box.refuse = True
    e = entry(clock)
    put(sync_store, e)
    dispatcher = make()
    assert await dispatcher.run_once() == 1
    d = doc(sync_store, e)
    assert (d["status"], d["channel"], d["email_attempts"]) == ("pending", "email", 1)
    smtp.box.refuse = False
    clock.advance(hours=1)
    assert await dispatcher.run_once() == 1
    assert doc(sync_store, e)["status"] == "emailed"
    assert len(sandbox.state.attempts) == 1  # the retry went straight to email


async def test_two_dispatchers_never_send_one_entry_twice(
        make: Callable[..., OutboxDispatcher], sync_store: MongoStore, sandbox: WatiSandbox,
        clock: Clock) -> None:
    entries = [entry(clock, n) for n in range(30)]
    put(sync_store, *entries)
    first, second = make(), make()
    counts = await asyncio.gather(first.run_once(limit=100), second.run_once(limit=100),
                                  first.run_once(limit=100))
    assert sum(counts) == 30
    local_ids = [s["local_message_id"] for s in sandbox.sent]
    assert sorted(local_ids) == sorted(e.id for e in entries)
    assert sync_store.outbox.count_documents({"status": "sent"}) == 30


async def test_a_crashed_dispatchers_claim_is_taken_over(make: Callable[..., OutboxDispatcher],
                                                         store: Store,
                                                         sync_store: MongoStore,
                                                         sandbox: WatiSandbox,
                                                         clock: Clock) -> None:
    e = entry(clock)
    put(sync_store, e)
    # A dispatcher claims it and dies before sending.
    assert await store.outbox.claim_due(clock.now, clock.now + timedelta(seconds=60),
                                        "dead") is not None
    survivor = make()
    assert await survivor.run_once() == 0
    clock.advance(seconds=61)
    assert await survivor.run_once() == 1
    assert len(sandbox.sent) == 1 and doc(sync_store, e)["status"] == "sent"


async def test_a_missing_mailer_or_number_still_never_drops(
        make: Callable[..., OutboxDispatcher], sync_store: MongoStore, smtp: Smtp,
        clock: Clock) -> None:
    no_number = entry(clock, 1, to=None)
    put(sync_store, no_number)
    assert await make().run_once() == 1
    assert doc(sync_store, no_number)["status"] == "emailed"
    nothing = entry(clock, 2, to=None, email=None)
    put(sync_store, nothing)
    assert await make(mailer=None).run_once() == 1
    assert doc(sync_store, nothing)["status"] == "dead"
    assert OutboxStatus.dead.value == "dead"


async def test_logs_carry_no_numbers(make: Callable[..., OutboxDispatcher],
                                     sync_store: MongoStore, sandbox: WatiSandbox, clock: Clock,
                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.fail("error", count=3)
    put(sync_store, entry(clock))
    await make().run_once()
    clock.advance(hours=1)
    await make().run_once()
    assert caplog.records
    assert not any(WA in r.getMessage() or "Budi" in r.getMessage() for r in caplog.records)


async def test_a_scheduler_process_without_the_bot_role_dispatches(
        aiohttp_client: Any, sandbox: WatiSandbox, sync_store: MongoStore, redis_ns: str,
        clock: Clock) -> None:
    from app.main import create_app
    from notify.runtime import NOTIFIER
    from tests.bot.conftest import bot_settings

    settings = bot_settings(sandbox=sandbox, rasa_url="http://127.0.0.1:1", namespace=redis_ns,
                            roles="scheduler", outbox_dispatch_seconds=3600)
    client = await aiohttp_client(create_app(settings, store=sync_store))
    dispatcher = client.server.app[NOTIFIER].dispatcher  # the process's own notifier
    put(sync_store, entry(clock, 7, next_attempt_at=clock.now - timedelta(days=400)))
    assert await dispatcher.run_once() == 1
    assert len(sandbox.sent) == 1 and sandbox.sent[0]["template"] == "booking_confirmation"


@pytest.mark.parametrize(("status", "starts_in", "sent"), [
    ("confirmed", timedelta(hours=20), True),
    ("cancelled", timedelta(hours=20), False),
    ("rescheduled", timedelta(hours=20), False),
    ("confirmed", -timedelta(minutes=5), False),   # the visit began while it waited
    (None, timedelta(hours=20), False),           # the booking is gone
])
async def test_a_reminder_is_checked_against_its_booking_before_sending(
        make: Callable[..., OutboxDispatcher], chat: ChatStore, sync_store: MongoStore,
        sandbox: WatiSandbox, smtp: Smtp, clock: Clock, status: str | None,
        starts_in: timedelta, sent: bool) -> None:
    await chat.touch_inbound(WA, clock.now - timedelta(hours=3), "Budi", "id")
    if status is not None:
        sync_store.bookings.insert_one({"_id": "b1", "status": status,
                                        "start": clock.now + starts_in})
    reminder = entry(clock, kind=Kind.appointment_reminder,
                     dedupe_key="appointment_reminder:b1:24h", text="Pengingat: besok 10:00")
    # A WhatsApp failure already recorded would otherwise go to email: it is checked too.
    failed = entry(clock, 2, kind=Kind.appointment_reminder, booking_id="b1",
                   dedupe_key="appointment_reminder:b1:2h", status=OutboxStatus.failed)
    put(sync_store, reminder, failed)
    assert await make().run_once() == 2
    if sent:
        assert [s["text"] for s in sandbox.sent] == ["Pengingat: besok 10:00"]
        assert doc(sync_store, reminder)["status"] == "sent"
        assert doc(sync_store, failed)["status"] == "emailed" and len(smtp.box.messages) == 1
        return
    assert sandbox.sent == [] and smtp.box.messages == []
    for e in (reminder, failed):
        d = doc(sync_store, e)
        assert d["status"] == "skipped" and d["last_error"] and d["attempts"] == 0
    assert await make().run_once() == 0   # retired for good, never claimed again


async def confirmation_after(chat: ChatStore, sync_store: MongoStore, clock: Clock,
                             wrote_ago: timedelta) -> OutboxEntry:
    """A confirmation made now, for a patient whose last message was `wrote_ago`."""
    await chat.touch_inbound(WA, clock.now - wrote_ago, "Budi", "id")
    e = entry(clock, created_at=clock.now)
    put(sync_store, e)
    return e


async def test_the_bots_chat_reply_stands_in_for_the_confirmation(
        make: Callable[..., OutboxDispatcher], chat: ChatStore, sync_store: MongoStore,
        sandbox: WatiSandbox, clock: Clock, redis_ns: str) -> None:
    """Booked in the chat: the bot's reply carrying the code already told the patient, so
    the outbox entry is recorded as sent by that message, not sent a second time."""
    e = await confirmation_after(chat, sync_store, clock, timedelta(seconds=30))
    # An older reply with the same code (e.g. before a cancellation) does not count.
    await chat.insert_chat_logs([
        {"wa_id": WA, "direction": "out", "text": "Booking berhasil ✅\nKode: K7M-4QX",
         "refs": ["K7M-4QX"], "message_id": "wamid.old",
         "at": clock.now - timedelta(seconds=5)},
        {"wa_id": WA, "direction": "out", "text": "Booking berhasil ✅\nKode: K7M-4QX",
         "refs": ["K7M-4QX"], "message_id": None,
         "at": clock.now + timedelta(seconds=1)},                           # Wati refused it
        {"wa_id": WA, "direction": "out", "text": "Booking berhasil ✅\nKode: K7M-4QX\n...",
         "refs": ["K7M-4QX"], "message_id": "wamid.chat1",
         "at": clock.now + timedelta(seconds=2)}])
    # WhatsApp reported the chat message delivered before the match: the status was parked.
    redis = Redis.from_url(REDIS_TEST_URL)
    parked = ParkedStatuses(redis, redis_ns)
    await parked.park(["wamid.chat1"], OutboxStatus.delivered, None)
    clock.advance(seconds=3)
    try:
        assert await make(parked=parked).run_once() == 1
    finally:
        await redis.aclose()
    assert sandbox.sent == []
    d = doc(sync_store, e)
    assert (d["status"], d["mode"], d["provider_message_id"], d["attempts"]) == \
        ("delivered", "chat", "wamid.chat1", 0)


async def test_without_a_chat_reply_the_confirmation_waits_briefly_then_goes(
        make: Callable[..., OutboxDispatcher], chat: ChatStore, sync_store: MongoStore,
        sandbox: WatiSandbox, clock: Clock) -> None:
    e = await confirmation_after(chat, sync_store, clock, timedelta(seconds=30))
    assert await make().run_once() == 1
    d = doc(sync_store, e)
    assert (d["status"], d["attempts"]) == ("pending", 0) and sandbox.sent == []
    assert d["next_attempt_at"] == clock.now + timedelta(seconds=20)
    clock.advance(seconds=10)
    assert await make().run_once() == 0          # not due again before the grace ends
    clock.advance(seconds=11)
    assert await make().run_once() == 1
    assert [s["text"] for s in sandbox.sent] == [e.text]
    assert doc(sync_store, e)["status"] == "sent"


async def test_a_web_booking_confirmation_goes_at_once(
        make: Callable[..., OutboxDispatcher], chat: ChatStore, sync_store: MongoStore,
        sandbox: WatiSandbox, clock: Clock) -> None:
    """The patient last wrote yesterday: no chat in progress, nothing to wait for."""
    e = await confirmation_after(chat, sync_store, clock, timedelta(hours=20))
    assert await make().run_once() == 1
    assert [s["text"] for s in sandbox.sent] == [e.text]
