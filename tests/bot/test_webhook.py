"""Webhook intake end to end on a real loopback app: auth, duplicates, echoes, types,
ordering, and a burst of 1,000 webhooks answered exactly once and in order."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from typing import Any

import pytest
from redis.asyncio import Redis

from tests.bot.conftest import HOOK_TOKEN, BotApp, answers, echo_replies, is_notice
from tests.conftest import REDIS_TEST_URL

WA = "6281234567890"


def payload(app: BotApp, text: str, wa: str = WA, **kw: Any) -> dict[str, Any]:
    return app.sandbox.inbound_payload(wa, text=text, name="Budi", **kw)


async def test_missing_or_wrong_token_is_refused_and_nothing_happens(
        bot_app: BotApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for token in ("", "wrong-token", HOOK_TOKEN + "x"):
        resp = await bot_app.post(payload(bot_app, "halo"), token=token)
        assert resp.status == 401
    resp = await bot_app.client.post("/whatsapp/webhook", json=payload(bot_app, "halo"))
    assert resp.status == 401
    await bot_app.settle()
    assert bot_app.rasa.calls == [] and bot_app.sandbox.sent == []
    assert bot_app.store.db["inbox"].count_documents({}) == 0
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot")]
    assert lines == ["webhook rejected: missing or wrong token"] * 4
    assert not any("wrong-token" in r.getMessage() for r in caplog.records)
    access = logging.getLogger("aiohttp.access")
    refused = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1,
                                '1.2.3.4 "POST /whatsapp/webhook?token=abc HTTP/1.1" 401 5',
                                None, None)
    accepted = logging.LogRecord("aiohttp.access", logging.INFO, __file__, 1,
                                 '1.2.3.4 "POST /whatsapp/webhook?token=abc HTTP/1.1" 200 5',
                                 None, None)
    assert not all(f.filter(refused) for f in access.filters)  # dropped: logged once above
    assert all(f.filter(accepted) for f in access.filters)
    assert "token=***" in accepted.getMessage() and "abc" not in accepted.getMessage()


async def test_a_retried_webhook_is_processed_once(bot_app: BotApp) -> None:
    body = payload(bot_app, "mau booking dokter anak")
    statuses = [(await (await bot_app.post(body)).json())["status"] for _ in range(3)]
    assert statuses == ["accepted", "duplicate", "duplicate"]
    await bot_app.settle()
    # Redis forgot (eviction, flush): the persisted inbox still knows the id.
    redis = Redis.from_url(REDIS_TEST_URL)
    await redis.delete(*[k async for k in redis.scan_iter(
        match=bot_app.rt.inbox.ns + "wa:seen:*")])
    await redis.aclose()
    assert (await (await bot_app.post(body)).json())["status"] == "duplicate"
    await bot_app.settle()
    assert bot_app.rasa.messages_of(WA) == ["mau booking dokter anak"]
    assert [s["text"] for s in answers(bot_app.sandbox.sent)] == \
        ["echo: mau booking dokter anak"]
    assert sum(map(is_notice, bot_app.sandbox.sent)) == 1  # the first contact's, once


async def test_echoes_of_our_own_messages_are_ignored(bot_app: BotApp) -> None:
    body = payload(bot_app, "Booking dikonfirmasi")
    body["owner"] = True
    resp = await bot_app.post(body)
    assert (await resp.json()) == {"status": "echo"}
    await bot_app.settle()
    assert bot_app.rasa.calls == [] and bot_app.sandbox.sent == []


async def test_malformed_bodies_get_200_and_are_ignored(bot_app: BotApp) -> None:
    resp = await bot_app.client.post(f"/whatsapp/webhook?token={HOOK_TOKEN}", data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert resp.status == 200 and (await resp.json()) == {"status": "ignored"}
    resp = await bot_app.post({"eventType": "message", "waId": 123})  # no message id
    assert (await resp.json()) == {"status": "ignore"}


@pytest.mark.parametrize("kind", ["image", "voice", "location", "sticker", "document"])
async def test_non_text_messages_get_a_polite_reply_in_the_patients_language(
        bot_app: BotApp, kind: str) -> None:
    await bot_app.post(payload(bot_app, "", kind=kind))
    await bot_app.settle()
    await bot_app.post(payload(bot_app, "hello, I would like to see a doctor"))
    await bot_app.post(payload(bot_app, "", kind=kind))
    await bot_app.settle()
    texts = [s["text"] for s in answers(bot_app.sandbox.sent)]
    assert texts[0].startswith("Maaf, saat ini kami hanya bisa membaca pesan teks")
    assert texts[2].startswith("Sorry, we can only read text messages")
    assert bot_app.rasa.messages_of(WA) == ["hello, I would like to see a doctor"]


async def test_reactions_are_logged_but_not_answered(bot_app: BotApp) -> None:
    await bot_app.post(payload(bot_app, "👍", kind="reaction"))
    await bot_app.settle()
    assert bot_app.sandbox.sent == [] and bot_app.rasa.calls == []
    logged = bot_app.store.chat_logs.find_one({"wa_id": WA})
    assert logged is not None and logged["type"] == "reaction"


async def test_new_contact_is_registered(bot_app: BotApp) -> None:
    resp = await bot_app.post({"eventType": "newContactMessageReceived", "id": "c1",
                               "waId": WA, "senderName": "Budi", "sourceType": 0})
    assert (await resp.json())["status"] == "accepted"
    await bot_app.settle()
    contact = bot_app.store.db["wa_contacts"].find_one({"_id": WA})
    assert contact is not None and contact["name"] == "Budi"


async def test_one_senders_messages_are_handled_in_arrival_order(bot_app: BotApp) -> None:
    rng = random.Random(7)

    def slow_replies(sender: str, message: str) -> list[dict[str, Any]]:
        return echo_replies(sender, message)

    bot_app.rasa.replier = slow_replies
    bot_app.rasa.delay_s = 0.02
    senders = [f"62812000{i:05d}" for i in range(5)]
    sent_order: dict[str, list[str]] = defaultdict(list)

    async def talk(wa: str) -> None:
        for n in range(6):
            text = f"{wa}-{n}"
            sent_order[wa].append(text)
            resp = await bot_app.post(payload(bot_app, text, wa=wa))
            assert resp.status == 200
            await asyncio.sleep(rng.random() / 500)

    await asyncio.gather(*(talk(wa) for wa in senders))
    await bot_app.settle()
    for wa in senders:
        assert bot_app.rasa.messages_of(wa) == sent_order[wa]
        assert [s["text"] for s in answers(bot_app.sandbox.sent_to(wa))] == \
            [f"echo: {t}" for t in sent_order[wa]]


@pytest.mark.timeout(600)  # 1,400 webhooks through the whole gateway: slow on a loaded machine
async def test_burst_of_1000_webhooks_from_100_senders(bot_app: BotApp) -> None:
    bot_app.sandbox.status_webhooks = False
    bot_app.sandbox.enforce_window = False
    senders = [f"6285700{i:06d}" for i in range(100)]
    bodies = {wa: [payload(bot_app, f"pesan {n} dari {wa}", wa=wa) for n in range(10)]
              for wa in senders}

    async def talk(wa: str) -> list[str]:
        outcomes = []
        for n, body in enumerate(bodies[wa]):
            resp = await bot_app.post(body)
            outcomes.append((await resp.json())["status"])
            if n % 3 == 0:  # Wati retries some deliveries
                outcomes.append((await (await bot_app.post(body)).json())["status"])
        return outcomes

    results = await asyncio.gather(*(talk(wa) for wa in senders))
    assert sum(r.count("accepted") for r in results) == 1000
    assert sum(r.count("duplicate") for r in results) == 400
    await bot_app.settle(timeout=60)
    assert len(answers(bot_app.sandbox.sent)) == 1000
    assert sum(map(is_notice, bot_app.sandbox.sent)) == 100  # one privacy notice a sender
    for wa in senders:
        expected = [f"pesan {n} dari {wa}" for n in range(10)]
        assert bot_app.rasa.messages_of(wa) == expected
        assert [s["text"] for s in answers(bot_app.sandbox.sent_to(wa))] == \
            [f"echo: {t}" for t in expected]
    assert bot_app.store.db["inbox"].count_documents({"status": "done"}) == 1000
    assert bot_app.store.chat_logs.count_documents({"direction": "out"}) == 1100  # + notices
