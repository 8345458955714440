"""The staff inbox page in headless Chromium (Debian's, through Playwright): a staff member
signs in, sees the waiting patient with a waiting-time badge and the masked number, reads the
transcript, replies (the patient gets it on WhatsApp, through the sandbox) and resolves."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from app.main import create_app
from app.settings import Settings
from booking.models import Role, User
from booking.passwords import hash_password
from booking.store import MongoStore, Store
from notify.handoff_rules import Reason
from notify.runtime import NOTIFIER
from sandbox import WatiSandbox
from tests.bot.conftest import API_TOKEN
from tests.browser import CHROMIUM
from tests.conftest import REDIS_TEST_URL

pytestmark = pytest.mark.browser

PASSWORD = "rahasia-staf-123"
STAFF = "staf@test.klinik.id"
WA = "6281211112222"


@pytest.fixture
async def box() -> AsyncIterator[WatiSandbox]:
    sandbox = WatiSandbox(token=API_TOKEN)
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
async def server(aiohttp_server: Any, sync_store: MongoStore, redis_namespace: str,
                 box: WatiSandbox) -> AsyncIterator[TestServer]:
    assert shutil.which(CHROMIUM), "apt-get install -y chromium"
    settings = Settings(roles="api", redis_url=REDIS_TEST_URL, redis_namespace=redis_namespace,
                        load_demo_data=False, mongodb_url="mongomock://",
                        wati_api_url=box.url, wati_api_token=API_TOKEN,
                        handoff_operator_email="cs@klinik.test")
    srv = await aiohttp_server(create_app(settings, store=sync_store))
    sync_store.insert_user(User(id="user-staff", name="Dewi Staf", email=STAFF, role=Role.staff,
                                password_hash=hash_password(PASSWORD)))
    store = Store(sync_store)
    opened = datetime.now(UTC) - timedelta(minutes=42)
    await store.chat.touch_inbound(WA, datetime.now(UTC), "Budi Santoso", "id")
    await store.chat.insert_chat_logs([
        {"wa_id": WA, "direction": "in", "text": "saya mau tanya hasil lab", "at": opened},
        {"wa_id": WA, "direction": "out", "text": "Baik, diteruskan ke staf.", "at": opened}])
    desk = srv.app[NOTIFIER].handoffs
    await desk.begin(WA, Reason.requested)
    sync_store.db["handoffs"].update_one({}, {"$set": {"opened_at": opened}})
    yield srv



async def test_staff_reply_and_resolve_from_the_page(server: TestServer, browser: Browser,
                                                     box: WatiSandbox,
                                                     sync_store: MongoStore) -> None:
    page = await browser.new_page(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(str(server.make_url("/staff")))
    await page.fill("#email", STAFF)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#handoffs li", timeout=15_000)
    item = await page.text_content("#handoffs li")
    assert item is not None and "Budi Santoso · •••••••••2222" in item
    assert WA not in (await page.content())
    badge = page.locator("#handoffs li .badge")
    assert await badge.text_content() == "42 mnt"
    assert "late" in (await badge.get_attribute("class") or "")
    await page.click("#handoffs li")
    await page.wait_for_selector("#transcript li")
    transcript = await page.eval_on_selector_all("#transcript li",
                                                 "els => els.map(e => e.textContent)")
    assert transcript == ["saya mau tanya hasil lab", "Baik, diteruskan ke staf."]
    await page.fill("#reply", "Halo Pak Budi, hasil lab sudah keluar.")
    await page.click("#send")
    await box.wait_for(lambda: box.sent_to(WA))
    assert box.sent_to(WA)[0]["text"] == "Halo Pak Budi, hasil lab sudah keluar."
    await page.wait_for_function(
        "() => document.querySelectorAll('#transcript li.staff').length === 1")
    await page.click("#resolve")
    await page.wait_for_function("() => document.getElementById('count').textContent === '0'")
    assert sync_store.db["handoffs"].find_one()["status"] == "closed"
    assert box.state.operators == {}
    assert errors == []
