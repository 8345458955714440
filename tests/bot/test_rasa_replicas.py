"""Rasa replicas: each WhatsApp number sticks to one replica (rendezvous hashing), the load
spreads evenly, removing a replica moves only its own patients, and a replica that does
not answer hands its patients to their next replica."""

from __future__ import annotations

from collections import Counter

import aiohttp

from bot.rasa_bridge import RasaBridge, ranked
from tests.bot.conftest import FakeRasa

REPLICAS = [f"http://rasa-{i}:5005" for i in range(4)]
SENDERS = [f"62812{i:08d}" for i in range(4000)]


def test_each_patient_sticks_to_one_replica_and_load_spreads() -> None:
    first = {s: ranked(REPLICAS, s)[0] for s in SENDERS}
    assert first == {s: ranked(list(reversed(REPLICAS)), s)[0] for s in SENDERS}  # stable
    shares = Counter(first.values())
    assert set(shares) == set(REPLICAS)
    assert max(shares.values()) / min(shares.values()) < 1.2  # even within 20%


def test_removing_a_replica_moves_only_its_patients() -> None:
    before = {s: ranked(REPLICAS, s) for s in SENDERS}
    gone = REPLICAS[2]
    after = {s: ranked([r for r in REPLICAS if r != gone], s)[0] for s in SENDERS}
    moved = [s for s in SENDERS if before[s][0] != after[s]]
    assert moved and all(before[s][0] == gone for s in moved)
    assert all(after[s] == before[s][1] for s in moved)  # each to their own second choice


async def test_a_dead_replica_hands_its_patients_to_the_next() -> None:
    alive, dead = await FakeRasa().start(), await FakeRasa().start()
    dead_url = dead.url
    await dead.stop()  # nothing listens there any more
    urls = [alive.url, dead_url]
    sender = next(s for s in SENDERS if ranked(urls, s)[0] == dead_url)
    try:
        async with aiohttp.ClientSession() as session:
            bridge = RasaBridge(session, urls, token="t")
            replies = await bridge.send(sender, "halo", sender_name="Budi", message_id="m1")
            assert replies == [{"recipient_id": sender, "text": "echo: halo"}]
            assert alive.messages_of(sender) == ["halo"]
            understood = await bridge.understanding(sender)  # read where it was answered
            assert understood.intent == "greet"
    finally:
        await alive.stop()
