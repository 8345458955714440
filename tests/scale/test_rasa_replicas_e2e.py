"""Conversation state that survives: two real Rasa replicas keep their trackers in Redis.
A patient whose replica is killed in the middle of the booking form continues on the other
replica and books; a patient whose replica restarts mid-form continues the same form after
the restart. Real Rasa, real model, real webhook, the local Wati sandbox."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.main import create_app
from booking.models import BookingStatus
from booking.store import MongoStore
from bot.rasa_bridge import ranked
from bot.setup import RUNTIME, BotRuntime
from sandbox import WatiSandbox
from tests.bot.conftest import bot_settings
from tests.bot.test_e2e_rasa import AFFIRM
from tests.conftest import REDIS_TEST_URL
from tests.rasa.server import TEST_ACTIONS_TOKEN, RasaServer, free_port, start_rasa

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(1500)]


@dataclass
class Cluster:
    rt: BotRuntime
    sandbox: WatiSandbox
    store: MongoStore
    replicas: list[RasaServer]
    model: Path
    prefix: str
    action_port: int

    def restart(self, index: int) -> None:
        old = self.replicas[index]
        old.stop()
        self.replicas[index] = start_rasa(
            self.model, f"http://127.0.0.1:{self.action_port}/webhook/actions",
            port=old.port, redis_url=REDIS_TEST_URL, tracker_prefix=self.prefix)


@pytest.fixture
async def cluster(aiohttp_server: Any, sandbox: WatiSandbox, rasa_model: Path,
                  sync_store: MongoStore, redis_ns: str) -> AsyncIterator[Cluster]:
    action_port = free_port()
    prefix = f"testrasa{uuid.uuid4().hex[:8]}"
    action_url = f"http://127.0.0.1:{action_port}/webhook/actions"
    started = await asyncio.gather(*(asyncio.to_thread(
        start_rasa, rasa_model, action_url, redis_url=REDIS_TEST_URL, tracker_prefix=prefix)
        for _ in range(2)), return_exceptions=True)
    replicas = [r for r in started if isinstance(r, RasaServer)]
    failed = [r for r in started if isinstance(r, BaseException)]
    if failed:  # never leave the replica that did start running
        for replica in replicas:
            replica.stop()
        raise failed[0]
    try:
        settings = bot_settings(sandbox=sandbox, rasa_url=replicas[0].url, namespace=redis_ns,
                                roles="bot,actions", load_demo_data=True,
                                actions_port=action_port, actions_token=TEST_ACTIONS_TOKEN,
                                rasa_token=replicas[0].auth_token,
                                rasa_urls=",".join(r.url for r in replicas))
        server = await aiohttp_server(create_app(settings, store=sync_store))
        sandbox.webhook_url = str(server.make_url(
            f"/whatsapp/webhook?token={settings.wati_webhook_token.get_secret_value()}"))
        yield Cluster(server.app[RUNTIME], sandbox, sync_store, replicas,
                      rasa_model, prefix, action_port)
    finally:  # the list the cluster holds: a restarted replica replaces its old entry
        for replica in replicas:
            replica.stop()


async def say(c: Cluster, wa: str, text: str | None = None, *, kind: str = "text",
              title: str | None = None) -> list[dict[str, Any]]:
    before = len(c.sandbox.sent_to(wa))
    await c.sandbox.inject(wa, text=text, name="Budi Santoso", kind=kind, title=title)
    await c.rt.inbox.idle(120)
    return c.sandbox.sent_to(wa)[before:]


def choice_of(replies: list[dict[str, Any]]) -> tuple[str, str]:
    """What a cooperative patient taps next: a confirmation if offered, else the first."""
    for reply in reversed(replies):
        if reply["op"] in ("buttons", "list"):
            titles = reply["buttons"] if reply["op"] == "buttons" else \
                [r["title"] for r in reply["rows"]]
            kind = "button" if reply["op"] == "buttons" else "list"
            return kind, next((t for t in titles if t.lower() in AFFIRM), titles[0])
    raise AssertionError(f"nothing to tap in {[r.get('text') for r in replies]}")


def booked(c: Cluster, wa: str) -> Any:
    user = c.store.find_user(whatsapp=wa)
    found = c.store.find_bookings(patient_id=user.id)[0] if user else []
    return next((b for b in found if b.status == BookingStatus.confirmed), None)


async def finish_booking(c: Cluster, wa: str, replies: list[dict[str, Any]]) -> None:
    for _ in range(8):
        if booked(c, wa):
            return
        kind, title = choice_of(replies)
        replies = await say(c, wa, kind=kind, title=title)
    assert booked(c, wa), [r.get("text") for r in c.sandbox.sent_to(wa)]


def patient_of(urls: list[str], replica: str) -> str:
    return next(wa for wa in (f"6281388{i:06d}" for i in range(10_000))
                if ranked(urls, wa)[0] == replica)


async def test_replica_killed_mid_form_and_a_replica_restarted_mid_form(
        cluster: Cluster) -> None:
    urls = [r.url for r in cluster.replicas]
    first, second = patient_of(urls, urls[0]), patient_of(urls, urls[1])
    opening = "mau booking dokter umum di Jakarta besok"
    started = {wa: await say(cluster, wa, opening) for wa in (first, second)}
    for wa, replies in started.items():  # both are inside the booking form now
        assert replies and any(r["op"] in ("buttons", "list") for r in replies), replies

    # 1. the first patient's replica dies: the other replica continues their form
    cluster.replicas[0].process.kill()
    cluster.replicas[0].process.wait(30)
    await finish_booking(cluster, first, started[first])
    assert booked(cluster, first).start is not None

    # 2. the second patient's replica restarts: the form continues after the restart
    await asyncio.to_thread(cluster.restart, 1)
    await finish_booking(cluster, second, started[second])
    texts = [r.get("text") or "" for r in cluster.sandbox.sent_to(second)]
    assert not any("mau booking" in t.lower() for t in texts)
