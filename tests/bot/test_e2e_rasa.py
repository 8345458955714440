"""End to end with the real Rasa server: webhook → gateway → Rasa → custom actions (the app's
actions role) → booking stored → confirmation received by the sandbox; and a cancellation.

The conversation is driven like a patient would: answer what is asked, tap the offered
choices, confirm. Slow (Rasa starts in about a minute): marked `rasa`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from app.main import create_app
from booking.models import BookingStatus
from booking.store import MongoStore
from bot.setup import RUNTIME, BotRuntime
from notify.channels import WhatsAppChannel
from notify.dispatcher import OutboxDispatcher
from sandbox import WatiSandbox
from tests.bot.conftest import answers, bot_settings
from tests.rasa.server import (  # noqa: F401
    TEST_ACTIONS_TOKEN,
    RasaServer,
    rasa_action_port,
    rasa_model,
    rasa_server,
)

# Training a stale model and starting Rasa take minutes on 2 CPUs (counted in the setup).
pytestmark = [pytest.mark.rasa, pytest.mark.timeout(900)]

AFFIRM = ("ya, booking", "yes, book it", "ya", "yes", "ya, batalkan", "ya, batal")


@dataclass
class Live:
    rt: BotRuntime
    sandbox: WatiSandbox
    store: MongoStore


@pytest.fixture
async def live(aiohttp_server: Any, sandbox: WatiSandbox, rasa_server: RasaServer,  # noqa: F811
               rasa_action_port: int, sync_store: MongoStore,  # noqa: F811
               redis_ns: str) -> AsyncIterator[Live]:
    settings = bot_settings(sandbox=sandbox, rasa_url=rasa_server.url, namespace=redis_ns,
                            roles="bot,actions", load_demo_data=True,
                            actions_port=rasa_action_port, actions_token=TEST_ACTIONS_TOKEN,
                            rasa_token=rasa_server.auth_token)
    server = await aiohttp_server(create_app(settings, store=sync_store))
    sandbox.webhook_url = str(server.make_url(
        f"/whatsapp/webhook?token={settings.wati_webhook_token.get_secret_value()}"))
    yield Live(server.app[RUNTIME], sandbox, sync_store)


async def say(live: Live, wa: str, text: str | None = None, *, kind: str = "text",
              title: str | None = None) -> list[dict[str, Any]]:
    before = len(live.sandbox.sent_to(wa))
    await live.sandbox.inject(wa, text=text, name="Budi Santoso", kind=kind, title=title)
    await live.rt.inbox.idle(90)
    return live.sandbox.sent_to(wa)[before:]


def pick(reply: dict[str, Any]) -> tuple[str, str] | None:
    """The choice a cooperative patient taps: a confirmation if offered, else the first."""
    if reply["op"] == "buttons":
        titles = reply["buttons"]
        kind = "button"
    elif reply["op"] == "list":
        titles = [r["title"] for r in reply["rows"]]
        kind = "list"
    else:
        return None
    for title in titles:
        if title.lower() in AFFIRM:
            return kind, title
    return kind, titles[0]


async def converse(live: Live, wa: str, opening: str, done: Any, turns: int = 12) -> None:
    replies = await say(live, wa, opening)
    for _ in range(turns):
        if done():
            return
        assert replies, "the bot did not answer"
        choice = next((c for c in map(pick, reversed(replies)) if c), None)
        last = (answers(replies) or replies)[-1]["text"] or ""  # (not the privacy notice)
        if choice is not None:
            replies = await say(live, wa, kind=choice[0], title=choice[1])
        elif "nama" in last.lower() or "name" in last.lower():
            replies = await say(live, wa, "Budi Santoso")
        else:
            replies = await say(live, wa, "ya")
    assert done(), [r["text"] for r in live.sandbox.sent_to(wa)]


async def test_book_then_cancel_over_whatsapp(live: Live) -> None:
    wa = "6281377700011"

    def booked() -> Any:
        user = live.store.find_user(whatsapp=wa)
        if user is None:
            return None
        found, _ = live.store.find_bookings(patient_id=user.id)
        return found[0] if found else None

    await converse(live, wa, "mau booking dokter umum di Jakarta besok jam 10", booked)
    booking = booked()
    assert booking.status == BookingStatus.confirmed
    entry = live.store.outbox.find_one({"dedupe_key": f"booking_confirmation:{booking.id}"})
    assert entry is not None and entry["to"] == wa
    # The bot's reply already carried the code: the entry is recorded as sent by that chat
    # message, and no second confirmation goes out, even once the chat has gone quiet.
    later = OutboxDispatcher(
        live.rt.gateway.outbox, [WhatsAppChannel(live.rt.wati, live.rt.gateway.outbox,
                                                 live.rt.chat)],
        clock=lambda: entry["created_at"] + timedelta(hours=25))
    assert await later.run_once() >= 1
    confirmed = told(live, wa, booking.ref)
    assert len(confirmed) == 1
    done = live.store.outbox.find_one({"_id": entry["_id"]})
    assert done["mode"] == "chat" and done["status"] in ("sent", "delivered", "read")
    assert done["provider_message_id"] == confirmed[0]["message_id"]
    assert [s for s in live.sandbox.sent_to(wa, "template")
            if s["template"] == "booking_confirmation"] == []
    logs = list(live.store.chat_logs.find({"wa_id": wa, "direction": "in"}))
    assert logs[0]["intent"] == "book_appointment" and logs[0]["confidence"] > 0.3

    def cancelled() -> bool:
        return live.store.get_booking(booking.id).status == BookingStatus.cancelled

    await converse(live, wa, f"tolong batalkan booking {booking.ref}", cancelled)
    before = len(live.sandbox.sent_to(wa))
    assert await live.rt.dispatcher.run_once() >= 1
    assert len(live.sandbox.sent_to(wa)) == before         # the chat reply told the patient
    notice = live.store.outbox.find_one({"dedupe_key": f"booking_cancelled:{booking.id}"})
    assert notice is not None and notice["mode"] == "chat"
    said = [s for s in told(live, wa, booking.ref) if s["message_id"] == notice[
        "provider_message_id"]]
    assert len(said) == 1 and "dibatalkan" in said[0]["text"]


def told(live: Live, wa: str, ref: str) -> list[dict[str, Any]]:
    """The messages sent to this number that carry the booking code."""
    return [s for s in live.sandbox.sent_to(wa) if ref in (s.get("text") or "")]
