"""The gateway feeds the NLU inbox: a patient message that hit the fallback, sent through the
real webhook -> inbox -> Rasa bridge (Rasa's stand-in: tests/bot/conftest.py FakeRasa)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.bot.conftest import BotApp, bot_app, fake_rasa, redis_ns, sandbox, smtp  # noqa: F401

WA = "6281277770001"


async def test_a_fallback_message_lands_in_the_inbox_masked(
        bot_app: BotApp, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    retrain = bot_app.rt.gateway.store.retrain
    read_back: list[str] = []
    recent_inbound = retrain.recent_inbound

    async def counted(wa_id: str, since: datetime, limit: int) -> list[dict[str, Any]]:
        read_back.append(wa_id)
        return await recent_inbound(wa_id, since, limit)

    monkeypatch.setattr(retrain, "recent_inbound", counted)
    for text in ("halo", "nomor saya 081234567890 ???", "ya ???"):
        resp = await bot_app.post(bot_app.sandbox.inbound_payload(WA, text=text, name="Budi"))
        assert resp.status == 200
        await bot_app.settle()
    groups = list(bot_app.store.db["nlu_inbox"].find({}).sort("count", -1))
    assert sorted(g["text"] for g in groups) == ["nomor saya <PHONE> ???", "ya ???"]
    assert all(g["intents"] == {"nlu_fallback": 1} and g["reasons"]["fallback"] == 1
               for g in groups)
    assert "081234567890" not in str(groups) and WA not in str(groups)
    assert bot_app.store.db["nlu_inbox_items"].count_documents({}) == 2
    # read back from the store for the first message only: the next ones followed it here
    assert read_back == [WA]
