"""Model server pieces: ETag matching as Rasa uses it, the endpoints `models:` section, and
the base model bootstrap."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from app.internal import bound_port
from app.main import create_app
from app.settings import Settings
from booking.store import Store
from bot import rasa_endpoints
from bot.retrain.model_server import PATH, bootstrap, etag_of, matches
from tests.conftest import REDIS_TEST_URL


def test_etag_matching() -> None:
    tag = etag_of("abc123")
    assert tag == '"abc123"'
    assert matches(tag, tag)                    # Rasa sends back exactly what it got
    assert matches("abc123", tag) and matches('W/"abc123"', tag)
    assert matches('"zzz", "abc123"', tag) and matches("*", tag)
    assert not matches(None, tag) and not matches("", tag) and not matches('"abc12"', tag)
    # Rasa's first pull: a random fingerprint of its own
    assert not matches("5b3e8a0c1d2f4e6a8b0c2d4e6f8a0b1c", tag)


def test_endpoints_models_section() -> None:
    text = rasa_endpoints.render(None, model_server_url="http://127.0.0.1:5056/models/"
                                 "current.tar.gz", pull_seconds=7)
    data = yaml.safe_load(text)
    assert data["models"] == {"url": "http://127.0.0.1:5056/models/current.tar.gz",
                              "headers": {"Authorization": "Bearer ${ACTIONS_TOKEN}"},
                              "wait_time_between_pulls": 7}
    # a plain scalar, so Rasa expands the variable (it does not inside quotes)
    assert "    Authorization: Bearer ${ACTIONS_TOKEN}\n  wait_time_between_pulls" in text
    assert data["action_endpoint"]["url"] == "${ACTIONS_URL}"
    both = yaml.safe_load(rasa_endpoints.render("redis://127.0.0.1:6390/2",
                                                model_server_url="http://x/m.tar.gz"))
    assert both["tracker_store"]["port"] == 6390 and both["models"]["url"] == "http://x/m.tar.gz"
    assert "models" not in (yaml.safe_load(rasa_endpoints.render(None)) or {})
    with pytest.raises(ValueError):
        rasa_endpoints.render(None, model_server_url="file:///etc/passwd")
    with pytest.raises(ValueError):
        rasa_endpoints.render(None, model_server_url="http://x/m", pull_seconds=0)


async def test_bootstrap_serves_the_base_model_and_keeps_a_promoted_one(
        store: Store, tmp_path: Path) -> None:
    await store.ensure_indexes()
    assert await bootstrap(store, None) is None
    old, new = tmp_path / "old.tar.gz", tmp_path / "new.tar.gz"
    old.write_bytes(b"old model")
    new.write_bytes(b"new model")
    first = await bootstrap(store, str(old))
    assert first is not None and first.startswith("base-")
    assert await bootstrap(store, str(old)) == first            # idempotent
    second = await bootstrap(store, str(new))                   # the assistant changed
    assert second != first and (await store.nlu_models.serving() or {})["model_id"] == second
    # a promoted retrained model is not replaced by a new base model
    trained = tmp_path / "trained.tar.gz"
    trained.write_bytes(b"trained")
    model = await store.nlu_models.put_model("nlu-x", trained, {"gate": {"passed": True}})
    assert await store.nlu_models.set_serving(model, second, {"action": "promote", "by": "a",
                                                               "at": datetime.now(UTC)})
    newest = tmp_path / "newest.tar.gz"
    newest.write_bytes(b"newest")
    assert await bootstrap(store, str(newest)) == "nlu-x"
    assert await bootstrap(store, str(tmp_path / "missing.tar.gz")) == "nlu-x"
    audit = await store.nlu_models.audit_log()
    assert [a["action"] for a in audit] == ["promote", "bootstrap", "bootstrap"]


async def test_model_server_only_on_the_internal_listener_with_its_token(
        aiohttp_client: Any, sync_store: Any, redis_namespace: str, tmp_path: Path) -> None:
    """The app as it runs (api role): the base model is stored and served at start, on the
    internal port only, to a caller with ACTIONS_TOKEN; the public port does not have it."""
    base = tmp_path / "base.tar.gz"
    base.write_bytes(b"model bytes " * 100_000)   # > 1 MiB: more than one chunk
    token = "model-server-token-0123456789abcdef0"
    settings = Settings(roles="api", actions_port=0, actions_token=token, mongodb_url=
                        "mongomock://", redis_url=REDIS_TEST_URL, redis_namespace=redis_namespace,
                        load_demo_data=False, nlu_base_model=str(base))
    client = await aiohttp_client(create_app(settings, store=sync_store))
    public = await client.get(PATH, headers={"Authorization": f"Bearer {token}"})
    assert public.status == 404
    url = f"http://127.0.0.1:{bound_port(client.server.app)}{PATH}"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 401
        async with http.get(url, headers={"Authorization": "Bearer wrong"}) as resp:
            assert resp.status == 401
        ok = {"Authorization": f"Bearer {token}"}
        async with http.get(url, headers=ok) as resp:
            assert resp.status == 200
            assert await resp.read() == base.read_bytes()
            etag = resp.headers["ETag"]
            assert etag == etag_of(hashlib.sha256(base.read_bytes()).hexdigest())
            assert resp.headers["filename"].startswith("base-")
        async with http.get(url, headers={**ok, "If-None-Match": etag}) as resp:
            assert resp.status == 304 and await resp.read() == b""


async def test_prune_keeps_the_served_model_its_history_and_the_newest(
        store: Store, tmp_path: Path) -> None:
    path = tmp_path / "m.tar.gz"
    path.write_bytes(b"m")
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    for i in range(6):
        await store.nlu_models.put_model(f"m{i}", path, {"created_at": t0.replace(hour=i),
                                                         "gate": {"passed": True}})
    at = {"action": "promote", "by": "a", "at": t0}
    m0, m1 = await store.nlu_models.get_model("m0"), await store.nlu_models.get_model("m1")
    assert m0 and m1
    assert await store.nlu_models.set_serving(m0, None, at)
    assert await store.nlu_models.set_serving(m1, "m0", at)     # m0 is the rollback target
    assert sorted(await store.nlu_models.prune_models(2)) == ["m2", "m3"]
    left = sorted(m["_id"] for m in await store.nlu_models.list_models())
    assert left == ["m0", "m1", "m4", "m5"]
    assert store.sync.db["nlu_model_chunks"].count_documents({"model_id": "m2"}) == 0


async def test_a_late_heartbeat_does_not_reopen_a_finished_job(store: Store) -> None:
    from datetime import timedelta

    now = datetime.now(UTC)
    assert await store.nlu_models.start_job({"_id": "j1"}, now, timedelta(seconds=60))
    await store.nlu_models.finish_job("j1", "succeeded", now, {"model_id": "m"})
    await store.nlu_models.heartbeat("j1", now, {"state": "running"}, ["late line"])
    job = await store.nlu_models.get_job("j1")
    assert job and job["state"] == "succeeded" and job["logs"] == []
    assert await store.nlu_models.start_job({"_id": "j2"}, now, timedelta(seconds=60))
