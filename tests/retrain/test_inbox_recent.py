"""The NLU inbox feeder's rows held from the previous turn (bot/retrain/recent.py): the
inbox comes out exactly as when every turn reads the store back, and the store is read
only when the rows held cannot be the sender's latest."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.store import MongoStore, Store
from bot.retrain.inbox import InboxFeeder
from bot.retrain.recent import RecentInbound, stored_time

KEY = b"k" * 32
NOW = datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC)  # microseconds: the store keeps ms
TEXTS = ["mau booking dokter gigi", "dokter gigi di bandung", "besok pagi bisa?",
         "jam buka klinik", "saya mau batal", "bisa pakai bpjs", "halo", "ok makasih",
         "mau ke dokter anak", "dokter anak di medan", "yang jam 9", "mau bicara orang"]
INTENTS = ["book", "inform", "greet", "faq", "cancel", "nlu_fallback", "human_handoff"]


def conversation(seed: int) -> list[tuple[str, dict[str, Any], bool]]:
    """(sender, chat-log row, seen by this process's feeder) for three senders: unsure,
    rephrased and handed-off messages, gaps longer than the review window, and messages
    that reach the log without this feeder seeing them (another replica's turn)."""
    rng = random.Random(seed)
    clock = {wa: NOW for wa in ("628120000101", "628120000102", "628120000103")}
    out = []
    for n in range(90):
        wa = rng.choice(sorted(clock))
        gap = rng.choice([3.5, 20.25, 61.0, 130.0, 700.0]) if n else 0.0
        clock[wa] += timedelta(seconds=gap, microseconds=rng.randrange(1000))
        intent = rng.choice(INTENTS)
        row = {"_id": f"m{seed}-{n}", "wa_id": wa, "direction": "in",
               "text": rng.choice(TEXTS), "type": rng.choice(["text"] * 6 + ["button"]),
               "intent": intent, "confidence": round(rng.uniform(0.2, 1.0), 3),
               "entities": [], "message_id": f"wamid.{n}", "at": clock[wa],
               "latency_ms": None, "fallback": intent == "nlu_fallback",
               "handoff": intent == "human_handoff" or rng.random() < 0.05,
               "language": "id"}
        out.append((wa, row, rng.random() > 0.15))
    return out


def inbox_of(ms: MongoStore) -> list[tuple[Any, ...]]:
    return sorted((g["text"], g["count"], sorted(g["reasons"].items()), sorted(g["intents"]))
                  for g in ms.db["nlu_inbox"].find({}))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_held_rows_give_the_inbox_of_reading_every_turn(
        store: Store, sync_store: MongoStore, monkeypatch: pytest.MonkeyPatch,
        seed: int) -> None:
    oracle_ms = MongoStore.from_url(None)
    oracle = Store(oracle_ms)
    for s in (store, oracle):
        await s.ensure_indexes()
    held, reading = InboxFeeder(store, KEY), InboxFeeder(oracle, KEY)
    reads: list[str] = []
    recent_inbound = store.retrain.recent_inbound

    async def counted(wa_id: str, since: datetime, limit: int) -> list[dict[str, Any]]:
        reads.append(wa_id)
        return await recent_inbound(wa_id, since, limit)

    monkeypatch.setattr(store.retrain, "recent_inbound", counted)
    last_inbound: dict[str, datetime] = {}  # the contact's, as touch_inbound returns it
    observed = hits_possible = 0
    for wa, row, seen_here in conversation(seed):
        previous_at = last_inbound.get(wa)
        last_inbound[wa] = stored_time(row["at"])
        sync_store.chat_logs.insert_one(dict(row))
        oracle_ms.chat_logs.insert_one(dict(row))
        if not seen_here:
            continue
        hits_possible += held.recent.rows_with(wa, row, previous_at, row["at"]) is not None
        await held.observe(wa, row["at"], latest=row, previous_at=previous_at)
        await reading.observe(wa, row["at"])
        observed += 1
    assert inbox_of(sync_store) == inbox_of(oracle_ms) != []
    # the store was read only where the rows held could not be the latest
    assert len(reads) == observed - hits_possible
    assert 0 < hits_possible < observed
    oracle_ms.close()


def rows(wa: str, *seconds: float) -> list[dict[str, Any]]:
    return [{"_id": f"{wa}-{s}", "wa_id": wa, "at": stored_time(NOW + timedelta(seconds=s)),
             "text": "x"} for s in seconds]


def test_a_message_in_between_sends_the_feeder_to_the_store() -> None:
    recent = RecentInbound(keep=4, window=timedelta(minutes=10))
    wa = "628120000201"
    recent.remember(wa, rows(wa, 0, 10), NOW + timedelta(seconds=10))
    latest = {**rows(wa, 20)[0], "at": NOW + timedelta(seconds=20)}
    got = recent.rows_with(wa, latest, NOW + timedelta(seconds=10), latest["at"])
    assert got is not None and [r["_id"] for r in got] == [f"{wa}-0", f"{wa}-10", f"{wa}-20"]
    assert got[-1]["at"] == stored_time(latest["at"])  # as the store gives it back
    # the contact's last message is not the last one held: something came in between
    assert recent.rows_with(wa, latest, NOW + timedelta(seconds=15), latest["at"]) is None
    assert recent.rows_with(wa, latest, None, latest["at"]) is None  # a new contact
    assert recent.rows_with("628120000299", latest, NOW, latest["at"]) is None


def test_held_rows_are_bounded_and_forgotten() -> None:
    recent = RecentInbound(keep=2, window=timedelta(minutes=10), max_senders=2)
    a, b, c = "628120000301", "628120000302", "628120000303"
    recent.remember(a, rows(a, 0, 1, 2), NOW + timedelta(seconds=2))
    got = recent.rows_with(a, rows(a, 3)[0], NOW + timedelta(seconds=2),
                           NOW + timedelta(seconds=3))
    assert got is not None and len(got) == 2  # at most `keep`, the newest
    recent.remember(b, rows(b, 5), NOW + timedelta(seconds=5))
    recent.remember(c, rows(c, 6), NOW + timedelta(seconds=6))
    assert len(recent) == 2  # the least recently used sender went first
    assert recent.rows_with(a, rows(a, 7)[0], NOW + timedelta(seconds=2), NOW) is None
    recent.forget(b)  # an erased number
    assert recent.rows_with(b, rows(b, 8)[0], NOW + timedelta(seconds=5), NOW) is None
    # a sender quiet for longer than the window is dropped when anyone writes
    recent.remember(a, rows(a, 700), NOW + timedelta(seconds=700))
    assert len(recent) == 1
    assert recent.rows_with(c, rows(c, 701)[0], NOW + timedelta(seconds=6),
                            NOW + timedelta(seconds=701)) is None
