"""The actions role: rasa_sdk's executor on the app's internal listener (POST /webhook/actions,
bearer token required; the public port does not serve it)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from app.internal import bound_port
from app.main import create_app
from app.settings import Settings
from booking.models import Doctor
from booking.store import MongoStore
from tests.conftest import REDIS_TEST_URL
from tests.rasa.conftest import DOMAIN, SENDER

ROOT = Path(__file__).resolve().parents[2]


TOKEN = "actions-token-for-the-tests-0123456789"  # noqa: S105
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def settings(namespace: str) -> Settings:
    return Settings(roles="actions", redis_url=SecretStr(REDIS_TEST_URL),
                    redis_namespace=namespace, load_demo_data=False, actions_token=TOKEN)


class Internal:
    """A client of the app's internal listener (where Rasa calls the actions)."""

    def __init__(self, session: aiohttp.ClientSession, port: int) -> None:
        self.session = session
        self.base = f"http://127.0.0.1:{port}"

    async def post(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        kwargs.setdefault("headers", AUTH)
        return await self.session.post(self.base + path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        kwargs.setdefault("headers", AUTH)
        return await self.session.get(self.base + path, **kwargs)


@pytest.fixture
async def internal(aiohttp_client: Any, sync_store: MongoStore, redis_namespace: str
                   ) -> AsyncIterator[Internal]:
    client = await aiohttp_client(create_app(settings(redis_namespace), store=sync_store))
    async with aiohttp.ClientSession() as session:
        yield Internal(session, bound_port(client.server.app))


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
        internal: Internal, doctor: Doctor) -> None:
    client = internal
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


async def test_actions_webhook_errors(internal: Internal) -> None:
    client = internal
    resp = await client.post("/webhook/actions", json=action_call("action_nope", {}))
    assert resp.status == 404
    assert (await resp.json())["action_name"] == "action_nope"
    resp = await client.post("/webhook/actions", data=b"{not json",
                             headers={"Content-Type": "application/json", **AUTH})
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
        "action_handle_fallback", {}, text="asdf", intent="nlu_fallback"), headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["responses"][0]["response"] == "utter_fallback"


# Runs in the Rasa environment through rasa_env/launch.py: one action, called from Rasa's own
# RemoteAction for each domain file in turn; prints which of domain/domain_digest each HTTP
# request carried and the events each call returned.
DIGEST_PROBE = r"""
import asyncio, json, sys
sys.path.insert(0, "rasa_env")
import launch
launch.install()
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

args = json.loads(sys.stdin.read())
sent = []
request = EndpointConfig.request
async def recorded(self, **kwargs):
    sent.append(sorted(k for k in ("domain", "domain_digest") if k in kwargs["json"]))
    return await request(self, **kwargs)
EndpointConfig.request = recorded

async def main():
    endpoint = EndpointConfig(args["url"], headers={"Authorization": "Bearer " + args["token"]})
    calls = []
    for path in args["domains"]:
        domain = Domain.load(path)
        user = UserUttered("Hello, I would like to book an appointment with a doctor please",
                           {"name": "book_appointment", "confidence": 0.99})
        tracker = DialogueStateTracker.from_events(args["sender"], [user], slots=domain.slots)
        sent.clear()
        events = await RemoteAction("action_validate_slot_mappings", endpoint).run(
            CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses),
            tracker, domain)
        calls.append({"sent": list(sent), "events": [
            {k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in events]})
    print(json.dumps(calls))
asyncio.run(main())
"""


async def run_digest_probe(port: int, domains: list[str], without: str
                           ) -> list[dict[str, Any]]:
    proc = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", DIGEST_PROBE, cwd=ROOT,
        env={**os.environ, "LAUNCH_WITHOUT": without}, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    args = {"url": f"http://127.0.0.1:{port}/webhook/actions", "token": TOKEN,
            "sender": SENDER, "domains": domains}
    out, err = await asyncio.wait_for(proc.communicate(json.dumps(args).encode()), 280)
    assert proc.returncode == 0, err.decode()[-3000:]
    result: list[dict[str, Any]] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@pytest.mark.rasa
@pytest.mark.timeout(600)
@pytest.mark.parametrize("sync_store", ["mongomock"], indirect=True)
async def test_rasa_sends_the_domain_only_when_the_action_server_asks(
        internal: Internal, tmp_path: Path) -> None:
    """launch.py's digest protocol against the app's real endpoint (rasa_sdk 3.21)."""
    changed = tmp_path / "domain.yml"
    changed.write_text((ROOT / "domain.yml").read_text().replace(
        "session_expiration_time: 120", "session_expiration_time: 121"))
    domains = ["domain.yml", "domain.yml", str(changed), "domain.yml"]
    port = int(internal.base.rsplit(":", 1)[1])
    with_digest = await run_digest_probe(port, domains, without="")
    assert [c["sent"] for c in with_digest] == [
        [["domain_digest"], ["domain", "domain_digest"]],   # unknown digest: 449, then the domain
        [["domain_digest"]],                                 # same domain: the digest is enough
        [["domain_digest"], ["domain", "domain_digest"]],   # another domain (a new model)
        [["domain_digest"], ["domain", "domain_digest"]]]   # and back
    every_time = await run_digest_probe(port, domains, without="domain_digest")
    assert [c["sent"] for c in every_time] == [[["domain"]]] * 4
    # the action saw the domain on every call: its slot extraction ran the same way
    assert [c["events"] for c in with_digest] == [c["events"] for c in every_time]
    # (the language slot is filled by a custom mapping that rasa_sdk finds in the domain)
    assert all({"event": "slot", "name": "language", "value": "en"} in c["events"]
               for c in with_digest)
