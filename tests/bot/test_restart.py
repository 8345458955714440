"""An app restart in the middle loses nothing: accepted webhooks not yet processed (and one
caught mid-processing) are picked up by the next app; the outbox entry a dying dispatcher
had claimed is sent by the next one, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from app.main import create_app
from booking.store import MongoStore
from bot.setup import RUNTIME
from notify.outbox import Kind, OutboxEntry
from sandbox import WatiSandbox
from tests.bot.conftest import FakeRasa, bot_settings

SENDERS = ["6281200000101", "6281200000102", "6281200000103"]


async def test_restart_in_the_middle_loses_nothing(aiohttp_client: Any, sandbox: WatiSandbox,
                                                   fake_rasa: FakeRasa, sync_store: MongoStore,
                                                   redis_ns: str) -> None:
    sandbox.enforce_window = False
    sandbox.status_webhooks = False
    settings = bot_settings(sandbox=sandbox, rasa_url=fake_rasa.url, namespace=redis_ns)
    # Rasa hangs: the webhooks pile up, accepted but unprocessed (one per sender in flight).
    fake_rasa.gate = asyncio.Event()
    first = await aiohttp_client(create_app(settings, store=sync_store))
    rt = first.server.app[RUNTIME]
    rt.inbox.claim_s = 0.3  # a claim of the crashed process expires quickly
    hook = f"/whatsapp/webhook?token={settings.wati_webhook_token.get_secret_value()}"
    expected: dict[str, list[str]] = {wa: [f"{wa} pesan {n}" for n in range(4)]
                                      for wa in SENDERS}
    for n in range(4):
        for wa in SENDERS:
            body = sandbox.inbound_payload(wa, text=expected[wa][n], name="X")
            assert (await (await first.post(hook, json=body)).json())["status"] == "accepted"
    # An outbox entry a dispatcher claims and then dies with.
    entry = OutboxEntry(kind=Kind.manual, dedupe_key="manual:restart", to=SENDERS[0],
                        text="Pesan dari klinik", params={"name": "X"})
    sync_store.enqueue([entry.to_doc()])
    now = datetime.now(UTC)
    assert await rt.gateway.outbox.claim_due(now, now + timedelta(seconds=0.3),
                                             "dying") is not None
    await asyncio.sleep(0.05)  # one message per sender is now inside Rasa
    await rt.inbox.stop(grace_s=0)  # the crash: workers die mid-flight
    await first.close()
    assert sandbox.sent == []
    assert sync_store.db["inbox"].count_documents({"status": {"$ne": "done"}}) == 12

    await asyncio.sleep(0.35)  # the dead process's claims expire
    fake_rasa.gate.set()
    second = await aiohttp_client(create_app(settings, store=sync_store))
    rt2 = second.server.app[RUNTIME]
    await rt2.inbox.idle(20)
    await rt2.inbox.recover()  # the periodic sweep, run now
    await rt2.inbox.idle(20)
    for wa in SENDERS:
        replies = [s["text"] for s in sandbox.sent_to(wa) if s["text"].startswith("echo")]
        assert replies == [f"echo: {t}" for t in expected[wa]]  # once each, in order
    assert sync_store.db["inbox"].count_documents({"status": "done"}) == 12
    assert await rt2.dispatcher.run_once() == 1
    manual = [s for s in sandbox.sent if s["text"] == "Pesan dari klinik"]
    assert len(manual) == 1 and manual[0]["op"] == "text"  # the patient wrote: inside window
    assert await rt2.dispatcher.run_once() == 0
