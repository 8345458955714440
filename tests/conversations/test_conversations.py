"""The conversation suite (marked `rasa`): every script of conversations.yml through the
REST channel -> Rasa -> the app's actions webhook -> the booking store, several patients at
once. Gates: task success >= 95%, median <= 4 patient turns to a confirmed booking from a
first message that names specialty, city and day. `make conversations` runs only this and
prints the report; CONVERSATIONS=<regex> runs the scripts whose id matches."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from pydantic import SecretStr

from app.keys import SERVICE
from app.main import create_app
from app.settings import Settings
from booking.locks import Coordinator
from booking.service import BookingService
from booking.store import MongoStore, Store
from notify.rules import BookingNotices
from tests.conftest import REDIS_TEST_URL
from tests.conversations.runner import load_scripts, run_suite
from tests.rasa.server import TEST_ACTIONS_TOKEN, RasaServer

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(1500)]
MIN_SUCCESS = 0.95
MAX_MEDIAN_TURNS = 4


def suite_clock() -> Callable[[], datetime]:
    """A clock that starts at 07:00 WIB today and ticks: whenever the suite runs, "today"
    has its whole working day ahead (scripts that tap today's first day or ask for "sore"
    would otherwise depend on the hour CI runs them)."""
    real = datetime.now(UTC)
    start = real.astimezone(ZoneInfo("Asia/Jakarta")).replace(hour=7, minute=0, second=0,
                                                             microsecond=0)
    offset: timedelta = real - start.astimezone(UTC)
    return lambda: datetime.now(UTC) - offset


@pytest.fixture
async def app_service(sync_store: MongoStore, redis_namespace: str, coordinator: Coordinator,
                      rasa_action_port: int) -> AsyncIterator[BookingService]:
    """The real app (actions role) on the port Rasa calls; a service on the same data."""
    settings = Settings(roles="actions", redis_url=SecretStr(REDIS_TEST_URL),
                        redis_namespace=redis_namespace, load_demo_data=False,
                        actions_port=rasa_action_port, actions_token=TEST_ACTIONS_TOKEN)
    app = create_app(settings, store=sync_store)
    runner = web.AppRunner(app)
    await runner.setup()
    clock = suite_clock()
    app[SERVICE].clock = clock  # the actions' service
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield BookingService(Store(sync_store), coordinator, notices=BookingNotices(),
                             clock=clock)
    finally:
        await runner.cleanup()


def test_scripts_cover_the_brief() -> None:
    scripts = load_scripts()
    ids = [s["id"] for s in scripts]
    assert len(ids) == len(set(ids)) and len(scripts) >= 80
    assert sum(s.get("lang") == "en" for s in scripts) >= 15
    assert sum(bool(s.get("typo")) for s in scripts) >= len(scripts) / 4
    for script in scripts:
        assert script["turns"] and script["expect"], script["id"]


async def test_conversation_suite(rasa_server: RasaServer, app_service: BookingService,
                                  sync_store: MongoStore) -> None:
    text, success, median = await run_suite(rasa_server, app_service, sync_store,
                                            only=os.environ.get("CONVERSATIONS"))
    print("\n" + text)
    assert success >= MIN_SUCCESS, text
    if not os.environ.get("CONVERSATIONS"):
        assert median is not None and median <= MAX_MEDIAN_TURNS, text
