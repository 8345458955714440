"""100 patients race for one slot through the HTTP API: exactly one wins, 99 get 409 + others."""

from __future__ import annotations

import asyncio

from app.http.auth import issue_tokens
from booking.models import Role, User
from tests.api.conftest import Api

RACERS = 100


async def test_hundred_parallel_bookings_for_one_slot(api: Api) -> None:
    patients = [User(id=f"racer-{i:03d}", name=f"Pasien {i}", email=f"racer{i}@test.id",
                     whatsapp=f"62812555{i:05d}", role=Role.patient) for i in range(RACERS)]
    for patient in patients:
        api.store.insert_user(patient)
    [start] = await api.first_slots("doc-test-1")

    async def attempt(patient: User) -> tuple[int, dict[str, object]]:
        token = issue_tokens(api.settings, patient)["access_token"]
        resp = await api.client.post("/bookings", json={"doctor_id": "doc-test-1",
                                                        "start": start},
                                     headers={"Authorization": f"Bearer {token}"})
        return resp.status, await resp.json()

    results = await asyncio.gather(*[attempt(p) for p in patients])
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (RACERS - 1)
    for status, body in results:
        if status == 409:
            assert body["error"] == "slot_taken"
            alternatives = body["alternatives"]
            assert isinstance(alternatives, list) and alternatives
            assert all(a["start"] != start for a in alternatives)
    assert api.store.bookings.count_documents({"doctor_id": "doc-test-1",
                                               "status": "confirmed"}) == 1
