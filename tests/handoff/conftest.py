"""Fixtures of the handoff tests: the gateway app of tests/bot with an operator configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.main import create_app
from booking.store import MongoStore
from sandbox import WatiSandbox
from tests.bot.conftest import (  # noqa: F401 - fixtures
    BotApp,
    FakeRasa,
    Smtp,
    bot_settings,
    fake_rasa,
    redis_ns,
    sandbox,
    smtp,
)

OPERATOR = "cs@klinik.test"


@pytest.fixture
def handoff_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def bot_app(aiohttp_client: Any, sandbox: WatiSandbox, fake_rasa: FakeRasa,  # noqa: F811
                  sync_store: MongoStore, redis_ns: str, smtp: Smtp,  # noqa: F811
                  handoff_overrides: dict[str, Any]) -> AsyncIterator[BotApp]:
    settings = bot_settings(sandbox=sandbox, rasa_url=fake_rasa.url, namespace=redis_ns,
                            smtp_port=smtp.port, handoff_operator_email=OPERATOR,
                            **handoff_overrides)
    client = await aiohttp_client(create_app(settings, store=sync_store))
    app = BotApp(client, sandbox, fake_rasa, sync_store)
    sandbox.webhook_url = app.hook_url()
    yield app
