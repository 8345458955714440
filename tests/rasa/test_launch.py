"""rasa_env/launch.py: the cached validator accepts and rejects exactly what Rasa's own
`jsonschema.validate` does, with the same error message, and builds the validator once;
the event-type table resolves every name as Rasa's walk does, walking once; the FAQ-only
ResponseSelector gives Rasa's answer on FAQ messages and only skips the others."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.rasa.server import ROOT

pytestmark = pytest.mark.rasa

# Runs in the Rasa environment: each answer through Rasa's original method, then through
# the installed one; prints what each did.
PROBE = r"""
import json, sys
sys.path.insert(0, "rasa_env")
import jsonschema
from rasa.core.actions.action import RemoteAction
import launch

answers = json.loads(sys.stdin.read())
action = RemoteAction("action_x", None)

def outcome(fn, answer):
    try:
        return ["ok", fn(action, answer)]
    except jsonschema.ValidationError as exc:
        return ["error", exc.message]

original = RemoteAction._validate_action_result
before = [outcome(original, a) for a in answers]
launch.install()
calls = []
check = jsonschema.validators.Draft202012Validator.check_schema
def counted(schema):
    calls.append(1)
    return check(schema)
jsonschema.validators.Draft202012Validator.check_schema = staticmethod(counted)
after = [outcome(RemoteAction._validate_action_result, a) for a in answers]
print(json.dumps({"before": before, "after": after, "schema_checks": len(calls)}))
"""

ANSWERS = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "city", "value": "Bandung"}],
     "responses": [{"text": "halo", "buttons": [{"title": "Ya", "payload": "/affirm"}]}]},
    {"events": [{"event": "action_execution_rejected", "name": "booking_form"}]},
    {},
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},  # a slot event without its name
    {"responses": ["a string, not an object"]},
    [],
]


def run_probe(probe: str, data: object) -> dict[str, Any]:
    """Run a probe in the Rasa environment with `data` on stdin; its last line of output."""
    proc = subprocess.run(  # noqa: S603
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", probe], cwd=ROOT,
        input=json.dumps(data), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_same_verdicts_and_messages_as_rasa_with_one_schema_check() -> None:
    result = run_probe(PROBE, ANSWERS)
    assert result["after"] == result["before"]
    verdicts = [kind for kind, _ in result["after"]]
    assert verdicts[:4] == ["ok"] * 4
    assert verdicts[4:] == ["error"] * 5
    assert all("Failed to validate Action server response" in msg
               for kind, msg in result["after"] if kind == "error")
    assert result["schema_checks"] == 1  # built once, not once per answer


# Event types by name, before and after launch.install(): every Event subclass's name, the
# legacy "topic", an unknown name with and without a default; then a conversation's events
# rebuilt both ways. Counts the subclass walks the installed lookup makes.
EVENT_PROBE = r"""
import json, sys
sys.path.insert(0, "rasa_env")
import rasa.shared.utils.common as common
from rasa.shared.core.events import ActionExecuted, Event
import launch

events = json.loads(sys.stdin.read())
names = sorted({c.type_name for c in common.all_subclasses(Event)}) + ["topic", "no_such"]

def outcome(name, default=None):
    try:
        cls = Event.resolve_by_type(name, default)
        return ["ok", cls.__name__ if cls else None]
    except ValueError as exc:
        return ["error", str(exc)]

def lookups():
    return ([outcome(n) for n in names] + [outcome("no_such", ActionExecuted)],
            [Event.from_parameters(e).as_dict() for e in events])

before = lookups()
launch.install()
walks = []
walk = common.all_subclasses
def counted(cls):
    if cls is Event:  # the walk recurses through this name: count whole walks only
        walks.append(1)
    return walk(cls)
