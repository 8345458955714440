"""End to end with the real Rasa model: asking for a person assigns an operator in the sandbox
and silences the bot until staff mark the conversation solved in Wati. Slow: marked `rasa`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.main import create_app
from booking.store import MongoStore
from bot.setup import RUNTIME
from sandbox import WatiSandbox
from tests.bot.conftest import bot_settings, redis_ns, sandbox  # noqa: F401 - fixtures
from tests.bot.test_e2e_rasa import Live, say
from tests.rasa.server import (  # noqa: F401
    TEST_ACTIONS_TOKEN,
    RasaServer,
    rasa_action_port,
    rasa_model,
    rasa_server,
)

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(900)]
OPERATOR = "cs@klinik.test"


@pytest.fixture
async def live(aiohttp_server: Any, sandbox: WatiSandbox, rasa_server: RasaServer,  # noqa: F811
               rasa_action_port: int, sync_store: MongoStore,  # noqa: F811
               redis_ns: str) -> AsyncIterator[Live]:  # noqa: F811
    settings = bot_settings(sandbox=sandbox, rasa_url=rasa_server.url, namespace=redis_ns,
                            roles="bot,actions", load_demo_data=True,
                            actions_port=rasa_action_port, actions_token=TEST_ACTIONS_TOKEN,
                            rasa_token=rasa_server.auth_token,
                            handoff_operator_email=OPERATOR)
    server = await aiohttp_server(create_app(settings, store=sync_store))
    sandbox.webhook_url = str(server.make_url(
        f"/whatsapp/webhook?token={settings.wati_webhook_token.get_secret_value()}"))
    yield Live(server.app[RUNTIME], sandbox, sync_store)


async def test_a_person_takes_the_chat_until_solved(live: Live) -> None:
    wa = "6281377700077"
    replies = await say(live, wa, "saya mau bicara dengan admin")
    assert any("staf" in (r["text"] or "").lower() for r in replies), replies
    assert live.sandbox.state.operators == {wa: OPERATOR}
    [handoff] = list(live.store.db["handoffs"].find({"status": "open"}))
    assert handoff["wa_id"] == wa and handoff["reason"] == "requested"

    assert await say(live, wa, "halo, ada yang bisa bantu?") == []  # the bot is silent
    await live.sandbox.staff_reply(wa, "Halo, saya Rina dari klinik.")
    await live.rt.inbox.idle(30)
    assert live.store.chat_logs.count_documents({"wa_id": wa, "staff": True}) == 1

    await live.sandbox.solve(wa)
    await live.rt.inbox.idle(30)
    assert live.store.db["handoffs"].find_one({"_id": handoff["_id"]})["resolution"] == "wati"
    replies = await say(live, wa, "jam buka klinik?")
    assert replies, "the bot answers again"
