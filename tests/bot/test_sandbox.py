"""The Wati sandbox itself, and the embedded default that starts it and points the app at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from app.main import create_app
from booking.store import MongoStore
from bot.setup import RUNTIME
from notify.outbox import Kind, OutboxEntry
from notify.runtime import NOTIFIER
from sandbox import WatiSandbox
from tests.bot.conftest import API_TOKEN, FakeRasa, bot_settings

WA = "6281234567890"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


class Receiver:
    """Collects the webhooks the sandbox posts."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.queries: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(request.query_string)
        self.events.append(await request.json())
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver(aiohttp_server: Any) -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    server = await aiohttp_server(app)
    yield rec, str(server.make_url("/hook?token=s3cret"))


async def test_control_endpoints_fail_and_heal(sandbox: WatiSandbox) -> None:
    sandbox.enforce_window = False
    async with aiohttp.ClientSession() as http:
        url = sandbox.url + "/api/ext/v3/conversations/messages/text"
        ok = await http.post(url, json={"target": WA, "text": "a"}, headers=AUTH)
        assert ok.status == 200 and "id" in (await ok.json())["message"]
        await http.post(sandbox.url + "/_sandbox/faults", json={"mode": "ratelimit",
                                                                "retry_after": 4})
        limited = await http.post(url, json={"target": WA, "text": "b"}, headers=AUTH)
        assert limited.status == 429 and limited.headers["Retry-After"] == "4"
        await http.delete(sandbox.url + "/_sandbox/faults")
        assert (await http.post(url, json={"target": WA, "text": "c"}, headers=AUTH)).status \
            == 200
        assert (await http.post(url, json={"target": WA, "text": "c"})).status == 401
        sent = await (await http.get(sandbox.url + "/_sandbox/sent", params={"to": WA})).json()
        assert [s["text"] for s in sent["sent"]] == ["a", "c"]


async def test_interactive_limits_are_enforced_like_wati(sandbox: WatiSandbox) -> None:
    url = sandbox.url + "/api/ext/v3/conversations/messages/interactive"
    async with aiohttp.ClientSession() as http:
        too_many = {"target": WA, "type": "buttons", "button_message": {
            "body": "x", "buttons": [{"text": str(i)} for i in range(4)]}}
        dupes = {"target": WA, "type": "buttons", "button_message": {
            "body": "x", "buttons": [{"text": "Ya"}, {"text": "ya"}]}}
        long_row = {"target": WA, "type": "list", "list_message": {
            "body": "x", "button_text": "Lihat", "sections": [{"title": "s", "rows": [
                {"title": "y" * 25}]}]}}
        for body in (too_many, dupes, long_row):
            resp = await http.post(url, json=body, headers=AUTH)
            assert resp.status == 400
    assert sandbox.sent == []


async def test_templates_and_window_and_status_webhooks(receiver: tuple[Receiver, str]) -> None:
    rec, hook = receiver
    box = WatiSandbox(token=API_TOKEN, webhook_url=hook)
    await box.start()
    try:
        async with aiohttp.ClientSession() as http:
            # Session text to someone who never wrote: accepted, then failed (131047).
            await http.post(box.url + "/api/ext/v3/conversations/messages/text",
                            json={"target": WA, "text": "hai"}, headers=AUTH)
            await box.wait_for(lambda: any(e["eventType"] == "sessionMessageFailed"
                                           for e in rec.events))
            failed = next(e for e in rec.events if e["eventType"] == "sessionMessageFailed")
            assert failed["failedCode"] == "131047"
            # Templates are fine outside the window; v1 path with a tenant segment.
            resp = await http.post(box.url + "/123456/api/v1/sendTemplateMessage",
                                   params={"whatsappNumber": WA}, headers=AUTH, json={
                                       "template_name": "reopen_conversation",
                                       "broadcast_name": "b", "parameters": [
                                           {"name": "name", "value": "Budi"},
                                           {"name": "message", "value": "Halo"}]})
            body = await resp.json()
            assert body["result"] is True and body["receivers"][0]["localMessageId"]
            await box.wait_for(lambda: any(e["eventType"] == "sentMessageDELIVERED_v2"
                                           for e in rec.events))
        assert all(q == "token=s3cret" for q in rec.queries)
        assert box.sent[-1]["text"].startswith("Halo Budi, ada pesan untuk Anda")
        # A patient's message reaches the app as Wati's payload.
        await box.inject(WA, text="halo", name="Budi")
        message = next(e for e in rec.events if e.get("eventType") == "message")
        assert message["waId"] == WA and message["owner"] is False
        assert message["whatsappMessageId"].startswith("wamid.")
        assert any(e["eventType"] == "newContactMessageReceived" for e in rec.events)
    finally:
        await box.stop()


async def test_chat_page_is_served(sandbox: WatiSandbox) -> None:
    async with aiohttp.ClientSession() as http:
        page = await http.get(sandbox.url + "/")
        assert page.status == 200 and "WhatsApp sandbox" in await page.text()
        bad = await http.post(sandbox.url + "/_sandbox/api/send", json={"wa_id": "12"})
        assert bad.status == 400


async def test_embedded_default_starts_the_sandbox_and_sends_there(
        aiohttp_client: Any, fake_rasa: FakeRasa, sync_store: MongoStore, redis_ns: str) -> None:
    settings = bot_settings(sandbox=None, rasa_url=fake_rasa.url, namespace=redis_ns,
                            wati_sandbox_port=0, roles="bot,scheduler")
    assert settings.wati_api_url is None
    client = await aiohttp_client(create_app(settings, store=sync_store))
    app = client.server.app
    rt = app[RUNTIME]
    box: WatiSandbox = rt.sandbox
    assert box is not None and rt.wati.base_url == box.url
    box.webhook_url = str(client.make_url(
        f"/whatsapp/webhook?token={settings.wati_webhook_token.get_secret_value()}"))
    await box.inject(WA, text="halo", name="Budi")
    await box.wait_for(lambda: box.sent_to(WA))
    await rt.inbox.idle()  # the turn is over (its privacy notice sent too)
    assert box.sent_to(WA)[0]["text"] == "echo: halo"
    # The process's dispatcher (the scheduler's) sends there too.
    dispatcher = app[NOTIFIER].dispatcher
    assert app[NOTIFIER].wati.base_url == box.url
    sync_store.enqueue([OutboxEntry(kind=Kind.manual, dedupe_key="manual:e1", to=WA,
                                    text="Halo dari klinik").to_doc()])
    assert await dispatcher.run_once() == 1
    assert box.sent_to(WA)[-1]["text"] == "Halo dari klinik"
