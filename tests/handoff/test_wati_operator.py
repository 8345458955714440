"""Operator assignment against the sandbox (v3 and v1), and the v3 request checked against
Wati's published OpenAPI document (shared/reference/wati-openapi-v3.json)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest
from aiohttp import web

from notify.whatsapp import WatiClient, WatiRejected
from sandbox import WatiSandbox
from tests.bot.conftest import API_TOKEN

WA = "6281234567890"
SPEC = Path(__file__).resolve().parents[3] / "shared/reference/wati-openapi-v3.json"
if not SPEC.exists():  # a checkout outside /work: the copy beside the project
    SPEC = Path("/work/shared/reference/wati-openapi-v3.json")


def openapi30_to_jsonschema(schema: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` is JSON Schema's type [T, "null"]."""
    if isinstance(schema, dict):
        out = {k: openapi30_to_jsonschema(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") and isinstance(schema.get("type"), str):
            out["type"] = [schema["type"], "null"]
        return out
    return schema


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.mark.parametrize("version", ["v3", "v1"])
async def test_assign_and_give_back(session: aiohttp.ClientSession, sandbox: WatiSandbox,
                                    version: str) -> None:
    wati = WatiClient(session, sandbox.url, API_TOKEN, version=version, backoff_s=0.001)
    await wati.assign_operator(WA, "cs@klinik.test")
    assert sandbox.state.operators == {WA: "cs@klinik.test"}
    await wati.assign_operator(WA, None)
    assert sandbox.state.operators == {}
    assert [(a["api"], a["email"]) for a in sandbox.state.assignments] == [
        (version, "cs@klinik.test"), (version, None)]


async def test_bad_assignment_is_rejected_and_not_retried(session: aiohttp.ClientSession,
                                                          sandbox: WatiSandbox) -> None:
    wati = WatiClient(session, sandbox.url, API_TOKEN, backoff_s=0.001)
    with pytest.raises(WatiRejected):
        await wati.assign_operator(WA, "not-an-email")
    assert len(sandbox.state.attempts) == 1 and sandbox.state.operators == {}


@pytest.mark.skipif(not SPEC.exists(), reason="Wati's OpenAPI document is not beside the project")
@pytest.mark.parametrize("email", ["cs@klinik.test", None])
async def test_v3_request_matches_watis_openapi(session: aiohttp.ClientSession,
                                                email: str | None) -> None:
    spec = json.loads(SPEC.read_text())
    op = spec["paths"]["/api/ext/v3/conversations/{target}/operator"]["put"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    schema = openapi30_to_jsonschema(
        spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    seen: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "path": request.path,
                     "type": request.content_type, "body": await request.json()})
        return web.json_response({"result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        wati = WatiClient(session, f"http://127.0.0.1:{port}", API_TOKEN)
        await wati.assign_operator(WA, email)
    finally:
        await runner.cleanup()
    [req] = seen
    assert req["method"] == "PUT" and req["path"] == f"/api/ext/v3/conversations/{WA}/operator"
    assert req["type"] == "application/json"
    jsonschema.validate(req["body"], schema)  # additionalProperties false, assignee_email
    assert req["body"] == {"assignee_email": email}
