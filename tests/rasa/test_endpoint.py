"""The actions role: rasa_sdk's executor mounted in the aiohttp app (POST /webhook/actions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings
from booking.models import Doctor
from booking.store import MongoStore
from tests.conftest import REDIS_TEST_URL
from tests.rasa.conftest import DOMAIN, SENDER

ROOT = Path(__file__).resolve().parents[2]


def settings(namespace: str) -> Settings:
    return Settings(roles="actions", redis_url=SecretStr(REDIS_TEST_URL),
                    redis_namespace=namespace, load_demo_data=False)


def action_call(action: str, slots: dict[str, Any], text: str = "", intent: str = "inform"
                ) -> dict[str, Any]:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": []}
    all_slots = {name: None for name in DOMAIN["slots"]} | {"language": "id"} | slots
    return {"next_action": action, "sender_id": SENDER, "version": "3.6.21", "domain": DOMAIN,
            "tracker": {"sender_id": SENDER, "slots": all_slots, "latest_message": latest,
                        "events": [{"event": "user", "text": text, "parse_data": latest}],
                        "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": "action_listen"}}


async def test_actions_webhook_runs_actions_with_the_app_service(
        aiohttp_client: Any, sync_store: MongoStore, doctor: Doctor,
        redis_namespace: str) -> None:
    client = await aiohttp_client(create_app(settings(redis_namespace), store=sync_store))
    resp = await client.post("/webhook/actions", json=action_call(
        "action_search_doctor", {"specialty": "general", "city": "Jakarta"}))
    assert resp.status == 200
    body = await resp.json()
    assert body["responses"][0]["response"] == "utter_doctor_list"
    assert body["responses"][0]["buttons"][0]["payload"] == (
        '/book_appointment{"choice":"d:doc-test-1"}')
    assert body["events"][0]["name"] == "offered"

    listed = await client.get("/webhook/actions")
    assert {"name": "validate_booking_form"} in await listed.json()


async def test_actions_webhook_errors(aiohttp_client: Any, sync_store: MongoStore,
                                      redis_namespace: str) -> None:
    client = await aiohttp_client(create_app(settings(redis_namespace), store=sync_store))
    resp = await client.post("/webhook/actions", json=action_call("action_nope", {}))
    assert resp.status == 404
    assert (await resp.json())["action_name"] == "action_nope"
    resp = await client.post("/webhook/actions", data=b"{not json",
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400


def test_standalone_action_server_module_imports() -> None:
    proc = subprocess.run([sys.executable, "-m", "actions", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and "--port" in proc.stdout


async def test_standalone_action_server_serves_the_executor(aiohttp_client: Any,
                                                           redis_namespace: str) -> None:
    from actions.__main__ import create_action_server

    client = await aiohttp_client(create_action_server(settings(redis_namespace)))
    resp = await client.post("/webhook", json=action_call(
        "action_handle_fallback", {}, text="asdf", intent="nlu_fallback"))
    assert resp.status == 200
    assert (await resp.json())["responses"][0]["response"] == "utter_fallback"
