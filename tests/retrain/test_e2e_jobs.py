"""End to end with the real Rasa (the one slow test of the admin flow): a tiny NLU-only
assistant; a first job trains and is promoted; a real `rasa run` whose endpoints.yml has
the `models:` section pulls it from the app's model server; patient messages scored by
that server land in the inbox, the admin labels them through the API, a second job trains
and passes the gate; after the promotion Rasa loads the new model by itself (its /status
and its answers change), and a rollback brings the old one back the same way.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from app.keys import COORDINATOR, SETTINGS, STORE
from app.settings import load_settings
from booking.locks import Coordinator, redis_client
from booking.store import MongoStore, Store
from bot import rasa_endpoints
from bot.retrain import model_server, routes
from bot.retrain.inbox import InboxFeeder
from bot.retrain.jobs import JobConfig
from bot.retrain.project import Project
from bot.retrain.rasa_proc import rasa_env
from tests.rasa.server import RASA, ROOT, TEST_RASA_TOKEN, RasaServer, _http, free_port
from tests.retrain.tiny import GOOD_BATCH, label_well, write_project

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(1500)]

ADMIN = "nlu-e2e-admin-token-0123456789abcdef"
ACTIONS = "nlu-e2e-actions-token-0123456789abcdef"
PULL_S = 2
PROBES = {"cancel my appointment": "cancel", "thanks a lot": "thank"}


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


async def run_job(api: Any) -> dict[str, Any]:
    resp = await api.post("/admin/nlu/retrain", headers=auth())
    assert resp.status == 202, await resp.text()
    job_id = (await resp.json())["id"]
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        job: dict[str, Any] = await (await api.get(f"/admin/nlu/jobs/{job_id}",
                                                   headers=auth())).json()
        if job["state"] in ("succeeded", "failed"):
            assert job["state"] == "succeeded", job
            return job
        await asyncio.sleep(1)
    raise AssertionError("the training job did not finish in 15 minutes")


async def promote(api: Any, model_id: str) -> None:
    resp = await api.post(f"/admin/nlu/models/{model_id}/promote", headers=auth())
    assert resp.status == 200, await resp.text()


def start_pulling_rasa(model_url: str) -> RasaServer:
    tmp = tempfile.TemporaryDirectory(prefix="rasa-pull-")
    workdir = Path(tmp.name)
    endpoints = workdir / "endpoints.yml"
    section = rasa_endpoints.models_section(model_url, PULL_S)
    endpoints.write_text("models:\n  url: " + section["models"]["url"] + "\n  headers:\n"
                         "    Authorization: Bearer ${ACTIONS_TOKEN}\n"
                         f"  wait_time_between_pulls: {PULL_S}\n")
    log_path = workdir / "rasa.log"
    port = free_port()
    cmd = ["nice", "-n", "10", str(RASA), "run", "--enable-api", "--endpoints", str(endpoints),
           "--credentials", str(ROOT / "credentials.yml"), "--port", str(port),
           "--interface", "127.0.0.1", "--auth-token", TEST_RASA_TOKEN]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=workdir, env={**rasa_env(),  # noqa: S603
                                                          "ACTIONS_TOKEN": ACTIONS},
                                   stdout=log, stderr=subprocess.STDOUT)
    return RasaServer(port, process, workdir, log_path, None, _tmp=tmp)


def model_file(server: RasaServer) -> str | None:
    try:
        status = _http("GET", server.api("/status"), timeout=2)
    except OSError:
        return None
    return status.get("model_file") if isinstance(status, dict) else None


async def wait_for_model(server: RasaServer, name: str, timeout: float = 420) -> float:
    """Seconds until the server reports `name` (polled off the loop: the app serves the pull)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.process.poll() is not None:
            raise AssertionError(f"rasa exited:\n{server.log_tail()}")
        if await asyncio.to_thread(model_file, server) == name:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise AssertionError(f"rasa did not load {name}:\n{server.log_tail()}")


