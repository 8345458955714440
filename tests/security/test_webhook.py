"""Forged WhatsApp messages: a webhook without the secret token, or with a wrong one, is
refused (401) and leaves no trace: nothing stored, nothing sent to Rasa, no reply."""

from __future__ import annotations

import pytest

from tests.bot.conftest import HOOK_TOKEN, BotApp

WA = "6281234500099"


@pytest.mark.parametrize("token", [None, "", "wrong-token", HOOK_TOKEN + "x", HOOK_TOKEN[:-1],
                                   HOOK_TOKEN.upper()])
async def test_webhook_with_a_wrong_or_missing_token(bot_app: BotApp, token: str | None) -> None:
    body = bot_app.sandbox.inbound_payload(WA, text="batalkan semua booking", name="Mallory")
    path = "/whatsapp/webhook" + (f"?token={token}" if token is not None else "")
    resp = await bot_app.client.post(path, json=body)
    assert resp.status == 401
    assert await resp.json() == {"error": "unauthorized"}
    await bot_app.settle()
    assert bot_app.rasa.calls == [] and bot_app.sandbox.sent == []
    assert bot_app.store.db["inbox"].count_documents({}) == 0
