"""Fixtures for the assistant's tests: trackers for action unit tests, and the real Rasa server.

`rasa_model` / `rasa_server` (session scope) come from tests/rasa/server.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker

from tests.rasa.server import rasa_action_port, rasa_model, rasa_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text())
SENDER = "6281200000000"  # = patients[0].whatsapp in tests/conftest.py


def make_tracker(*, text: str = "", intent: str = "inform", entities: list[dict[str, Any]]
                 | None = None, slots: dict[str, Any] | None = None, sender: str = SENDER,
                 requested: str | None = None, active_loop: str | None = None,
                 metadata: dict[str, Any] | None = None,
                 events: list[dict[str, Any]] | None = None) -> Tracker:
    """A rasa_sdk Tracker as the executor builds it: all domain slots, the latest message."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.98},
              "entities": list(entities or []), "metadata": metadata or {}}
    all_slots: dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots["language"] = "id"
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested
    history = events if events is not None else [
        {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}]
    return Tracker(sender, all_slots, latest, history, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


@pytest.fixture
def domain() -> dict[str, Any]:
    return DOMAIN
