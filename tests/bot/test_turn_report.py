"""The turn report: what Rasa understood comes inside the reply (actions/turn.py), so the
gateway logs intent, language and booking codes without reading the tracker."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions import turn
from bot import rasa_bridge
from bot.rasa_bridge import split_turn
from tests.bot.conftest import BotApp, answers

WA = "6281234567811"


def report(**fields: Any) -> dict[str, Any]:
    """The message Rasa's REST channel returns for `turn.report(dispatcher, **fields)`."""
    dispatcher = CollectingDispatcher()
    turn.report(dispatcher, **fields)
    (message,) = dispatcher.messages
    return {"recipient_id": WA, "custom": message["custom"]}


def test_both_sides_use_the_same_key() -> None:
    assert turn.TURN_KEY == rasa_bridge.TURN_KEY


def test_reports_are_taken_out_and_merged() -> None:
    replies = [report(intent="book_appointment", confidence=0.93, language="en",
                      entities=[{"entity": "city", "value": "Bandung"}]),
               {"recipient_id": WA, "text": "Booked ✅ code K7M-4QX"},
               {"recipient_id": WA, "custom": {"something": "else"}},  # not ours: kept
               report(refs=["K7M-4QX"]), report(refs=["K7M-4QX", "B2C-9DD"], handoff=True)]
    messages, understood = split_turn(replies)
    assert messages == [replies[1], replies[2]]
    assert understood is not None
    assert (understood.intent, understood.confidence, understood.language) == \
        ("book_appointment", 0.93, "en")
    assert understood.entities == [{"entity": "city", "value": "Bandung"}]
    assert understood.refs == ["K7M-4QX", "B2C-9DD"] and understood.handoff
    assert not understood.fallback


def test_fallback_from_the_intent_or_the_action_and_bad_values_ignored() -> None:
    _, by_intent = split_turn([report(intent="nlu_fallback", confidence=0.2)])
    _, by_action = split_turn([report(fallback=True)])
    _, junk = split_turn([report(intent=["x"], confidence="high", refs=[{"$ne": 1}, 7],
                                 handoff="yes", entities="city")])
    assert by_intent and by_intent.fallback and by_action and by_action.fallback
    assert junk is not None and (junk.intent, junk.confidence, junk.refs, junk.handoff,
                                 junk.entities) == (None, None, [], False, [])


def test_no_report_means_none() -> None:
    replies = [{"recipient_id": WA, "text": "halo"}]
    assert split_turn(replies) == (replies, None)


async def test_the_gateway_logs_the_report_and_never_reads_the_tracker(bot_app: BotApp
                                                                       ) -> None:
    def replier(sender: str, message: str) -> list[dict[str, Any]]:
        return [report(intent="book_appointment", confidence=0.88, language="en"),
                {"recipient_id": sender, "text": "Booked ✅ code K7M-4QX"},
                report(refs=["K7M-4QX"])]

    bot_app.rasa.replier = replier
    await bot_app.post(bot_app.sandbox.inbound_payload(WA, text="book me please",
                                                       name="Budi"))
    await bot_app.settle()
    assert [s["text"] for s in answers(bot_app.sandbox.sent_to(WA))] == \
        ["Booked ✅ code K7M-4QX"]
    assert bot_app.rasa.tracker_reads == 0
    inbound = bot_app.store.chat_logs.find_one({"wa_id": WA, "direction": "in"})
    outbound = bot_app.store.chat_logs.find_one({"wa_id": WA, "direction": "out"})
    assert (inbound["intent"], inbound["confidence"], inbound["language"]) == \
        ("book_appointment", 0.88, "en")
    assert outbound["refs"] == ["K7M-4QX"] and outbound["language"] == "en"


async def test_without_a_report_the_gateway_still_reads_the_tracker(bot_app: BotApp) -> None:
    await bot_app.post(bot_app.sandbox.inbound_payload(WA, text="halo", name="Budi"))
    await bot_app.settle()
    assert bot_app.rasa.tracker_reads == 1
    inbound = bot_app.store.chat_logs.find_one({"wa_id": WA, "direction": "in"})
    assert inbound["intent"] == "greet"
