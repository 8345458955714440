"""Admin API of the NLU inbox, training jobs and models, and the model server, over real HTTP
on loopback. Rasa is the stand-in tests/retrain/fake_rasa.py (train/test in milliseconds);
tests/retrain/test_e2e_jobs.py runs the same flow with the real Rasa."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from app.http.auth import issue_tokens
from app.keys import COORDINATOR, SETTINGS, STORE
from app.settings import load_settings
from booking.locks import Coordinator, redis_client
from booking.models import Role, User
from booking.store import MongoStore, Store
from bot.retrain import model_server, routes
from bot.retrain.inbox import InboxFeeder
from bot.retrain.jobs import JobConfig
from bot.retrain.project import Project
from tests.retrain.tiny import write_project

ADMIN = "nlu-admin-token-0123456789abcdef012"
ACTIONS = "actions-token-0123456789abcdef0123456"
FAKE_RASA = Path(__file__).with_name("fake_rasa.py")
T0 = datetime.now(UTC) - timedelta(hours=1)

# (patient text, predicted intent, confidence): English messages the Indonesian model
# does not know, and a few near-duplicates.
MESSAGES = [("i would like to book an appointment", "greet", 0.31),
            ("i would like to book an appointment!", "greet", 0.33),
            ("i would like to book an appointment", "greet", 0.32),
            ("cancel my booking please", "nlu_fallback", 0.2),
            ("cancel my booking pls", "nlu_fallback", 0.22),
            ("thanks so much", "greet", 0.4),
            ("book a doctor in medan", "cancel", 0.35)]


def auth(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fake_rasa(tmp_path: Path) -> Path:
    exe = tmp_path / "bin" / "rasa"
    exe.parent.mkdir()
    exe.write_text(f"#!{sys.executable}\n" + FAKE_RASA.read_text())
    exe.chmod(0o755)
    return exe


@pytest.fixture
def base_model(tmp_path: Path) -> Path:
    path = tmp_path / "base.tar.gz"
    path.write_text('{"score": 0.8, "data": "base"}')
    return path


@pytest.fixture
async def api(aiohttp_client: Any, sync_store: MongoStore, tmp_path: Path, fake_rasa: Path,
              base_model: Path) -> Any:
    settings = load_settings(admin_token=ADMIN, actions_token=ACTIONS,
                             nlu_base_model=str(base_model))
    app = web.Application()
    app[SETTINGS] = settings
    store = Store(sync_store)
    await store.ensure_indexes()
    app[STORE] = store
    app[COORDINATOR] = Coordinator(redis_client(None), namespace=f"nlu-{uuid.uuid4().hex}:")
    root = write_project(tmp_path / "assistant")
    project = Project.at(root, rasa_bin=fake_rasa, test_set="tests/nlu_test_set.yml")
    routes.setup(app, project, JobConfig(project, heartbeat_s=0.2, nice=0,
                                         stale_after=timedelta(seconds=2)))
    client = await aiohttp_client(app)
    internal = web.Application()
    internal[SETTINGS], internal[STORE] = settings, store
    model_server.add_internal_route(internal)
    client.internal = await aiohttp_client(internal)
    client.settings, client.store, client.sync = settings, store, sync_store
    return client


async def seed_inbox(api: Any) -> dict[str, dict[str, Any]]:
    feeder = InboxFeeder(api.store, b"k" * 32)
    for i, (text, intent, conf) in enumerate(MESSAGES):
        doc = {"_id": f"m{i}", "wa_id": f"62812000000{i:02d}", "direction": "in",
               "text": text, "type": "text", "intent": intent, "confidence": conf,
               "entities": [], "at": T0 + timedelta(minutes=i), "fallback":
               intent == "nlu_fallback", "handoff": False}
        api.sync.chat_logs.insert_one(doc)
        await feeder.observe(doc["wa_id"], doc["at"])
    resp = await api.get("/admin/nlu/inbox", headers=auth())
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    return {g["text"]: g for g in body["groups"]}


async def label(api: Any, group_id: str, body: Any, status: int = 200) -> Any:
    resp = await api.post(f"/admin/nlu/inbox/{group_id}/label", json=body, headers=auth())
    assert resp.status == status, await resp.text()
    return await resp.json()


async def run_job(api: Any) -> dict[str, Any]:
    resp = await api.post("/admin/nlu/retrain", headers=auth())
    assert resp.status == 202, await resp.text()
    job_id = (await resp.json())["id"]
    for _ in range(300):
        job = await (await api.get(f"/admin/nlu/jobs/{job_id}", headers=auth())).json()
        if job["state"] in ("succeeded", "failed"):
            return dict(job)
        await asyncio.sleep(0.1)
    raise AssertionError(f"job did not finish: {job}")


async def pull(api: Any, etag: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {ACTIONS}"}
    if etag:
        headers["If-None-Match"] = etag
    return await api.internal.get("/models/current.tar.gz", headers=headers)


async def test_inbox_groups_most_frequent_first_with_vocabulary(api: Any) -> None:
    resp = await api.get("/admin/nlu/inbox", headers=auth())
    body = await resp.json()
    assert body["groups"] == [] and "book" in body["intents"] and body["entities"] == ["city"]
    assert "Medan" in body["values"]["city"] and "specialty" not in body["values"]
    groups = await seed_inbox(api)
    ordered = list(groups)
    assert ordered[:2] == ["i would like to book an appointment", "cancel my booking please"]
    top = groups[ordered[0]]
    assert top["count"] == 3 and top["predicted_intent"] == "greet"
    assert top["variants"] == ["i would like to book an appointment!"]
    assert top["confidence"] == {"min": 0.31, "max": 0.33}


async def test_label_then_job_then_promote_then_rollback(api: Any) -> None:
    first = await pull(api)   # the base model is served before any promotion
    assert first.status == 200 and first.headers["filename"].startswith("base-")
    base_etag = first.headers["ETag"]
    assert (await first.read()) == b'{"score": 0.8, "data": "base"}'
    assert (await pull(api, base_etag)).status == 304

    groups = await seed_inbox(api)
    await label(api, groups["i would like to book an appointment"]["id"], {"intent": "book"})
    await label(api, groups["cancel my booking please"]["id"], {"intent": "cancel"})
    await label(api, groups["thanks so much"]["id"], {"ignore": True})
    text = "book a doctor in medan"
    labelled = await label(api, groups[text]["id"], {"intent": "book", "entities": [
        {"start": text.index("medan"), "end": len(text), "entity": "city"}]})
    assert labelled["state"] == "labelled"
    assert labelled["label"]["example"] == "book a doctor in [medan](city)"
    assert labelled["label"]["by"]

    job = await run_job(api)
    assert job["state"] == "succeeded", job
    # 3 labels + the variant "cancel my booking pls"; "...appointment!" is the same text
    assert job["gate"]["passed"] is True and job["examples"] == 4
    assert len(job["left_out"]) == 1 and "duplicate" in job["left_out"][0]
    assert any("rasa train" in line for line in job["logs"])
    assert job["gate"]["after"]["intent_macro_f1"] == pytest.approx(0.95)
    assert job["gate"]["before"]["intent_macro_f1"] == pytest.approx(0.80)
    model_id = job["model_id"]

    resp = await api.post(f"/admin/nlu/models/{model_id}/promote", headers=auth())
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["previous"].startswith("base-")
    served = await pull(api, base_etag)    # a replica that runs the base model gets the new one
    assert served.status == 200 and served.headers["filename"] == f"{model_id}.tar.gz"
    assert served.headers["ETag"] != base_etag and b"0.95" in await served.read()

    resp = await api.post("/admin/nlu/rollback", headers=auth())
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["serving"].startswith("base-")
    assert (await pull(api, base_etag)).status == 304
    resp = await api.post("/admin/nlu/rollback", headers=auth())
    assert resp.status == 409   # nothing earlier than the base model

    models = await (await api.get("/admin/nlu/models", headers=auth())).json()
    shown = {m["id"]: m for m in models["models"]}
    assert shown[model_id]["gate"]["report"].startswith("# NLU retraining")
    assert shown[model_id]["gate"]["intent_macro_f1"] == {"before": 0.8, "after": 0.95}
    # served again: the base model, so every label is a change a new job would add
    assert models["since_served"]["labels"] == 3
    actions = [(a["action"], a["model_id"]) for a in models["audit"]]
    assert actions[:2] == [("rollback", models["serving"]["model_id"]), ("promote", model_id)]
    assert models["audit"][1]["gate"]["intent_macro_f1"] == pytest.approx(0.95)
    assert models["audit"][1]["by"]


async def test_a_model_that_fails_the_gate_cannot_be_promoted(api: Any) -> None:
    groups = await seed_inbox(api)
    for g in groups.values():   # the careless admin: everything is a greeting
        await label(api, g["id"], {"intent": "greet"})
    job = await run_job(api)
    assert job["state"] == "succeeded" and job["gate"]["passed"] is False
    assert any("macro-F1" in r for r in job["gate"]["reasons"])
    before = await (await pull(api)).read()
    resp = await api.post(f"/admin/nlu/models/{job['model_id']}/promote", headers=auth())
    assert resp.status == 409 and (await resp.json())["error"] == "gate_failed"
    assert await (await pull(api)).read() == before


async def test_one_job_at_a_time_and_a_killed_job_leaves_the_served_model(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_RASA_TRAIN_SLEEP", "30")
    before = (await pull(api)).headers["ETag"]
    resp = await api.post("/admin/nlu/retrain", headers=auth())
    job_id = (await resp.json())["id"]
    again = await api.post("/admin/nlu/retrain", headers=auth())
    assert again.status == 409 and (await again.json())["error"] == "job_running"
    for _ in range(100):   # wait until the training subprocess runs
        job = await (await api.get(f"/admin/nlu/jobs/{job_id}", headers=auth())).json()
        if job["phase"] == "training" and job.get("state") == "running":
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    pid = api.sync.db["nlu_jobs"].find_one({"_id": job_id})["pid"]
    os.killpg(pid, signal.SIGKILL)
    for _ in range(100):
        job = await (await api.get(f"/admin/nlu/jobs/{job_id}", headers=auth())).json()
        if job["state"] == "failed":
            break
        await asyncio.sleep(0.1)
    assert job["state"] == "failed" and "killed" in job["error"], job
    assert (await pull(api, before)).status == 304
    monkeypatch.setenv("FAKE_RASA_TRAIN_SLEEP", "0")
    assert (await run_job(api))["state"] == "succeeded"   # the lock was released


async def test_a_job_whose_process_died_is_marked_failed(api: Any) -> None:
    now = datetime.now(UTC)
    await api.store.nlu_models.start_job({"_id": "deadjob", "by": "x"},
                                         now - timedelta(minutes=5), timedelta(seconds=2))
    api.sync.db["nlu_jobs"].update_one({"_id": "deadjob"}, {"$set": {"state": "running"}})
    job = await (await api.get("/admin/nlu/jobs/deadjob", headers=auth())).json()
    assert job["state"] == "failed" and "died" in job["error"]
    assert (await run_job(api))["state"] == "succeeded"


async def test_invalid_training_data_fails_the_job(api: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_RASA_INVALID", "1")
    job = await run_job(api)
    assert job["state"] == "failed" and "data validate" in job["error"]
    assert any("not in the domain" in line for line in job["logs"])


ROUTES = [("GET", "/admin/nlu/inbox"), ("POST", "/admin/nlu/inbox/abc/label"),
          ("POST", "/admin/nlu/retrain"), ("GET", "/admin/nlu/jobs/abc"),
          ("GET", "/admin/nlu/models"), ("POST", "/admin/nlu/models/abc/promote"),
          ("POST", "/admin/nlu/rollback")]


async def test_admin_role_only(api: Any) -> None:
    for role in (Role.patient, Role.doctor):
        user = User(id=f"u-{role.value}", name="X", role=role,
                    doctor_id="doc-1" if role == Role.doctor else None)
        token = issue_tokens(api.settings, user)["access_token"]
        for method, path in ROUTES:
            assert (await api.request(method, path)).status == 401, path
            assert (await api.request(method, path, headers=auth("wrong"))).status == 401
            assert (await api.request(method, path, headers=auth(token))).status == 403, path
    # the model server: only with the internal bearer token
    assert (await api.internal.get("/models/current.tar.gz")).status == 401
    assert (await api.internal.get("/models/current.tar.gz", headers=auth(ADMIN))).status == 401


@pytest.mark.parametrize("path, body, status", [
    ("/admin/nlu/inbox/GROUP/label", {"intent": "nope"}, 422),
    ("/admin/nlu/inbox/GROUP/label", {"intent": {"$gt": ""}}, 422),
    ("/admin/nlu/inbox/GROUP/label", {"intent": "book", "entities": [
        {"start": 0, "end": 500, "entity": "city"}]}, 422),
    ("/admin/nlu/inbox/GROUP/label", "not an object", 422),
    ("/admin/nlu/inbox/nosuchgroup/label", {"intent": "book"}, 404),
    ("/admin/nlu/inbox/$where/label", {"intent": "book"}, 422),
    ("/admin/nlu/models/nosuchmodel/promote", None, 404),
    ("/admin/nlu/models/a.b/promote", None, 422),
])
async def test_bad_inputs(api: Any, path: str, body: Any, status: int) -> None:
    groups = await seed_inbox(api)
    path = path.replace("GROUP", next(iter(groups.values()))["id"])
    resp = await api.post(path, json=body, headers=auth())
    assert resp.status == status, await resp.text()
    assert (await resp.json())["error"] in ("invalid_input", "not_found")


async def test_bad_queries_and_bodies(api: Any) -> None:
    for q in ("state=all", "limit=0", "limit=abc", "offset=-1"):
        assert (await api.get(f"/admin/nlu/inbox?{q}", headers=auth())).status == 422, q
    groups = await seed_inbox(api)
    gid = next(iter(groups.values()))["id"]
    resp = await api.post(f"/admin/nlu/inbox/{gid}/label", data=b"{not json",
                          headers={**auth(), "Content-Type": "application/json"})
    assert resp.status == 422
    resp = await api.post(f"/admin/nlu/inbox/{gid}/label", data=b"x" * 20000, headers=auth())
    assert resp.status == 422
    assert (await api.get("/admin/nlu/jobs/nosuchjob", headers=auth())).status == 404
    assert (await api.get("/admin/nlu/jobs/a%20b", headers=auth())).status == 422


def test_cli_job_runs_the_same_job(sync_store: MongoStore, tmp_path: Path, fake_rasa: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m bot.retrain job` (a Kubernetes Job in a deployment): same code, same store."""
    import json

    from bot.retrain import cli

    monkeypatch.setattr(MongoStore, "from_url", classmethod(lambda cls, url: sync_store))
    monkeypatch.setattr(sync_store, "close", lambda: None)
    root = write_project(tmp_path / "cli-assistant")
    sync_store.db["nlu_inbox"].insert_one({
        "_id": "g1", "norm": "cancel it pls", "text": "cancel it pls", "state": "labelled",
        "variants": [], "label": {"intent": "cancel", "entities": [],
                                  "example": "cancel it pls"}})
    args = ["--project", str(root), "--rasa-bin", str(fake_rasa), "--test-set",
            "tests/nlu_test_set.yml", "job", "--mongodb-url", "mongodb://127.0.0.1:1/x",
            "--json"]
    assert cli.main(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["state"] == "succeeded" and out["gate_passed"] is True
    model = sync_store.db["nlu_models"].find_one({"_id": out["model_id"]})
    assert model["examples_added"] == 1 and model["stored"]
    assert not (root / "nlu" / "zz_inbox_labelled.yml").exists()   # the checkout is untouched
    with pytest.raises(SystemExit, match="MONGODB_URL"):
        cli.main([*args[:-3], "--mongodb-url", "mongomock://"])


STORIES = """\
version: "3.1"
stories:
- story: greet
  steps: [{intent: greet}]
- story: book
  steps: [{intent: book}]
- story: cancel
  steps: [{intent: cancel}]
- story: thank
  steps: [{intent: thank}]
"""


async def test_the_conversation_suite_is_part_of_the_gate(
        api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from bot.retrain.admin import JOBS

    stories = tmp_path / "test_stories.yml"
    stories.write_text(STORIES)
    jobs = api.server.app[JOBS]
    jobs.config = dataclasses.replace(jobs.config, stories=stories)
    groups = await seed_inbox(api)
    await label(api, groups["cancel my booking please"]["id"], {"intent": "cancel"})
    good = await run_job(api)
    # the base model (served) fails 1 of 4 stories, the candidate none
    assert good["gate"]["stories"]["before"] == 0.75 and good["gate"]["stories"]["after"] == 1.0
    assert good["gate"]["passed"]
    await api.post(f"/admin/nlu/models/{good['model_id']}/promote", headers=auth())

    monkeypatch.setenv("FAKE_RASA_STORY_FAIL", "1")   # same NLU, one story now fails
    worse = await run_job(api)
    assert worse["gate"]["passed"] is False
    assert worse["gate"]["reasons"] == [
        "conversation suite task success 1.000 -> 0.750 (drop 0.250 > 0.000)"]
    # the served model's figures were reused, not measured again
    assert sum("$ rasa test core" in line for line in worse["logs"]) == 1
    resp = await api.post(f"/admin/nlu/models/{worse['model_id']}/promote", headers=auth())
    assert resp.status == 409
