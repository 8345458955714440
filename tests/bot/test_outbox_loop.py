"""Status webhooks close the outbox loop (delivered, read, failed → email), and manual
sends through POST /whatsapp/send go through the same outbox and client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from app.http.auth import issue_tokens
from app.keys import SETTINGS
from booking.models import Role, User
from notify.outbox import Kind, OutboxEntry
from tests.bot.conftest import ADMIN_TOKEN, BotApp, Smtp

WA = "6281234567890"
PARAMS = {"name": "Budi", "ref": "K7M-4QX", "doctor": "dr. Sari", "specialty": "Umum",
          "date": "Senin", "time": "10:00 WIB", "clinic": "Klinik Sehat"}


def put(app: BotApp, n: int, to: str = WA, **kw: Any) -> OutboxEntry:
    e = OutboxEntry(kind=Kind.booking_confirmation, dedupe_key=f"booking_confirmation:b{n}",
                    booking_id=f"b{n}", to=to, email="budi@example.com",
                    template="booking_confirmation", params=PARAMS, text="Booking dikonfirmasi",
                    **kw)
    assert app.store.enqueue([e.to_doc()]) == 1
    return e


async def status_of(app: BotApp, e: OutboxEntry, want: str, timeout: float = 10) -> str:
    async def poll() -> str:
        while True:
            await app.settle()
            doc = app.store.outbox.find_one({"_id": e.id})
            assert doc is not None
            if doc["status"] == want:
                return want
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), timeout)


async def test_template_is_delivered_then_read(bot_app: BotApp) -> None:
    e = put(bot_app, 1)
    assert await bot_app.rt.dispatcher.run_once() == 1
    assert await status_of(bot_app, e, "delivered") == "delivered"
    # The patient opens the chat (the sandbox page polls its messages): read receipt.
    resp = await bot_app.client.session.get(f"{bot_app.sandbox.url}/_sandbox/api/messages",
                                            params={"wa_id": WA})
    assert resp.status == 200
    assert await status_of(bot_app, e, "read") == "read"
    doc = bot_app.store.outbox.find_one({"_id": e.id})
    assert doc is not None and doc["read_at"] >= doc["delivered_at"]


async def test_session_text_status_is_matched_even_when_it_beats_the_response(
        bot_app: BotApp) -> None:
    await bot_app.sandbox.inject(WA, text="halo", name="Budi")  # opens the 24-hour window
    await bot_app.settle()
    # Made a minute ago: past the grace in which a chat reply could stand in for it.
    e = put(bot_app, 2, created_at=datetime.now(UTC) - timedelta(minutes=1))
    assert await bot_app.rt.dispatcher.run_once() == 1
    assert await status_of(bot_app, e, "delivered") == "delivered"
    doc = bot_app.store.outbox.find_one({"_id": e.id})
    assert doc is not None and doc["mode"] == "session"
    assert bot_app.sandbox.sent_to(WA, "text")[-1]["text"] == "Booking dikonfirmasi"


async def test_whatsapp_failure_by_webhook_falls_back_to_email(bot_app: BotApp,
                                                               smtp: Smtp) -> None:
    bot_app.sandbox.state.fail_numbers.add(WA)
    e = put(bot_app, 3)
    assert await bot_app.rt.dispatcher.run_once() == 1
    assert await status_of(bot_app, e, "failed") == "failed"
    doc = bot_app.store.outbox.find_one({"_id": e.id})
    assert doc is not None and "131026" in doc["last_error"]
    assert await bot_app.rt.dispatcher.run_once() == 1
    assert await status_of(bot_app, e, "emailed") == "emailed"
    assert len(smtp.box.messages) == 1
    assert len(bot_app.sandbox.sent) == 1  # not resent on WhatsApp


async def test_manual_send_is_admin_only(bot_app: BotApp) -> None:
    body = {"to": "081234567890", "text": "Klinik tutup besok."}
    assert (await bot_app.client.post("/whatsapp/send", json=body)).status == 401
    patient = User(name="P", role=Role.patient, whatsapp=WA)
    token = issue_tokens(bot_app.client.server.app[SETTINGS], patient)["access_token"]
    resp = await bot_app.client.post("/whatsapp/send", json=body,
                                     headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 403
    assert bot_app.sandbox.sent == []


async def test_manual_send_inside_and_outside_the_window(bot_app: BotApp) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    # Never wrote to us: the reopen template carries the text.
    resp = await bot_app.client.post("/whatsapp/send", headers=auth, json={
        "to": "+62 812-3456-7890", "text": "Klinik tutup besok.", "idempotency_key": "k1"})
    assert resp.status == 201
    first = await resp.json()
    assert first["status"] in ("sent", "delivered") and first["template"] == "reopen_conversation"
    sent = bot_app.sandbox.sent[-1]
    assert sent["to"] == WA and sent["params"]["message"] == "Klinik tutup besok."
    again = await bot_app.client.post("/whatsapp/send", headers=auth, json={
        "to": WA, "text": "Klinik tutup besok.", "idempotency_key": "k1"})
    assert again.status == 200 and (await again.json())["id"] == first["id"]
    assert len(bot_app.sandbox.sent) == 1  # a retried request sends once
    # After the patient writes, a manual message is plain text.
    await bot_app.sandbox.inject(WA, text="halo", name="Budi")
    await bot_app.settle()
    resp = await bot_app.client.post("/whatsapp/send", headers=auth,
                                     json={"to": WA, "text": "Dokter datang jam 9."})
    assert (await resp.json())["mode"] == "session"
    assert bot_app.sandbox.sent_to(WA, "text")[-1]["text"] == "Dokter datang jam 9."
    bad = await bot_app.client.post("/whatsapp/send", headers=auth, json={"to": "12", "text": "x"})
    assert bad.status == 400
