"""The NLU inbox: fed from chat logs (masked, grouped, most frequent first), label checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from booking.models import User
from booking.store import MongoStore, Store
from bot.retrain.inbox import (
    InboxFeeder,
    Knowledge,
    LabelRejected,
    check_label,
    choose_group,
    render_labelled,
    training_examples,
)
from bot.retrain.nlu_yaml import read_blocks
from tests.retrain.tiny import write_project

KEY = b"k" * 32
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def msg(wa: str, text: str, seconds: float, intent: str, conf: float, **kw: Any
        ) -> dict[str, Any]:
    return {"_id": f"{wa}-{seconds}", "wa_id": wa, "direction": "in", "text": text,
            "type": "text", "intent": intent, "confidence": conf, "entities": [],
            "message_id": f"wamid.{wa}.{seconds}", "at": NOW + timedelta(seconds=seconds),
            "latency_ms": None, "fallback": False, "handoff": False, "language": "en", **kw}


async def feed(store: Store, sync_store: MongoStore, docs: list[dict[str, Any]]) -> None:
    feeder = InboxFeeder(store, KEY)
    for d in docs:  # as the gateway does: log the message, then look at the sender
        sync_store.chat_logs.insert_one(d)
        await feeder.observe(d["wa_id"], d["at"])


async def test_inbox_is_fed_masked_grouped_most_frequent_first(
        store: Store, sync_store: MongoStore) -> None:
    sync_store.insert_user(User(id="u1", name="Budi Santoso", whatsapp="6281200000011"))
    await store.ensure_indexes()
    await feed(store, sync_store, [
        # fallback, then a correction right after the reply (the first is "rephrased")
        msg("6281200000011", "saya Budi mau cek jadwal", 0, "greet", 0.7),
        msg("6281200000011", "mau cek jadwal dokter", 30, "book", 0.95),
        msg("6281200000066", "i want to book a doctor", 35, "nlu_fallback", 0.2,
            fallback=True),
        msg("6281200000022", "i want to book a doctor!!", 40, "nlu_fallback", 0.25,
            fallback=True),
        msg("6281200000033", "i want to bok a doctor", 50, "book", 0.4),
        # confident and not corrected: not in the inbox
        msg("6281200000044", "terima kasih", 60, "thank", 0.99),
        # a conversation that ends in a handoff: the messages before it too
        msg("6281200000055", "call me 081234567890", 70, "greet", 0.95),
        msg("6281200000055", "I need a human", 80, "human_handoff", 0.97, handoff=True),
    ])
    groups, total = await store.nlu_inbox.list_groups()
    texts = [g["text"] for g in groups]
    assert total == len(groups) == 3, texts
    top = groups[0]
    assert top["text"] == "i want to book a doctor" and top["count"] == 3
    assert set(top["variants"]) == {"i want to book a doctor!!", "i want to bok a doctor"}
    assert top["intents"] == {"nlu_fallback": 2, "book": 1}
    assert top["reasons"]["fallback"] == 2 and top["reasons"]["low_confidence"] == 3
    assert len(top["senders"]) == 3 and "6281200000011" not in top["senders"]
    # PII masked before storage; the rephrased message counts once
    assert "saya <NAME> mau cek jadwal" in texts and "call me <PHONE>" in texts
    rest = {g["text"]: g for g in groups[1:]}
    assert rest["saya <NAME> mau cek jadwal"]["reasons"] == {"rephrased": 1}
    assert rest["call me <PHONE>"]["reasons"] == {"handoff": 1}
    assert not any("Budi" in str(g) or "0812" in str(g) for g in groups)
    # feeding the same messages again counts nothing twice
    feeder = InboxFeeder(store, KEY)
    assert await feeder.observe("6281200000011", NOW + timedelta(seconds=31)) == 0
    again, _ = await store.nlu_inbox.list_groups()
    assert [g["count"] for g in again] == [g["count"] for g in groups]


async def test_a_long_conversation_counts_each_message_once_and_masks_only_new_ones(
        store: Store, sync_store: MongoStore, monkeypatch: pytest.MonkeyPatch) -> None:
    await store.ensure_indexes()
    loads: list[list[str]] = []
    masking_context = store.retrain.masking_context

    async def counted(wa_ids: list[str]) -> dict[str, list[str]]:
        loads.append(wa_ids)
        return await masking_context(wa_ids)

    monkeypatch.setattr(store.retrain, "masking_context", counted)
    wa = "6281200000077"
    unsure = msg(wa, "bisa minta jadwal dokter gigi", 0, "book", 0.3)
    # later than a rephrase would be, each unlike the others
    confident = [msg(wa, text, 200 + 10 * i, "inform", 0.99) for i, text in enumerate(
        ["di jakarta", "besok pagi", "yang pertama", "nama saya siti", "ya benar",
         "oke makasih"])]
    await feed(store, sync_store, [unsure, *confident,
                                   msg(wa, "mau bicara dengan orang", 270, "human_handoff",
                                       0.97, handoff=True)])
    groups, _ = await store.nlu_inbox.list_groups()
    counted_texts = {g["text"]: g["reasons"] for g in groups}
    # the unsure one once; the three before the handoff; nothing in between, the handoff
    # itself not (it was understood)
    assert counted_texts == {"bisa minta jadwal dokter gigi": {"low_confidence": 1},
                             "nama saya <NAME>": {"handoff": 1}, "ya benar": {"handoff": 1},
                             "oke makasih": {"handoff": 1}}
    # the masking context was loaded for the two turns that added something, not for the
    # turns that found the unsure message again
    assert loads == [[wa], [wa]]


def test_choose_group_same_text_first_then_similar() -> None:
    reps = [("a", "mau booking dokter gigi"), ("b", "batal janji")]
    assert choose_group("batal janji", reps) == "b"
    assert choose_group("mau booking dokter gigii", reps) == "a"
    assert choose_group("jam buka klinik", reps) is None


@pytest.fixture
def know(tmp_path: Path) -> Knowledge:
    root = write_project(tmp_path / "assistant")
    return Knowledge.load(root / "domain.yml", [root / "nlu"], root / "tests/nlu_test_set.yml")


GROUP = {"_id": "g1", "text": "book a doctor in medan please", "variants": ["book doc medan"]}


def test_label_with_entity_span(know: Knowledge) -> None:
    label = check_label(GROUP, {"intent": "book", "entities": [
        {"start": 17, "end": 22, "entity": "city"}]}, know)
    assert label["example"] == "book a doctor in [medan](city) please"
    syn = check_label(GROUP, {"intent": "book", "entities": [
        {"start": 17, "end": 22, "entity": "city", "value": "Medan"}]}, know)
    assert syn["example"] == 'book a doctor in [medan]{"entity": "city", "value": "Medan"} please'
    assert check_label(GROUP, {"ignore": True}, know) == {"ignore": True}


@pytest.mark.parametrize("body, why", [
    ({"intent": "nope"}, "unknown intent"),
    ({"intent": "book", "entities": [{"start": 17, "end": 22, "entity": "doctor"}]}, "entity"),
    ({"intent": "book", "entities": [{"start": 16, "end": 22, "entity": "city"}]}, "space"),
    ({"intent": "book", "entities": [{"start": 20, "end": 99, "entity": "city"}]}, "outside"),
    ({"intent": "book", "entities": [{"start": True, "end": 22, "entity": "city"}]}, "integer"),
    ({"intent": "book", "entities": [{"start": "17", "end": 22, "entity": "city"}]}, "integer"),
    ({"intent": "book", "entities": [{"start": 17, "end": 22, "entity": "city"},
                                     {"start": 19, "end": 21, "entity": "city"}]}, "overlap"),
    ({"intent": "book", "entities": [{"start": 17, "end": 22, "entity": "city",
                                      "$where": 1}]}, "must be {start"),
    ({"intent": {"$ne": 1}}, "intent"),
    ({"intent": "book", "entities": "city"}, "list"),
    ({"intent": "book", "extra": 1}, "expected"),
    ({"ignore": True, "intent": "book"}, "ignore"),
    (["book"], "object"),
])
def test_bad_labels_are_refused(know: Knowledge, body: Any, why: str) -> None:
    with pytest.raises(LabelRejected, match=why):
        check_label(GROUP, body, know)


def test_labels_that_would_hurt_the_data_are_refused(know: Knowledge) -> None:
    with pytest.raises(LabelRejected, match="held-out"):
        check_label({"text": "thank you"}, {"intent": "thank"}, know)
    with pytest.raises(LabelRejected, match="conflicts"):
        check_label({"text": "halo"}, {"intent": "book"}, know)


def test_training_examples_from_labelled_groups(know: Knowledge, tmp_path: Path) -> None:
    groups = [
        {"label": {"intent": "book", "entities": [{"start": 17, "end": 22, "entity": "city"}],
                   "example": "book a doctor in [medan](city) please"},
         "variants": ["book doc medan"]},
        {"label": {"intent": "cancel", "entities": [], "example": "cancel it pls"},
         "variants": ["cancel it plz", "thank you"]},   # a test-set text: left out
        {"label": {"ignore": True}},
    ]
    examples, notes = training_examples(groups, know)
    assert examples == {"book": ["book a doctor in [medan](city) please"],
                        "cancel": ["cancel it pls", "cancel it plz"]}
    assert len(notes) == 1 and "held-out" in notes[0]
    path = tmp_path / "labelled.yml"
    path.write_text(render_labelled(examples))
    assert dict(read_blocks(path)) == examples
