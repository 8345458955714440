"""API test fixtures: a real loopback server (pytest-aiohttp) over mongomock and the real Redis.

Every test gets its own Redis namespace (deleted afterwards) and its own store with
a small seed: two doctors, an admin, two doctor accounts and two patients.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from app.http.auth import issue_tokens
from app.internal import bound_port
from app.main import create_app
from app.settings import Settings
from booking.models import Doctor, Role, User
from booking.passwords import hash_password
from booking.store import MongoStore
from tests.conftest import REDIS_TEST_URL, drop_namespace, make_doctor

PASSWORD = "rahasia-123"
JWT_SECRET = "test-secret-for-the-api-0123456789abcdef"
CLOSED_PORT_URL = "http://127.0.0.1:9"  # nothing listens there: Rasa "down"


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Seed:
    doctor: Doctor
    doctor2: Doctor
    admin: User
    doctor_user: User
    doctor2_user: User
    patient: User
    patient2: User
    extra: dict[str, Any] = field(default_factory=dict)


def seed_store(sync_store: MongoStore, password_hash: str) -> Seed:
    """Seed after the app started: its start-up re-creates the unique sparse indexes, which
    (in mongomock as in MongoDB) count stored nulls, e.g. two doctors without a calendar token.
    """
    doctor = make_doctor(user_id="user-doc-1", whatsapp="6281211110001")
    doctor2 = make_doctor(id="doc-test-2", name="dr. Test Dua", user_id="user-doc-2")
    for d in (doctor, doctor2):
        sync_store.upsert_doctor(d)
    users = dict(
        admin=User(id="user-admin", name="Admin Uji", email="admin@test.id", role=Role.admin,
                   whatsapp="6281200000201", password_hash=password_hash),
        doctor_user=User(id="user-doc-1", name="dr. Test Satu", email="doc1@test.id",
                         role=Role.doctor, doctor_id=doctor.id, whatsapp="6281200000202",
                         password_hash=password_hash),
        doctor2_user=User(id="user-doc-2", name="dr. Test Dua", email="doc2@test.id",
                          role=Role.doctor, doctor_id=doctor2.id, whatsapp="6281200000203",
                          password_hash=password_hash),
        patient=User(id="user-pat-1", name="Rina Pasien", email="rina@test.id",
                     whatsapp="6281200000101", role=Role.patient, password_hash=password_hash),
        patient2=User(id="user-pat-2", name="Budi Pasien", email="budi@test.id",
                      whatsapp="6281200000102", role=Role.patient, password_hash=password_hash),
    )
    for user in users.values():
        sync_store.insert_user(user)
    return Seed(doctor=doctor, doctor2=doctor2, **users)


@pytest.fixture
async def namespace(redis_namespace: str) -> AsyncIterator[str]:
    yield redis_namespace
    await drop_namespace(redis_namespace)


def make_settings(namespace: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(roles="api", redis_url=REDIS_TEST_URL,
                                  redis_namespace=namespace, load_demo_data=False,
                                  rasa_url=CLOSED_PORT_URL, jwt_secret=JWT_SECRET)
    values.update(overrides)
    return Settings(**values)


@dataclass
class Api:
    client: TestClient
    settings: Settings
    seed: Seed
    store: MongoStore

    def headers(self, user: User) -> dict[str, str]:
        return {"Authorization": "Bearer " + issue_tokens(self.settings, user)["access_token"]}

    async def first_slots(self, doctor_id: str, n: int = 1, *, days: int = 20) -> list[str]:
        """The first n free slots a patient can still change: the app runs on the real
        clock, and a slot inside the 2-hour change cutoff (the first of the day from 07:00
        WIB on, with 60 minutes of notice) could be booked but not cancelled."""
        today = date.today()
        resp = await self.client.get(f"/doctors/{doctor_id}/slots", params={
            "from": today.isoformat(), "to": (today + timedelta(days=days)).isoformat()})
        assert resp.status == 200, await resp.text()
        changeable = datetime.now(UTC) + timedelta(hours=3)
        slots = [s for s in (await resp.json())["slots"]
                 if datetime.fromisoformat(s["start"]) >= changeable]
        assert len(slots) >= n
        return [slot["start"] for slot in slots[:n]]

    async def internal_get(self, path: str, headers: dict[str, str] | None = None
                           ) -> tuple[int, str]:
        """GET on the app's internal listener (actions, /metrics): status and body."""
        port = bound_port(self.client.server.app)
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{port}{path}", headers=headers) as resp:
            return resp.status, await resp.text()

    async def book(self, user: User, doctor_id: str, start: str, **extra: Any) -> Any:
        return await self.client.post("/bookings", json={"doctor_id": doctor_id, "start": start,
                                                         **extra}, headers=self.headers(user))


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def api(aiohttp_client: Any, sync_store: MongoStore, password_hash: str, namespace: str,
              settings_overrides: dict[str, Any]) -> Api:
    settings = make_settings(namespace, **settings_overrides)
    client = await aiohttp_client(create_app(settings, store=sync_store))
    return Api(client, settings, seed_store(sync_store, password_hash), sync_store)
