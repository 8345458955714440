"""Shared plumbing for the actions: the service, the conversation's language, the latest message."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import context
from actions.formatting import lang_of
from booking.service import BookingService

# Slots a flow fills; cleared when a flow ends or is abandoned (language, city and the
# patient's name survive).
FLOW_SLOTS = ("specialty", "doctor_name", "booking_ref", "doctor_id", "appt_date", "time_pref",
              "slot_start", "booking_confirmed", "target_booking", "cancel_confirmed",
              "reschedule_confirmed", "offered", "result_ref", "date_pref", "confirm_tries")


@dataclass(frozen=True, slots=True)
class Message:
    """What the latest user message says, as the actions need it."""

    text: str
    intent: str
    entities: list[dict[str, Any]]

    @classmethod
    def of(cls, tracker: Tracker) -> Message:
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name") or ""
        return cls(text=(latest.get("text") or "").strip(), intent=intent,
                   entities=list(latest.get("entities") or []))

    def entity(self, name: str) -> str | None:
        for ent in self.entities:
            if ent.get("entity") == name and ent.get("value") not in (None, ""):
                return str(ent["value"])
        return None

    def values(self, name: str) -> list[str]:
        """Every value of an entity: DIET sometimes tags a second, wrong span ("Dec" as a
        city or a name after the real one), so callers take the first that resolves."""
        return [str(e["value"]) for e in self.entities
                if e.get("entity") == name and e.get("value") not in (None, "")]

    @property
    def typed(self) -> str:
        """The text, or '' when it was a button payload (/intent{...})."""
        return "" if self.text.startswith("/") else self.text


def language(tracker: Tracker) -> str:
    return lang_of(tracker.get_slot("language"))


class ServiceAction(Action, ABC):
    """An action backed by the booking service (injected in tests, installed in the app)."""

    def __init__(self, service: BookingService | None = None) -> None:
        self._service = service

    @property
    def service(self) -> BookingService:
        return self._service or context.current()

    @abstractmethod
    def name(self) -> str:
        """The action's name in domain.yml."""

    @abstractmethod
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        """Run the action."""
