"""The assistant data: generated entities, intent coverage, training-data rules, wiring."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from actions.endpoint import build_executor
from booking import nlu_data
from booking.catalog import CITIES, SPECIALTIES

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text())
MAIN_INTENTS = {"search_doctor", "check_availability", "book_appointment", "cancel_appointment",
                "reschedule_appointment", "list_appointments", "inform"}
FIXED_INTENTS = {"greet", "goodbye", "affirm", "deny", "thank", "bot_challenge", "out_of_scope",
                 "search_doctor", "check_availability", "book_appointment", "cancel_appointment",
                 "reschedule_appointment", "list_appointments", "human_handoff", "inform", "faq"}
FAQ_KEYS = {"opening_hours", "location", "price", "insurance", "how_to_book"}


def examples(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for block in yaml.safe_load(path.read_text())["nlu"]:
        if "intent" in block:
            lines = [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]
            out.setdefault(block["intent"], []).extend(lines)
    return out


def plain(example: str) -> str:
    return re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", example).strip().lower()


def training() -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for path in sorted((ROOT / "nlu").glob("*.yml")):
        for intent, items in examples(path).items():
            merged.setdefault(intent, []).extend(items)
    return merged


def test_generated_entity_data_is_current() -> None:
    committed = (ROOT / "nlu" / "generated_entities.yml").read_text()
    assert committed == nlu_data.render(), "run: .venv/bin/python -m booking.nlu_data"


def test_generated_data_covers_the_catalog() -> None:
    data = yaml.safe_load(nlu_data.render())["nlu"]
    synonyms = {b["synonym"]: b["examples"] for b in data if "synonym" in b}
    assert {s.code for s in SPECIALTIES} | {c.name for c in CITIES} <= set(synonyms)
    assert "- drg" in synonyms["dentistry"] and "- spog" in synonyms["obstetrics_gynecology"]
    assert "- jogja" in synonyms["Yogyakarta"] and "- dps" in synonyms["Denpasar"]
    assert "- tht" in synonyms["ent"] and "- bdg" in synonyms["Bandung"]
    lookups = {b["lookup"] for b in data if "lookup" in b}
    assert lookups == {"specialty", "city"}


def test_intents_are_exactly_the_fixed_names() -> None:
    assert set(DOMAIN["intents"]) == FIXED_INTENTS
    faq = {i.split("/", 1)[1] for i in training() if i.startswith("faq/")}
    assert faq == FAQ_KEYS
    assert set(DOMAIN["entities"]) >= {"specialty", "city", "doctor_name", "booking_ref"}


def test_every_intent_is_used_in_a_story_or_rule() -> None:
    used: set[str] = set()
    for path in (ROOT / "dialogue").glob("*.yml"):
        data = yaml.safe_load(path.read_text())
        for item in data.get("stories", []) + data.get("rules", []):
            used |= {step["intent"] for step in item["steps"] if "intent" in step}
    assert set(DOMAIN["intents"]) - used == set()


def test_training_data_size_and_no_duplicates() -> None:
    data = training()
    for intent, items in data.items():
        base = intent.split("/")[0]
        minimum = 40 if base in MAIN_INTENTS else 15
        assert len(items) >= minimum, f"{intent}: {len(items)} < {minimum}"
    counts = Counter(plain(e) for items in data.values() for e in items)
    assert [e for e, n in counts.items() if n > 1] == []


def test_held_out_set_is_separate_and_large_enough() -> None:
    test = examples(ROOT / "tests" / "rasa" / "nlu_test_set.yml")
    assert sum(len(v) for v in test.values()) >= 150
    trained = {plain(e) for items in training().values() for e in items}
    assert [e for items in test.values() for e in items if plain(e) in trained] == []
    assert set(test) == set(training())  # every intent (and FAQ key) is tested


def test_every_domain_action_is_implemented() -> None:
    registered = set(build_executor().actions)
    assert set(DOMAIN["actions"]) == registered


def test_responses_used_by_actions_exist() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "actions").glob("*.py"))
    used = set(re.findall(r'"(utter_[a-z_]+)"', source))
    assert used and used <= set(DOMAIN["responses"])


def test_domain_buttons_fit_whatsapp() -> None:
    for name, variants in DOMAIN["responses"].items():
        for variant in variants:
            buttons = variant.get("buttons") or []
            limit = 20 if len(buttons) <= 3 else 24
            assert len(buttons) <= 10, name
            for button in buttons:
                assert len(button["title"]) <= limit, (name, button["title"])


def test_every_response_has_an_english_variant() -> None:
    for name, variants in DOMAIN["responses"].items():
        conditions = [v.get("condition") for v in variants]
        assert None in conditions, f"{name}: no Indonesian default"
        assert [{"type": "slot", "name": "language", "value": "en"}] in conditions, name
