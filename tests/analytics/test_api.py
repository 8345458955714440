"""GET /analytics over real HTTP (loopback), with the API's JWT; the dashboard's files."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from analytics.service import AnalyticsService
from app.http.auth import issue_tokens
from app.keys import SETTINGS
from app.main import create_app
from app.settings import Settings
from booking.models import Role, User
from booking.passwords import hash_password
from booking.store import MongoStore, Store
from tests.analytics.conftest import seed, week_query
from tests.conftest import REDIS_TEST_URL

PASSWORD = "rahasia-admin-123"
WEEK = {"from": "2026-12-07", "to": "2026-12-13"}


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per run


def app_settings(namespace: str) -> Settings:
    return Settings(roles="api", redis_url=REDIS_TEST_URL, redis_namespace=namespace,
                    load_demo_data=False, mongodb_url="mongomock://")


@pytest.fixture
async def client(aiohttp_client: Any, sync_store: MongoStore, redis_namespace: str,
                 coordinator: Any) -> AsyncIterator[TestClient]:
    app = create_app(app_settings(redis_namespace), store=sync_store)
    client = await aiohttp_client(app)
    # Seeded after start-up: the core's ensure_indexes (run at start) refuses existing
    # documents with null in its unique sparse fields on mongomock (and on MongoDB).
    seed(sync_store, admin_password_hash=password_hash())
    sync_store.insert_user(User(id="pat-x", email="pat@example.com", role=Role.patient,
                                whatsapp="6281100000099"))
    yield client


def bearer(client: TestClient, user_id: str) -> dict[str, str]:
    """A real access token from the API's issuer (login itself is tested once below)."""
    user = User(id=user_id, role=Role.admin if user_id == "admin-1" else Role.patient)
    token = issue_tokens(client.app[SETTINGS], user)["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def test_requires_an_admin_token(client: TestClient) -> None:
    resp = await client.get("/analytics", params=WEEK)
    assert resp.status == 401
    assert (await resp.json())["error"] == "unauthorized"
    resp = await client.get("/analytics", params=WEEK, headers=bearer(client, "pat-x"))
    assert resp.status == 403
    resp = await client.get("/analytics", params=WEEK,
                            headers={"Authorization": "Bearer not-a-jwt"})
    assert resp.status == 401


async def test_login_then_metrics_equal_the_service(client: TestClient,
                                                    sync_store: MongoStore,
                                                    coordinator: Any) -> None:
    login = await client.post("/auth/login", json={"email": "admin@test.klinik.id",
                                                   "password": PASSWORD})
    assert login.status == 200
    token = (await login.json())["access_token"]
    resp = await client.get("/analytics", params=WEEK,
                            headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = await resp.json()
    expected = await AnalyticsService(Store(sync_store), coordinator).compute(week_query())
    assert body["metrics"] == expected["metrics"]
    assert body["query"] == {"from": "2026-12-07", "to": "2026-12-13", "tz": "Asia/Jakarta",
                             "city": None, "specialty": None, "doctor_id": None}
    assert body["metrics"]["no_show_rate"]["value"]["rate"] == 0.25
    assert body["metrics"]["no_show_rate"]["description"].startswith("Share of past")
    assert [d["id"] for d in body["options"]["doctors"]] == ["dA", "dB", "dC"]
    assert body["options"]["cities"] == ["Jakarta", "Makassar"]


async def test_filters_and_time_zone_from_the_query_string(client: TestClient) -> None:
    resp = await client.get("/analytics", headers=bearer(client, "admin-1"),
                            params={**WEEK, "tz": "Asia/Makassar", "specialty": "pediatrics"})
    body = await resp.json()
    assert resp.status == 200
    assert body["query"]["tz"] == "Asia/Makassar"
    assert [d["doctor_id"] for d in body["metrics"]["per_doctor"]["value"]] == ["dB"]


@pytest.mark.parametrize("params", [
    {"from": "2026-12-13", "to": "2026-12-07"}, {"tz": "Nowhere/City"},
    {"from": "2020-01-01", "to": "2026-12-07"}, {"bogus": "1"}, {"city": "x';$where"}])
async def test_bad_queries_are_422(client: TestClient, params: dict[str, str]) -> None:
    resp = await client.get("/analytics", params=params, headers=bearer(client, "admin-1"))
    assert resp.status == 422
    body = await resp.json()
    assert body["error"] == "validation_error" and body["details"]["errors"]


async def test_definitions_endpoint(client: TestClient) -> None:
    resp = await client.get("/analytics/definitions", headers=bearer(client, "admin-1"))
    body = await resp.json()
    assert resp.status == 200
    assert body["conversion"]["scope"] == "bookings"
    assert "nearest-rank" in body["bot_response_time"]["computation"]


async def test_dashboard_files_are_served_with_a_strict_csp(client: TestClient) -> None:
    page = await client.get("/dashboard")
    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert '<canvas id="chart-bookings-day">' in html and "/dashboard/app.js" in html
    js = await client.get("/dashboard/app.js")
    assert js.status == 200 and js.headers["Content-Type"].startswith("application/javascript")
    css = await client.get("/dashboard/style.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    chart = await client.get("/dashboard/vendor/chart.umd.js")
    assert chart.status == 200, "run: npm install --prefix dashboard"
    assert "Chart" in (await chart.text())[:5000]
    for bad in ("/dashboard/package.json", "/dashboard/..%2Fanalytics%2Froutes.py",
                "/dashboard/index.html"):
        assert (await client.get(bad)).status == 404


async def test_documented_in_the_openapi_document(client: TestClient) -> None:
    doc = await (await client.get("/openapi.json")).json()
    op = doc["paths"]["/analytics"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"from", "to", "tz", "city", "specialty",
                                                     "doctor_id"}
    assert "admin" in op["description"] and op["security"] == [{"bearerAuth": []}]


async def test_default_range_is_the_last_30_days_in_the_clinic_zone(client: TestClient) -> None:
    resp = await client.get("/analytics", params={"tz": "Asia/Jayapura"},
                            headers=bearer(client, "admin-1"))
    body = await resp.json()
    assert resp.status == 200
    days = body["metrics"]["bookings_per_day"]["value"]["days"]
    assert len(days) == 30 and days[-1] == body["query"]["to"]
