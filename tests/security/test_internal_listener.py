"""The Rasa actions endpoint and /metrics: only on the internal listener, the actions only
with the shared token. Without these, anyone reaching the app could run any action as any
WhatsApp sender (list, cancel or book in a stranger's name by knowing their number)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from app.internal import bound_port
from tests.api.conftest import Api
from tests.rasa.conftest import DOMAIN
from tests.security.helpers import bearer

TOKEN = "actions-token-for-the-catalogue-0123456789"  # noqa: S105
VICTIM = "6281200000101"  # seed patient Rina's WhatsApp number


def _call(action: str) -> dict[str, Any]:
    slots = {name: None for name in DOMAIN["slots"]} | {"language": "id"}
    latest = {"text": "booking saya", "intent": {"name": "list_appointments",
                                                   "confidence": 0.99}, "entities": []}
    return {"next_action": action, "sender_id": VICTIM, "version": "3.6.21", "domain": DOMAIN,
            "tracker": {"sender_id": VICTIM, "slots": slots, "latest_message": latest,
                        "events": [], "paused": False, "followup_action": None,
                        "active_loop": {}, "latest_action_name": "action_listen"}}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"roles": "api,actions", "actions_token": TOKEN,
            "metrics_token": "metrics-token-0123456789abcdef0123"}


@pytest.fixture
async def internal(api: Api) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    async with aiohttp.ClientSession() as session:
        yield session, f"http://127.0.0.1:{bound_port(api.client.server.app)}"


async def test_actions_endpoint_without_token(
        internal: tuple[aiohttp.ClientSession, str]) -> None:
    session, base = internal
    for headers in ({}, bearer("wrong"), bearer(TOKEN + "x"), {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}):
        async with session.post(base + "/webhook/actions", json=_call("action_list_appointments"),
                                headers=headers) as resp:
            assert resp.status == 401, headers
            assert await resp.json() == {"error": "unauthorized"}
        async with session.get(base + "/webhook/actions", headers=headers) as resp:
            assert resp.status == 401


async def test_actions_endpoint_refuses_before_reading_the_body(
        internal: tuple[aiohttp.ClientSession, str]) -> None:
    session, base = internal
    huge = io.BytesIO(b"x" * (8 * 1024 * 1024))  # past the 4 MB limit: read, it'd be a 413
    async with session.post(base + "/webhook/actions", data=huge,
                            headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 401


async def test_actions_endpoint_with_the_token_runs_the_action(
        internal: tuple[aiohttp.ClientSession, str]) -> None:
    session, base = internal
    async with session.post(base + "/webhook/actions", json=_call("action_list_appointments"),
                            headers=bearer(TOKEN)) as resp:
        assert resp.status == 200
        assert (await resp.json())["responses"]


async def test_actions_endpoint_not_on_the_public_port(api: Api) -> None:
    for method in ("GET", "POST"):
        resp = await api.client.request(method, "/webhook/actions",
                                        json=_call("action_list_appointments"),
                                        headers=bearer(TOKEN))
        assert resp.status == 404, method


async def test_metrics_not_on_the_public_port(api: Api) -> None:
    resp = await api.client.get("/metrics", headers=api.headers(api.seed.admin))
    assert resp.status == 404
    doc = await (await api.client.get("/openapi.json")).json()
    assert "/metrics" not in doc["paths"]


async def test_metrics_on_the_internal_port_want_their_token(
        api: Api, internal: tuple[aiohttp.ClientSession, str]) -> None:
    session, base = internal
    async with session.get(base + "/metrics") as resp:
        assert resp.status == 401
    async with session.get(base + "/metrics",
                           headers=bearer(api.settings.metrics_token.get_secret_value()  # type: ignore[union-attr]
                                          )) as resp:
        assert resp.status == 200
        assert "klinik_http_requests_total" in await resp.text()