common.all_subclasses = counted
after = lookups()
print(json.dumps({"before": before, "after": after, "names": names, "walks": len(walks)}))
"""

EVENTS = [
    {"event": "action", "name": "action_session_start", "timestamp": 1.0},
    {"event": "session_started", "timestamp": 1.1, "metadata": {"senderName": "Budi"}},
    {"event": "user", "text": "mau booking dokter gigi", "timestamp": 2.0,
     "parse_data": {"intent": {"name": "book_appointment", "confidence": 0.9},
                    "entities": [{"entity": "specialty", "value": "dentist",
                                  "start": 14, "end": 24}]}},
    {"event": "slot", "name": "specialty", "value": "dentist", "timestamp": 2.1},
    {"event": "active_loop", "name": "booking_form", "timestamp": 2.2},
    {"event": "bot", "text": "Di kota mana?", "timestamp": 2.3, "data": {}},
    {"event": "action", "name": "action_listen", "timestamp": 2.4},
    {"event": "user_featurization", "use_text_for_featurization": False, "timestamp": 2.5},
    {"event": "followup", "name": "action_listen", "timestamp": 2.6},
    {"event": "restart", "timestamp": 3.0},
]


def test_event_types_resolve_as_in_rasa_with_one_subclass_walk() -> None:
    result = run_probe(EVENT_PROBE, EVENTS)
    assert result["after"] == result["before"]
    resolved, rebuilt = result["after"]
    assert len(result["names"]) > 20 and all(kind == "ok" for kind, _ in resolved[:-3])
    assert resolved[-3:] == [["ok", None],  # "topic": the legacy name Rasa ignores
                             ["error", "Unknown event name 'no_such'."],
                             ["ok", "ActionExecuted"]]  # an unknown name with a default
    assert [e["event"] for e in rebuilt] == [e["event"] for e in EVENTS]
    # one walk builds the table for every known name and the events; each of the 3
    # unknown lookups walks again to complete it (a subclass may have been imported) and
    # then asks Rasa's own method, which walks again
    assert result["walks"] == 1 + 3 * 2


# The project's model parses each message through Rasa's own ResponseSelector, then, loaded
# again after the install (a graph node keeps the method it found when it was built),
# through the installed one.
SELECTOR_PROBE = r"""
import asyncio, json, sys
sys.path.insert(0, "rasa_env")
from rasa.core.agent import load_agent
import launch

args = json.loads(sys.stdin.read())

async def parse(texts):
    agent = await load_agent(model_path=args["model"])
    return [await agent.parse_message(t) for t in texts]

async def main():
    before = await parse(args["texts"])
    launch.install_faq_only_selector()
    after = await parse(args["texts"])
    print(json.dumps({"before": before, "after": after}))
asyncio.run(main())
"""

MESSAGES = ["jam buka klinik sampai jam berapa?", "berapa biaya konsultasi dokter umum",
            "bisa pakai BPJS?", "what are your opening hours", "where is the clinic",
            "mau booking dokter gigi di bandung besok pagi", "halo", "terima kasih",
            "batalkan booking saya", "saya mau bicara dengan admin", "asdf qwerty"]


@pytest.mark.timeout(600)
def test_the_selector_answers_faq_messages_as_rasa_and_skips_the_rest(
        rasa_model: Path) -> None:
    result = run_probe(SELECTOR_PROBE, {"model": str(rasa_model), "texts": MESSAGES})
    faq = 0
    for before, after in zip(result["before"], result["after"], strict=True):
        selector = before.pop("response_selector")
        # DIET's intent, which the selector sees (FallbackClassifier may put nlu_fallback
        # on top later; the selector's answer is then not read either)
        diet = next(i["name"] for i in before["intent_ranking"] if i["name"] != "nlu_fallback")
        assert after.pop("response_selector") == (
            selector if diet == "faq"
            else {"all_retrieval_intents": selector["all_retrieval_intents"]})
        assert after == before  # intent, ranking, entities: untouched
        faq += before["intent"]["name"] == "faq"
    assert 3 <= faq < len(MESSAGES)   # both kinds of message were there
