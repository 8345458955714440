"""With Redis unreachable: logins still work (limits fail open), refresh fails closed (503),
bookings stay correct through the database, and /ready says not ready."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.http.auth import issue_tokens
from app.main import create_app
from booking.store import MongoStore
from tests.api.conftest import PASSWORD, make_settings, seed_store

DEAD_REDIS = "redis://127.0.0.1:1/0"


async def test_redis_down(aiohttp_client: Any, sync_store: MongoStore, password_hash: str,
                          redis_namespace: str) -> None:
    settings = make_settings(redis_namespace, redis_url=DEAD_REDIS)
    client = await aiohttp_client(create_app(settings, store=sync_store))
    seed = seed_store(sync_store, password_hash)
    login = await client.post("/auth/login", json={"email": "rina@test.id",
                                                   "password": PASSWORD})
    assert login.status == 200
    refresh = await client.post("/auth/refresh",
                                json={"refresh_token": (await login.json())["refresh_token"]})
    assert refresh.status == 503
    assert (await refresh.json())["error"] == "store_unavailable"
    ready = await client.get("/ready")
    assert ready.status == 503
    assert (await ready.json())["components"]["redis"]["ok"] is False
    listed = await client.get("/doctors")  # the cache is skipped, the answer still comes
    assert listed.status == 200 and (await listed.json())["total"] == 2
    today = date.today()
    slots = await client.get("/doctors/doc-test-1/slots", params={
        "from": today.isoformat(), "to": (today + timedelta(days=20)).isoformat()})
    start = (await slots.json())["slots"][0]["start"]
    headers = {"Authorization": "Bearer " + issue_tokens(settings, seed.patient)["access_token"]}
    first = await client.post("/bookings", json={"doctor_id": "doc-test-1", "start": start},
                              headers=headers)
    assert first.status == 201
    headers2 = {"Authorization": "Bearer "
                + issue_tokens(settings, seed.patient2)["access_token"]}
    second = await client.post("/bookings", json={"doctor_id": "doc-test-1", "start": start},
                               headers=headers2)
    assert second.status == 409
