"""rasa_env/launch.py: the cached validator accepts and rejects exactly what Rasa's own
`jsonschema.validate` does, with the same error message, and builds the validator once."""

from __future__ import annotations

import json
import subprocess

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


def test_same_verdicts_and_messages_as_rasa_with_one_schema_check() -> None:
    proc = subprocess.run(  # noqa: S603
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", PROBE], cwd=ROOT,
        input=json.dumps(ANSWERS), capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["after"] == result["before"]
    verdicts = [kind for kind, _ in result["after"]]
    assert verdicts[:4] == ["ok"] * 4
    assert verdicts[4:] == ["error"] * 5
    assert all("Failed to validate Action server response" in msg
               for kind, msg in result["after"] if kind == "error")
    assert result["schema_checks"] == 1  # built once, not once per answer
