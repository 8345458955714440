"""Operations: /ready per component (with a stand-in Rasa), /metrics, OpenAPI, docs, error shape."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.api.conftest import Api


@pytest.fixture
async def rasa_up() -> Any:
    """A loopback server answering GET /status like Rasa does."""
    app = web.Application()

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"model_file": "models/x.tar.gz"})

    app.router.add_get("/status", status)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


async def test_ready_reports_each_component(api: Api) -> None:
    resp = await api.client.get("/ready")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ready"
    assert body["components"]["mongodb"]["ok"] and body["components"]["redis"]["ok"]
    assert body["components"]["rasa"] == {"ok": False, "required": False,
                                          "detail": "ClientConnectorError"}


@pytest.mark.parametrize("settings_overrides", [{"roles": "api,bot", "wati_sandbox_port": 0}])
async def test_ready_needs_rasa_for_the_bot_role(api: Api) -> None:
    resp = await api.client.get("/ready")
    assert resp.status == 503
    assert (await resp.json())["components"]["rasa"]["required"] is True


async def test_ready_sees_a_running_rasa(aiohttp_client: Any, sync_store: Any, namespace: str,
                                         rasa_up: str) -> None:
    from app.main import create_app
    from tests.api.conftest import make_settings

    client = await aiohttp_client(create_app(make_settings(namespace, rasa_url=rasa_up),
                                             store=sync_store))
    body = await (await client.get("/ready")).json()
    assert body["components"]["rasa"] == {"ok": True, "required": False, "detail": "HTTP 200"}


async def test_metrics_count_requests_by_route_template(api: Api) -> None:
    await api.client.get("/doctors/doc-test-1")
    await api.client.get("/doctors/nope")
    _, text = await api.internal_get("/metrics")
    assert 'klinik_http_requests_total{method="GET",route="/doctors/{doctor_id}",status="200"}' \
        in text
    assert 'route="/doctors/{doctor_id}",status="404"' in text
    assert "klinik_http_request_seconds_bucket" in text
    assert "doc-test-1" not in text  # concrete ids never become labels
    [start] = await api.first_slots("doc-test-1")
    await api.book(api.seed.patient, "doc-test-1", start)
    _, text = await api.internal_get("/metrics")
    assert 'klinik_bookings_total{outcome="booked",source="web"}' in text


async def test_openapi_document_and_docs_page(api: Api) -> None:
    doc = await (await api.client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    booking_post = doc["paths"]["/bookings"]["post"]
    assert booking_post["security"] == [{"bearerAuth": []}]
    assert {"201", "401", "403", "409", "422"} <= set(booking_post["responses"])
    body_ref = booking_post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"doctor_id", "start"}
    slots = doc["paths"]["/doctors/{doctor_id}/slots"]["get"]
    assert {p["name"] for p in slots["parameters"]} == {"doctor_id", "date", "from", "to"}
    assert slots["security"] == []
    assert "/health" in doc["paths"] and "/users/{user_id}" in doc["paths"]
    page = await api.client.get("/docs")
    assert page.status == 200 and "/openapi.json" in await page.text()


async def test_unknown_route_and_method_use_the_error_shape(api: Api) -> None:
    missing = await api.client.get("/no/such/route")
    assert missing.status == 404
    assert set(await missing.json()) == {"error", "message", "details"}
    wrong_method = await api.client.put("/doctors")
    assert wrong_method.status == 405
    assert (await wrong_method.json())["error"] == "method_not_allowed"


async def test_request_size_limit(api: Api) -> None:
    huge = {"name": "x" * 300_000, "email": "big@test.id", "password": "panjang-sekali",
            "whatsapp": "081234567899"}
    resp = await api.client.post("/auth/register", json=huge)
    assert resp.status == 413
    assert (await resp.json())["error"] == "payload_too_large"


async def test_non_json_body_type(api: Api) -> None:
    resp = await api.client.post("/auth/login", data="email=a&password=b",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 415


@pytest.mark.parametrize("roles", ["actions", "scheduler"])
async def test_every_role_answers_ready(aiohttp_client: Any, sync_store: Any, namespace: str,
                                        roles: str) -> None:
    """Kubernetes probes /ready on each role's Deployment, not only the api's."""
    from app.main import create_app
    from tests.api.conftest import make_settings

    client = await aiohttp_client(create_app(make_settings(namespace, roles=roles),
                                             store=sync_store))
    resp = await client.get("/ready")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ready" and body["components"]["rasa"]["required"] is False
    assert body["components"]["mongodb"]["ok"] and body["components"]["redis"]["ok"]


async def test_the_gateway_is_not_ready_without_rasa(aiohttp_client: Any, sync_store: Any,
                                                     namespace: str) -> None:
    from app.main import create_app
    from tests.api.conftest import make_settings

    client = await aiohttp_client(create_app(
        make_settings(namespace, roles="bot", wati_sandbox_port=0), store=sync_store))
    resp = await client.get("/ready")
    assert resp.status == 503
    assert (await resp.json())["components"]["rasa"] == {
        "ok": False, "required": True, "detail": "ClientConnectorError"}
