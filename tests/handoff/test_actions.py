"""The actions' side of the handoff: they ask the gateway for a person through
kv["handoff:<waId>"] (the intent, and the second misunderstanding in a row, not the first)."""

from __future__ import annotations

from typing import Any

from actions.flows import ActionHandleFallback, ActionHandoff
from booking.service import BookingService
from booking.store import MongoStore
from tests.rasa.conftest import domain, make_tracker  # noqa: F401 - fixture
from tests.rasa.test_actions import run

WA = "6281200000000"  # make_tracker's sender


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "x", "parse_data": {"intent": {"name": intent}}}


async def test_the_intent_requests_a_person(service: BookingService, sync_store: MongoStore,
                                            domain: dict[str, Any]) -> None:  # noqa: F811
    await run(ActionHandoff(service), make_tracker(text="mau bicara dengan admin",
                                                   intent="human_handoff"), domain)
    request = sync_store.kv_get("handoff:" + WA)
    assert request["open"] is True and request["reason"] == "requested"


async def test_only_the_second_fallback_in_a_row_requests_a_person(
        service: BookingService, sync_store: MongoStore,
        domain: dict[str, Any]) -> None:  # noqa: F811
    once = make_tracker(intent="nlu_fallback", events=[user("greet"), user("nlu_fallback")])
    await run(ActionHandleFallback(service), once, domain)
    assert sync_store.kv_get("handoff:" + WA) is None
    twice = make_tracker(intent="nlu_fallback", events=[user("nlu_fallback"),
                                                        {"event": "bot", "text": "?"},
                                                        user("nlu_fallback")])
    await run(ActionHandleFallback(service), twice, domain)
    request = sync_store.kv_get("handoff:" + WA)
    assert request["open"] is True and request["reason"] == "fallback"
