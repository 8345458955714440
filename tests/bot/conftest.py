"""Fixtures of the gateway tests: the Wati sandbox, a small fake of Rasa's REST channel (a
stand-in for these tests only), a local SMTP server, and the app with the bot role."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from app.main import create_app
from app.settings import Settings
from booking.store import MongoStore
from bot.setup import RUNTIME, BotRuntime
from sandbox import WatiSandbox
from tests.conftest import REDIS_TEST_URL, drop_namespace

HOOK_TOKEN = "test-hook-secret-123"
API_TOKEN = "test-wati-token"
ADMIN_TOKEN = "test-admin-token-456"

Replier = Callable[[str, str], list[dict[str, Any]]]
_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$")


# The first-contact privacy notice (bot/privacy.py) follows the answer to a number's first
# message; tests about the other replies read the answers without it.
NOTICE_STARTS = ("ℹ️ Privasi:", "ℹ️ Privacy:")


def is_notice(message: dict[str, Any]) -> bool:
    return str(message.get("text") or "").startswith(NOTICE_STARTS)


def answers(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What was sent, less the privacy notice."""
    return [m for m in sent if not is_notice(m)]


def echo_replies(sender: str, message: str) -> list[dict[str, Any]]:
    return [{"recipient_id": sender, "text": f"echo: {message}"}]


@dataclass
class FakeRasa:
    """Rasa's REST channel and tracker endpoint, answering from a Python function."""

    replier: Replier = echo_replies
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    tracker_reads: int = 0
    forgotten: list[tuple[str, Any]] = field(default_factory=list)  # trackers emptied
    delay_s: float = 0.0
    gate: asyncio.Event | None = None  # when set (closed), requests wait until it opens
    url: str = ""
    runner: web.AppRunner | None = None

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append((body["sender"], body["message"], body.get("metadata") or {}))
        if self.gate is not None:
            await self.gate.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return web.json_response(self.replier(body["sender"], body["message"]))

    async def _tracker(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        self.tracker_reads += 1
        last = next((m for s, m, _ in reversed(self.calls) if s == sender), "")
        match = _PAYLOAD.match(last)
        if match:
            intent, entities_json = match.group(1), match.group(2)
            entities = [{"entity": k, "value": v}
                        for k, v in json.loads(entities_json or "{}").items()]
            confidence = 1.0
        elif "???" in last:
            intent, entities, confidence = "nlu_fallback", [], 0.3
        else:
            intent, entities, confidence = "greet", [], 0.91
        return web.json_response({
            "sender_id": sender, "slots": {"language": None},
            "latest_message": {"text": last, "intent": {"name": intent,
                                                        "confidence": confidence},
                               "entities": entities},
            "latest_action_name": "action_listen"})

    async def _replace_events(self, request: web.Request) -> web.Response:
        self.forgotten.append((request.match_info["sender"], await request.json()))
        return web.json_response({"sender_id": request.match_info["sender"], "events": []})

    async def start(self) -> FakeRasa:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        app.router.add_get("/conversations/{sender}/tracker", self._tracker)
        app.router.add_put("/conversations/{sender}/tracker/events", self._replace_events)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def messages_of(self, sender: str) -> list[str]:
        return [m for s, m, _ in self.calls if s == sender]


@pytest.fixture
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    rasa = await FakeRasa().start()
    yield rasa
    await rasa.stop()


@pytest.fixture
async def sandbox() -> AsyncIterator[WatiSandbox]:
    box = WatiSandbox(token=API_TOKEN)
    await box.start()
    yield box
    await box.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = False
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: Any) -> str:
        if self.refuse:
            return "451 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"


@dataclass
class Smtp:
    port: int
    box: Mailbox


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield Smtp(port, box)
    controller.stop()


@pytest.fixture
async def redis_ns(redis_namespace: str) -> AsyncIterator[str]:
    yield redis_namespace
    await drop_namespace(redis_namespace)


def bot_settings(*, sandbox: WatiSandbox | None, rasa_url: str, namespace: str,
                 smtp_port: int = 1, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        roles="bot", wati_api_url=sandbox.url if sandbox else None, wati_api_token=API_TOKEN,
        wati_webhook_token=HOOK_TOKEN, rasa_url=rasa_url, redis_url=REDIS_TEST_URL,
        redis_namespace=namespace, load_demo_data=False, smtp_port=smtp_port, smtp_tls="off",
        admin_token=ADMIN_TOKEN, outbox_max_attempts=3, wati_sandbox_port=0)
    values.update(overrides)
    return Settings(**values)


@dataclass
class BotApp:
    client: Any
    sandbox: WatiSandbox
    rasa: FakeRasa
    store: MongoStore

    @property
    def rt(self) -> BotRuntime:
        runtime: BotRuntime = self.client.server.app[RUNTIME]
        return runtime

    def hook_url(self, token: str = HOOK_TOKEN) -> str:
        return str(self.client.make_url(f"/whatsapp/webhook?token={token}"))

    async def post(self, payload: dict[str, Any], token: str = HOOK_TOKEN) -> Any:
        return await self.client.post(f"/whatsapp/webhook?token={token}", json=payload)

    async def settle(self, timeout: float = 20.0) -> None:
        await self.rt.inbox.idle(timeout)


@pytest.fixture
async def bot_app(aiohttp_client: Any, sandbox: WatiSandbox, fake_rasa: FakeRasa,
                  sync_store: MongoStore, redis_ns: str, smtp: Smtp) -> AsyncIterator[BotApp]:
    settings = bot_settings(sandbox=sandbox, rasa_url=fake_rasa.url, namespace=redis_ns,
                            smtp_port=smtp.port)
    client = await aiohttp_client(create_app(settings, store=sync_store))
    app = BotApp(client, sandbox, fake_rasa, sync_store)
    sandbox.webhook_url = app.hook_url()
    yield app
