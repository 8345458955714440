"""Doctors: directory (filters, paging, Redis cache and invalidation), one doctor, slots."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.conftest import make_doctor


def _next_weekday(weekday: int) -> date:
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


async def test_list_filters_and_pages(api: Api) -> None:
    api.store.upsert_doctor(make_doctor(id="doc-bdg-kid", name="dr. Anak Bandung",
                                        specialty="pediatrics", city="Bandung"))
    resp = await api.client.get("/doctors", params={"specialty": "dokter anak", "city": "bdg"})
    assert resp.status == 200
    body = await resp.json()
    assert [d["id"] for d in body["items"]] == ["doc-bdg-kid"] and body["total"] == 1
    assert body["items"][0]["specialty"] == "pediatrics"
    named = await (await api.client.get("/doctors", params={"q": "dua"})).json()
    assert [d["id"] for d in named["items"]] == ["doc-test-2"]
    page2 = await (await api.client.get("/doctors", params={"page": 2, "page_size": 2})).json()
    assert page2["total"] == 3 and page2["page"] == 2 and len(page2["items"]) == 1


async def test_available_on_filters_by_free_slots(api: Api) -> None:
    saturday = _next_weekday(5)  # the test doctors work Monday to Friday
    monday = _next_weekday(0)
    sat = await (await api.client.get("/doctors", params={"available_on": saturday.isoformat()}
                                      )).json()
    mon = await (await api.client.get("/doctors", params={"available_on": monday.isoformat()}
                                      )).json()
    assert sat["total"] == 0
    assert {d["id"] for d in mon["items"]} == {"doc-test-1", "doc-test-2"}


async def test_list_is_cached_and_invalidated_on_changes(api: Api) -> None:
    first = await api.client.get("/doctors")
    assert first.headers["X-Cache"] == "miss"
    second = await api.client.get("/doctors")
    assert second.headers["X-Cache"] == "hit"
    assert await second.json() == await first.json()
    # A change behind the API's back is not seen until the TTL (cache-aside)...
    api.store.upsert_doctor(make_doctor(id="doc-x", name="dr. Baru Sekali"))
    assert (await (await api.client.get("/doctors")).json())["total"] == 2
    # ...but a change through the API invalidates at once.
    patch = await api.client.patch("/doctors/doc-test-2", json={"fee": 99_000},
                                   headers=api.headers(api.seed.admin))
    assert patch.status == 200
    third = await api.client.get("/doctors")
    assert third.headers["X-Cache"] == "miss"
    body = await third.json()
    assert body["total"] == 3
    assert {d["id"]: d["fee"] for d in body["items"]}["doc-test-2"] == 99_000


@pytest.mark.parametrize("settings_overrides", [{"doctors_cache_seconds": 0}])
async def test_cache_can_be_switched_off(api: Api) -> None:
    await api.client.get("/doctors")
    assert (await api.client.get("/doctors")).headers["X-Cache"] == "miss"


@pytest.mark.parametrize("params", [
    {"specialty": "astrologi"}, {"city": "Atlantis"}, {"page": 0}, {"page_size": 1000},
    {"available_on": "besok"}, {"sort": "name"}, {"specialty[$ne]": "x"}, {"q": ""},
])
async def test_list_validation(api: Api, params: dict[str, Any]) -> None:
    resp = await api.client.get("/doctors", params=params)
    assert resp.status == 422
    assert (await resp.json())["error"] == "validation_error"


async def test_repeated_query_parameter_is_refused(api: Api) -> None:
    resp = await api.client.get("/doctors?city=Jakarta&city=Bandung")
    assert resp.status == 422


async def test_one_doctor_and_404(api: Api) -> None:
    resp = await api.client.get("/doctors/doc-test-1")
    assert resp.status == 200
    body = await resp.json()
    assert body["name"] == "dr. Test Satu" and body["timezone"] == "Asia/Jakarta"
    assert "calendar_token" not in body and "user_id" not in body
    missing = await api.client.get("/doctors/nope")
    assert missing.status == 404
    assert await missing.json() == {"error": "not_found", "message": "doctor not found",
                                    "details": {"doctor_id": "nope"}}


async def test_slots_of_one_date_carry_the_clinic_offset(api: Api) -> None:
    monday = _next_weekday(0)
    resp = await api.client.get("/doctors/doc-test-1/slots", params={"date": monday.isoformat()})
    assert resp.status == 200
    body = await resp.json()
    starts = [s["start"] for s in body["slots"]]
    assert starts[0] == f"{monday.isoformat()}T09:00:00+07:00"
    assert f"{monday.isoformat()}T12:00:00+07:00" not in starts  # lunch gap
    assert len(starts) == 12
    assert body["slots"][0]["end"] == f"{monday.isoformat()}T09:30:00+07:00"


async def test_slots_in_another_zone(api: Api) -> None:
    api.store.upsert_doctor(make_doctor(id="doc-jyp", timezone="Asia/Jayapura"))
    monday = _next_weekday(0)
    body = await (await api.client.get("/doctors/doc-jyp/slots",
                                       params={"date": monday.isoformat()})).json()
    assert body["timezone"] == "Asia/Jayapura"
    assert body["slots"][0]["start"].endswith("+09:00")
    assert datetime.fromisoformat(body["slots"][0]["start"]).hour == 9


async def test_slots_range_and_booked_slots_disappear(api: Api) -> None:
    monday = _next_weekday(0)
    params = {"from": monday.isoformat(), "to": (monday + timedelta(days=1)).isoformat()}
    before = (await (await api.client.get("/doctors/doc-test-1/slots", params=params)).json())
    assert len(before["slots"]) == 24
    booked = await api.book(api.seed.patient, "doc-test-1", before["slots"][3]["start"])
    assert booked.status == 201
    after = (await (await api.client.get("/doctors/doc-test-1/slots", params=params)).json())
    assert len(after["slots"]) == 23
    assert before["slots"][3] not in after["slots"]


@pytest.mark.parametrize("params", [
    {}, {"date": "2026-02-30"}, {"from": "2026-12-01"},
    {"from": "2026-12-10", "to": "2026-12-01"}, {"from": "2026-12-01", "to": "2027-03-01"},
    {"date": "2026-12-01", "from": "2026-12-01", "to": "2026-12-02"}, {"date": {"$ne": 1}},
])
async def test_slots_validation(api: Api, params: dict[str, Any]) -> None:
    resp = await api.client.get("/doctors/doc-test-1/slots",
                                params={k: str(v) for k, v in params.items()})
    assert resp.status == 422


async def test_inactive_doctor_has_no_slots(api: Api) -> None:
    api.store.upsert_doctor(make_doctor(id="doc-off", active=False))
    monday = _next_weekday(0)
    body = await (await api.client.get("/doctors/doc-off/slots",
                                       params={"date": monday.isoformat()})).json()
    assert body["slots"] == []
    listed = await (await api.client.get("/doctors", params={"q": "Test"})).json()
    assert "doc-off" not in {d["id"] for d in listed["items"]}


async def test_admin_doctor_crud_and_roles(api: Api) -> None:
    admin = api.headers(api.seed.admin)
    payload = {"name": "dr. Gigi Baru", "specialty": "drg", "city": "jogja",
               "clinic": "Klinik Gigi", "fee": 200_000, "weekly": [
                   {"weekday": 0, "start": "08:00", "end": "12:00"}]}
    for user in (api.seed.patient, api.seed.doctor_user):
        denied = await api.client.post("/doctors", json=payload, headers=api.headers(user))
        assert denied.status == 403
    created = await api.client.post("/doctors", json=payload, headers=admin)
    assert created.status == 201, await created.text()
    doc = await created.json()
    assert doc["specialty"] == "dentistry" and doc["city"] == "Yogyakarta"
    stored = api.store.get_doctor(doc["id"])
    assert stored.weekly[0].start.hour == 8
    bad = await api.client.post("/doctors", json={**payload, "owner": "me"}, headers=admin)
    assert bad.status == 422
    patched = await api.client.patch(f"/doctors/{doc['id']}", json={"active": False},
                                     headers=admin)
    assert (await patched.json())["active"] is False
    assert (await api.client.patch(f"/doctors/{doc['id']}", json={"fee": 1},
                                   headers=api.headers(api.seed.patient))).status == 403
    deleted = await api.client.delete(f"/doctors/{doc['id']}", headers=admin)
    assert deleted.status == 204
    assert (await api.client.get(f"/doctors/{doc['id']}")).status == 404
    assert (await api.client.delete("/doctors/nope", headers=admin)).status == 404


async def test_doctor_with_upcoming_bookings_cannot_be_deleted(api: Api) -> None:
    [start] = await api.first_slots("doc-test-2")
    assert (await api.book(api.seed.patient, "doc-test-2", start)).status == 201
    resp = await api.client.delete("/doctors/doc-test-2", headers=api.headers(api.seed.admin))
    assert resp.status == 409
    assert (await resp.json())["error"] == "conflict"
    assert api.store.get_doctor("doc-test-2").id == "doc-test-2"
