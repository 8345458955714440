"""Lenient parsing and classification of Wati webhook events."""

from __future__ import annotations

import pytest

from bot.payloads import Action, WatiEvent, classify, dedupe_key, provider_ids
from notify.outbox import OutboxStatus


def test_official_sample_with_unknown_fields_parses() -> None:
    event = WatiEvent.model_validate({
        "id": "69282478274a880fe782b2d9", "whatsappMessageId": "wamid.X==", "text": "hello",
        "type": "text", "timestamp": 1764238453, "owner": False, "eventType": "message",
        "waId": 8618719149214, "senderName": "coubbb", "bsuid": "HK.x", "brandNewField": [1]})
    assert event.waId == "8618719149214" and event.timestamp == "1764238453"
    assert classify(event).action == Action.message
    assert dedupe_key(event, classify(event)) == "m:wamid.X=="


def test_every_field_is_optional() -> None:
    assert classify(WatiEvent.model_validate({})).action == Action.ignore
    event = WatiEvent.model_validate({"eventType": "message", "waId": "62812", "id": "abc"})
    assert dedupe_key(event, classify(event)) == "m:abc"  # falls back to id


def test_echo_of_our_own_message_is_ignored() -> None:
    event = WatiEvent.model_validate({"eventType": "message", "owner": "true", "waId": "628",
                                      "id": "1", "text": "hi"})
    assert classify(event).action == Action.echo


@pytest.mark.parametrize("name,status", [
    ("sentMessageDELIVERED_v2", OutboxStatus.delivered),
    ("sentMessageDELIVERED", OutboxStatus.delivered),
    ("sentMessageREAD_v2", OutboxStatus.read),
    ("sentMessageREAD_v2_bsuid", OutboxStatus.read),
    ("sentMessageREPLIED_v2", OutboxStatus.read),
    ("templateMessageFailed", OutboxStatus.failed),
    ("sessionMessageFailed", OutboxStatus.failed),
    ("templateMessageSent_v2", OutboxStatus.sent),
    ("sessionMessageSent_v2", OutboxStatus.sent),
])
def test_status_events(name: str, status: OutboxStatus) -> None:
    event = WatiEvent.model_validate({"eventType": name, "localMessageId": "loc-1",
                                      "id": "m-1", "owner": True})
    classified = classify(event)
    assert classified.action == Action.status and classified.status == status
    assert dedupe_key(event, classified) == f"s:loc-1:{status.value}"
    assert provider_ids(event) == ["loc-1", "m-1"]


def test_replies_title_from_any_shape() -> None:
    tap = WatiEvent.model_validate({"type": "interactive", "text": "x",
                                    "interactiveButtonReply": {"id": "1", "title": "Anak"}})
    row = WatiEvent.model_validate({"type": "interactive", "listReply": {"title": "09:00"}})
    quick = WatiEvent.model_validate({"type": "button", "buttonReply": {"text": "Hadir"}})
    weird = WatiEvent.model_validate({"type": "button", "buttonReply": "garbage", "text": "t"})
    assert (tap.reply_title, row.reply_title, quick.reply_title) == ("Anak", "09:00", "Hadir")
    assert weird.reply_title is None


def test_new_contact_and_unknown_events() -> None:
    contact = WatiEvent.model_validate({"eventType": "newContactMessageReceived",
                                        "waId": "628123", "senderName": "X"})
    assert classify(contact).action == Action.contact
    assert classify(WatiEvent.model_validate({"eventType": "ctaButtonClicked"})).action == \
        Action.ignore
