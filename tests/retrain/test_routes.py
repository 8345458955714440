"""Admin endpoints: GET/POST /admin/nlu/review from chat_logs, GET /admin/nlu/report."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from app.http.auth import issue_tokens
from app.keys import COORDINATOR, SETTINGS, STORE
from app.settings import load_settings
from booking.locks import Coordinator, redis_client
from booking.models import Role, User
from booking.store import MongoStore, Store
from bot.retrain import routes
from bot.retrain.project import Project
from tests.conftest import make_doctor
from tests.retrain.tiny import write_project

ADMIN = "retrain-admin-token-0123456789"
NOW = datetime.now(UTC)


def log(wa: str, text: str, minutes_ago: float, intent: str, conf: float,
        **kw: Any) -> dict[str, Any]:
    return {"_id": f"{wa}-{minutes_ago}", "wa_id": wa, "direction": "in", "text": text,
            "type": "text", "intent": intent, "confidence": conf, "entities": [],
            "message_id": f"wamid.{wa}.{minutes_ago}",
            "at": NOW - timedelta(minutes=minutes_ago), "latency_ms": None, "fallback": False,
            "handoff": False, "language": "id", **kw}


@pytest.fixture
def seeded(sync_store: MongoStore) -> MongoStore:
    patient = User(id="pat-r1", name="Budi Santoso", whatsapp="6281211112222")
    sync_store.insert_user(patient)
    sync_store.upsert_doctor(make_doctor(name="dr. Sari Wijaya"))
    sync_store.bookings.insert_one({"_id": "bk-r1", "ref": "ACD-EFG", "patient_id": "pat-r1"})
    sync_store.chat_logs.insert_many([
        log("6281211112222", "halo, saya budi mau batalkan acd efg", 30, "cancel", 0.42),
        log("6281211112222", "mau ke dr Sari besok", 20, "book", 0.51),
        log("6281211112222", "makasih", 10, "thank", 0.99),
        log("6281233334444", "wa saya 081234567890", 5, "nlu_fallback", 0.2, fallback=True),
        log("6281233334444", "tua banget ini", 60 * 24 * 10, "nlu_fallback", 0.1),  # too old
        {**log("6281233334444", "Baik kak", 4, None, None), "direction": "out"},
    ])
    return sync_store


@pytest.fixture
async def client(aiohttp_client: Any, seeded: MongoStore, tmp_path: Path) -> Any:
    app = web.Application()
    app[SETTINGS] = load_settings(admin_token=ADMIN)
    app[STORE] = Store(seeded)
    # access tokens are checked against the revocations in Redis (the embedded fakeredis)
    app[COORDINATOR] = Coordinator(redis_client(None), namespace=f"retrain-{uuid.uuid4().hex}:")
    project = Project.at(write_project(tmp_path / "assistant"), test_set="tests/nlu_test_set.yml")
    routes.setup(app, project)
    return await aiohttp_client(app)


def auth(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_get_review_is_masked_yaml(client: Any) -> None:
    resp = await client.get("/admin/nlu/review", params={"days": "2", "threshold": "0.6"},
                            headers=auth())
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/x-yaml")
    assert "attachment" in resp.headers["Content-Disposition"]
    text = await resp.text()
    data = yaml.safe_load(text)
    assert [(b["intent"], b["examples"].strip()) for b in data["nlu"]] == [
        ("book", "- mau ke dr Sari besok"),
        ("cancel", "- halo, saya <NAME> mau batalkan <REF>"),
        ("nlu_fallback", "- wa saya <PHONE>")]
    assert "budi" not in text.lower() and "0812" not in text and "tua banget" not in text
    assert resp.headers["X-Review-Messages"] == "3"


async def test_post_review_saves_the_file(client: Any) -> None:
    resp = await client.post("/admin/nlu/review", params={"threshold": "0.45"},
                             headers=auth())
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["messages"] == 2 and body["groups"] == 2
    assert body["by_intent"] == {"cancel": 1, "nlu_fallback": 1}
    assert Path(body["file"]).read_text() == body["yaml"]


@pytest.mark.parametrize(("params", "status"), [({"days": "0"}, 422),
                                                 ({"threshold": "abc"}, 422)])
async def test_review_bad_query(client: Any, params: dict[str, str], status: int) -> None:
    resp = await client.get("/admin/nlu/review", params=params, headers=auth())
    assert resp.status == status
    assert (await resp.json())["error"] == "invalid_input"


async def test_admin_only(client: Any) -> None:
    settings = client.app[SETTINGS]
    patient = User(id="pat-x", name="X", role=Role.patient)
    patient_token = issue_tokens(settings, patient)["access_token"]
    for method, path in (("GET", "/admin/nlu/review"), ("POST", "/admin/nlu/review"),
                         ("GET", "/admin/nlu/report")):
        assert (await client.request(method, path)).status == 401
        assert (await client.request(method, path, headers=auth(patient_token))).status == 403


async def test_report_latest(client: Any) -> None:
    resp = await client.get("/admin/nlu/report", headers=auth())
    assert resp.status == 404
    reports = client.app[routes.PROJECT].reports_dir
    reports.mkdir(parents=True)
    (reports / "latest.md").write_text("# NLU retraining: promoted\n")
    (reports / "latest.json").write_text('{"decision": "promoted"}')
    resp = await client.get("/admin/nlu/report", headers=auth())
    assert resp.status == 200 and resp.content_type == "text/markdown"
    assert await resp.text() == "# NLU retraining: promoted\n"
    resp = await client.get("/admin/nlu/report", params={"format": "json"}, headers=auth())
    assert (await resp.json()) == {"decision": "promoted"}