async def answers(server: RasaServer) -> dict[str, str]:
    return {t: (await asyncio.to_thread(server.parse, t))["intent"]["name"] for t in PROBES}


async def test_label_train_promote_pull_rollback(aiohttp_client: Any, sync_store: MongoStore,
                                                 tmp_path: Path) -> None:
    if not RASA.exists():
        pytest.fail("the Rasa environment is missing (make install)")
    settings = load_settings(admin_token=ADMIN, actions_token=ACTIONS)
    store = Store(sync_store)
    await store.ensure_indexes()
    app = web.Application()
    app[SETTINGS], app[STORE] = settings, store
    app[COORDINATOR] = Coordinator(redis_client(None), namespace=f"e2e-{uuid.uuid4().hex}:")
    project = Project.at(write_project(tmp_path / "assistant"), rasa_bin=RASA,
                         test_set="tests/nlu_test_set.yml")
    routes.setup(app, project, JobConfig(project, nice=10))
    api = await aiohttp_client(app)
    internal = web.Application()
    internal[SETTINGS], internal[STORE] = settings, store
    model_server.add_internal_route(internal)
    internal_client = await aiohttp_client(internal)
    model_url = f"http://127.0.0.1:{internal_client.server.port}/models/current.tar.gz"

    first = await run_job(api)            # the committed data alone: the first model
    assert first["gate"]["passed"] and first["gate"]["before"] is None
    await promote(api, first["model_id"])

    server = start_pulling_rasa(model_url)
    try:
        loaded_in = await wait_for_model(server, f"{first['model_id']}.tar.gz")
        before = await answers(server)
        assert before != PROBES, before    # English messages the base model gets wrong

        feeder = InboxFeeder(store, b"k" * 32)
        t0 = datetime.now(UTC) - timedelta(hours=2)
        for i, text in enumerate(GOOD_BATCH):   # scored by the served model, as logged
            parsed = await asyncio.to_thread(server.parse, text)
            intent = parsed["intent"]["name"]
            doc = {"_id": f"m{i}", "wa_id": f"6281300000{i:03d}", "direction": "in",
                   "text": text, "type": "text", "intent": intent,
                   "confidence": parsed["intent"]["confidence"], "entities": [],
                   "at": t0 + timedelta(minutes=i), "fallback": intent == "nlu_fallback",
                   "handoff": False}
            sync_store.chat_logs.insert_one(doc)
            await feeder.observe(doc["wa_id"], doc["at"])
        inbox = await (await api.get("/admin/nlu/inbox?limit=200", headers=auth())).json()
        assert inbox["total"] >= 5
        for g in inbox["groups"]:
            intent = label_well(g["text"])
            body = {"ignore": True} if intent == "nlu_fallback" else {"intent": intent}
            resp = await api.post(f"/admin/nlu/inbox/{g['id']}/label", json=body,
                                  headers=auth())
            assert resp.status in (200, 422), await resp.text()   # 422: a held-out text

        second = await run_job(api)
        gate = second["gate"]
        assert gate["passed"], gate["reasons"]
        assert gate["after"]["intent_macro_f1"] > gate["before"]["intent_macro_f1"]
        await promote(api, second["model_id"])
        switched_in = await wait_for_model(server, f"{second['model_id']}.tar.gz")
        after = await answers(server)
        assert sum(after[t] == want for t, want in PROBES.items()) > \
            sum(before[t] == want for t, want in PROBES.items()), (before, after)

        resp = await api.post("/admin/nlu/rollback", headers=auth())
        assert resp.status == 200, await resp.text()
        await wait_for_model(server, f"{first['model_id']}.tar.gz")
        assert await answers(server) == before
        print(f"rasa loaded the first model in {loaded_in:.0f} s, the promoted one "
              f"{switched_in:.0f} s after the promotion (pull every {PULL_S} s)")
    finally:
        await asyncio.to_thread(server.stop)
