"""The turn report: what the gateway needs to know about a turn, sent inside the reply.

An action calls `report(dispatcher, ...)`; Rasa's REST channel returns it among the bot's
messages as `{"custom": {"klinik_turn": {...}}}`, and the gateway takes it out before it
renders the replies (bot/rasa_bridge.py `split_turn`). So the gateway never reads the
tracker after a reply (a second Rasa call per message, growing with the conversation).

Fields: intent, confidence, entities, language (from `action_validate_slot_mappings`, which
runs after every patient message), handoff / fallback (True when that action ran), refs
(booking codes the turn booked, cancelled or moved: the outbox matches its confirmation to
the chat reply by these, not by searching message texts)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

TURN_KEY = "klinik_turn"  # bot/rasa_bridge.py reads the same key (tests/bot checks both)
ENTITY_FIELDS = ("entity", "value", "start", "end", "extractor", "confidence_entity", "role",
                 "group")


def report(dispatcher: CollectingDispatcher, **fields: Any) -> None:
    dispatcher.utter_message(json_message={TURN_KEY: fields})


def understood(tracker: Tracker) -> dict[str, Any]:
    """Intent, confidence and entities of the patient's latest message."""
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    confidence = intent.get("confidence")
    return {
        "intent": intent.get("name"),
        "confidence": float(confidence) if confidence is not None else None,
        "entities": [{k: e[k] for k in ENTITY_FIELDS if k in e}
                     for e in latest.get("entities") or [] if isinstance(e, dict)],
    }
