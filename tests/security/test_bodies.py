"""Oversized and malformed bodies: the API answers with the exact error and stores nothing;
a WhatsApp text past WhatsApp's own 4,096-character limit is cut before it is stored or
reaches Rasa; a patient cannot hoard a doctor's week."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.bot.conftest import BotApp

WA = "6281234500088"


async def test_oversized_api_body(api: Api) -> None:
    huge = {"name": "x" * (300 * 1024), "email": "big@test.id", "whatsapp": "081234567890",
            "password": "panjang-sekali"}
    resp = await api.client.post("/auth/register", json=huge)
    assert resp.status == 413
    assert (await resp.json())["error"] == "payload_too_large"
    assert api.store.find_user(email="big@test.id") is None


@pytest.mark.parametrize(("body", "content_type", "status", "error"), [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b"\xff\xfe\x00garbage", "application/json", 400, "invalid_json"),
    (b"<xml/>", "application/xml", 415, "unsupported_media_type"),
    (b"[1, 2, 3]", "application/json", 422, "validation_error"),
    (b'"just a string"', "application/json", 422, "validation_error"),
    (b'{"doctor_id": "doc-test-1", "start": "tomorrow"}', "application/json", 422,
     "validation_error"),
])
async def test_malformed_api_body(api: Api, body: bytes, content_type: str, status: int,
                                  error: str) -> None:
    resp = await api.client.post("/bookings", data=body,
                                 headers={"Content-Type": content_type,
                                          **api.headers(api.seed.patient)})
    assert resp.status == status
    assert (await resp.json())["error"] == error
    assert api.store.bookings.count_documents({}) == 0


async def test_oversized_whatsapp_text(bot_app: BotApp) -> None:
    text = "saya mau booking " + "a" * 20_000
    resp = await bot_app.post(bot_app.sandbox.inbound_payload(WA, text=text, name="Budi"))
    assert resp.status == 200
    await bot_app.settle()
    [sent] = bot_app.rasa.messages_of(WA)
    assert len(sent) == 4096 and sent == text[:4096]
    stored = bot_app.store.db["inbox"].find_one({"wa_id": WA})
    assert stored is not None and len(stored["event"]["text"]) == 4096
    [logged] = list(bot_app.store.chat_logs.find({"wa_id": WA, "direction": "in"}))
    assert len(logged["text"]) <= 4096


async def test_oversized_webhook_body(bot_app: BotApp) -> None:
    payload: dict[str, Any] = bot_app.sandbox.inbound_payload(WA, text="halo", name="Budi")
    payload["padding"] = "x" * (400 * 1024)
    resp = await bot_app.post(payload)
    assert resp.status == 413
    assert bot_app.store.db["inbox"].count_documents({}) == 0


@pytest.mark.parametrize("settings_overrides", [{"max_upcoming_bookings": 2}])
async def test_one_patient_hoards_a_doctors_week(api: Api) -> None:
    starts = await api.first_slots("doc-test-1", 40, days=20)
    starts = starts[::10]  # spread out: none inside the cancel cut-off of another
    answers = [(await api.book(api.seed.patient, "doc-test-1", s)).status for s in starts[:3:2]]
    assert answers == [201, 201]
    third = await api.book(api.seed.patient, "doc-test-1", starts[3])
    assert third.status == 409
    assert (await third.json())["error"] == "too_many_bookings"
    # someone else still gets the slot; the hoarder's own limit holds
    assert (await api.book(api.seed.patient2, "doc-test-1", starts[3])).status == 201
    # cancelling one frees a place again
    mine = (await (await api.client.get("/bookings", headers=api.headers(api.seed.patient))
                   ).json())["items"]
    later = max(mine, key=lambda b: b["start"])  # the earliest may be inside the cut-off
    cancel = await api.client.post(f"/bookings/{later['id']}/cancel", json={},
                                   headers=api.headers(api.seed.patient))
    assert cancel.status == 200
    assert (await api.book(api.seed.patient, "doc-test-1", starts[1])).status == 201
