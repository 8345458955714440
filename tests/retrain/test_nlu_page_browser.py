"""The NLU inbox page in headless Chromium (Debian's, through Playwright): sign in, label a
group with an intent and an entity marked by selecting its words, start a training job
(the stand-in rasa of tests/retrain/fake_rasa.py), see the gate's figures, promote."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from app.main import create_app
from app.settings import Settings
from booking.models import Role, User
from booking.passwords import hash_password
from booking.store import MongoStore
from bot.retrain.jobs import JobConfig
from bot.retrain.project import Project
from bot.retrain.routes import JOB_CONFIG, PROJECT
from tests.browser import CHROMIUM
from tests.conftest import REDIS_TEST_URL
from tests.retrain.tiny import write_project

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "admin@nlu.klinik.id", "rahasia-admin-123"
FAKE_RASA = Path(__file__).with_name("fake_rasa.py")
TEXT = "book a doctor in medan"


@pytest.fixture
async def server(aiohttp_server: Any, sync_store: MongoStore, redis_namespace: str,
                 tmp_path: Path) -> AsyncIterator[TestServer]:
    assert shutil.which(CHROMIUM), "apt-get install -y chromium"
    exe = tmp_path / "rasa"
    exe.write_text(f"#!{sys.executable}\n" + FAKE_RASA.read_text())
    exe.chmod(0o755)
    project = Project.at(write_project(tmp_path / "assistant"), rasa_bin=exe,
                         test_set="tests/nlu_test_set.yml")
    settings = Settings(roles="api", redis_url=REDIS_TEST_URL, redis_namespace=redis_namespace,
                        load_demo_data=False, mongodb_url="mongomock://")
    app = create_app(settings, store=sync_store)
    app[PROJECT], app[JOB_CONFIG] = project, JobConfig(project, heartbeat_s=0.3, nice=0)
    sync_store.insert_user(User(id="admin-nlu", name="Admin", email=ADMIN, role=Role.admin,
                                password_hash=hash_password(PASSWORD)))
    t0 = datetime.now(UTC) - timedelta(hours=1)
    for i, (text, intent, conf) in enumerate([(TEXT, "cancel", 0.3), (TEXT, "cancel", 0.35),
                                              ("thanks so much", "greet", 0.4)]):
        sync_store.chat_logs.insert_one({
            "_id": f"m{i}", "wa_id": f"628130000{i:04d}", "direction": "in", "text": text,
            "type": "text", "intent": intent, "confidence": conf, "entities": [],
            "at": t0 + timedelta(minutes=i), "fallback": False, "handoff": False})
    srv = await aiohttp_server(app)
    from app.keys import STORE
    from bot.retrain.inbox import InboxFeeder

    feeder = InboxFeeder(app[STORE], b"k" * 32)
    for i in range(3):
        await feeder.observe(f"628130000{i:04d}", t0 + timedelta(minutes=i))
    yield srv



SELECT_WORD = """([id, word]) => {
  const msg = document.querySelector(`li.group[data-id="${id}"] .msg`);
  const text = msg.firstChild, start = text.textContent.indexOf(word);
  const range = document.createRange();
  range.setStart(text, start); range.setEnd(text, start + word.length);
  const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
}"""


async def test_label_a_group_start_a_job_and_promote(server: TestServer, browser: Browser,
                                                    sync_store: MongoStore) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(str(server.make_url("/dashboard/nlu.html")))
    await page.fill("#email", ADMIN)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("li.group", timeout=15_000)
    texts = await page.eval_on_selector_all("li.group .msg", "ms => ms.map(m => m.textContent)")
    assert texts == [TEXT, "thanks so much"]    # most frequent first
    group_id = await page.get_attribute("li.group >> nth=0", "data-id")
    item = f'li.group[data-id="{group_id}"]'
    intents = await page.eval_on_selector_all(f"{item} select.intent option",
                                              "os => os.map(o => o.value)")
    assert intents == ["", "book", "cancel", "greet", "thank"]
    assert await page.input_value(f"{item} select.intent") == "cancel"   # the prediction

    await page.select_option(f"{item} select.intent", "book")
    await page.evaluate(SELECT_WORD, [group_id, "medan"])
    await page.select_option(f"{item} select.entity", "city")
    values = await page.eval_on_selector_all(f"{item} select.value option",
                                             "os => os.map(o => o.value)")
    assert values[:3] == ["", "Ambon", "Balikpapan"] and "Medan" in values   # the catalogue
    await page.click(f"{item} button.mark")
    assert await page.inner_text(f"{item} .preview") == "book a doctor in [medan](city)"
    await page.click(f"{item} button.save")
    await page.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('Saved: book')")
    stored = sync_store.db["nlu_inbox"].find_one({"_id": group_id})
    assert stored["state"] == "labelled"
    assert stored["label"]["example"] == "book a doctor in [medan](city)"
    assert stored["label"]["entities"] == [{"start": 17, "end": 22, "entity": "city"}]
    await page.wait_for_function(  # the list is redrawn after the label is stored
        "() => document.querySelectorAll('li.group .msg').length === 1")
    texts = await page.eval_on_selector_all("li.group .msg", "ms => ms.map(m => m.textContent)")
    assert texts == ["thanks so much"]          # the labelled group left the open list
    await page.wait_for_function(   # what a new job would add to the served model
        "() => document.querySelector('#changes').textContent.startsWith('1 label')")
    assert await page.inner_text("#changes-list") == "book: book a doctor in [medan](city)"

    await page.click("#retrain")
    await page.wait_for_function(
        "() => document.querySelector('#job-state').textContent === 'succeeded'",
        timeout=30_000)
    gate_rows = await page.eval_on_selector_all(
        "#gate tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))")
    assert gate_rows[0] == ["intent macro-F1", "–", "0.950"]    # no served model yet
    assert "Gate passed" in await page.inner_text("#gate-reasons")
    job = sync_store.db["nlu_jobs"].find_one({})
    model_id = job["model_id"]
    await page.wait_for_selector(f'button.promote[data-id="{model_id}"]')
    await page.click(f'button.promote[data-id="{model_id}"]')
    await page.wait_for_function(
        "() => document.querySelector('#status').textContent.startsWith('Promoted')")
    assert sync_store.db["nlu_serving"].find_one({"_id": "current"})["model_id"] == model_id
    await page.wait_for_selector(f'#models tr[data-id="{model_id}"] strong')
    assert "promote" in await page.inner_text("#audit")
    await page.wait_for_function(   # the promoted model contains that label
        "() => document.querySelector('#changes').textContent.startsWith('0 label')")
    assert errors == []
