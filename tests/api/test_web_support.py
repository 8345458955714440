"""Endpoints the web app needs: the catalogue, holds (role-checked, 409 with alternatives),
a booking's .ics for its owner only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking.catalog import CITIES, SPECIALTIES
from tests.api.conftest import Api


async def test_catalog_lists_specialties_and_cities_with_synonyms(api: Api) -> None:
    resp = await api.client.get("/catalog")
    assert resp.status == 200
    body = await resp.json()
    assert len(body["specialties"]) == len(SPECIALTIES)
    assert len(body["cities"]) == len(CITIES)
    pediatrics = next(s for s in body["specialties"] if s["code"] == "pediatrics")
    assert pediatrics["name_id"] == "Dokter Anak" and "dokter anak" in pediatrics["synonyms"]
    jogja = next(c for c in body["cities"] if c["name"] == "Yogyakarta")
    assert "jogja" in jogja["aliases"] and jogja["timezone"] == "Asia/Jakarta"


async def test_a_hold_hides_the_slot_from_other_patients(api: Api) -> None:
    seed = api.seed
    [start, second] = await api.first_slots("doc-test-1", 2)
    resp = await api.client.post("/holds", json={"doctor_id": "doc-test-1", "start": start},
                                 headers=api.headers(seed.patient))
    assert resp.status == 201, await resp.text()
    held = await resp.json()
    assert held["start"] == start and held["doctor_id"] == "doc-test-1"
    left = datetime.fromisoformat(held["expires_at"]) - datetime.now(UTC)
    assert timedelta(0) < left <= timedelta(seconds=api.settings.hold_seconds + 5)
    # gone from the public slots, and the other patient's hold or booking loses
    assert (await api.first_slots("doc-test-1"))[0] == second
    other = await api.client.post("/holds", json={"doctor_id": "doc-test-1", "start": start},
                                  headers=api.headers(seed.patient2))
    assert other.status == 409
    body = await other.json()
    assert body["error"] == "slot_taken" and body["alternatives"]
    assert (await api.book(seed.patient2, "doc-test-1", start)).status == 409
    # the holder books it
    assert (await api.book(seed.patient, "doc-test-1", start)).status == 201


async def test_releasing_a_hold_frees_the_slot(api: Api) -> None:
    [start] = await api.first_slots("doc-test-1")
    body = {"doctor_id": "doc-test-1", "start": start}
    headers = api.headers(api.seed.patient)
    assert (await api.client.post("/holds", json=body, headers=headers)).status == 201
    assert (await api.first_slots("doc-test-1"))[0] != start
    assert (await api.client.post("/holds/release", json=body, headers=headers)).status == 204
    assert (await api.first_slots("doc-test-1"))[0] == start


async def test_holds_are_for_signed_in_patients(api: Api) -> None:
    [start] = await api.first_slots("doc-test-1")
    body = {"doctor_id": "doc-test-1", "start": start}
    assert (await api.client.post("/holds", json=body)).status == 401
    for staff in (api.seed.admin, api.seed.doctor_user):
        resp = await api.client.post("/holds", json=body, headers=api.headers(staff))
        assert resp.status == 403
    bad = await api.client.post("/holds", json={"doctor_id": {"$ne": None}, "start": start},
                                headers=api.headers(api.seed.patient))
    assert bad.status == 422


async def test_booking_ics_for_its_owner(api: Api) -> None:
    [start] = await api.first_slots("doc-test-1")
    booked = await (await api.book(api.seed.patient, "doc-test-1", start)).json()
    path = f"/bookings/{booked['id']}/calendar.ics"
    resp = await api.client.get(path, headers=api.headers(api.seed.patient))
    assert resp.status == 200 and resp.content_type == "text/calendar"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{booked["ref"]}.ics"'
    text = await resp.text()
    assert "BEGIN:VEVENT" in text and booked["ref"] in text and "Klinik Uji" in text
    start_utc = datetime.fromisoformat(start).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start_utc}" in text
    # the doctor's own and admins may read it; another patient gets the missing answer
    assert (await api.client.get(path, headers=api.headers(api.seed.doctor_user))).status == 200
    assert (await api.client.get(path, headers=api.headers(api.seed.admin))).status == 200
    other = await api.client.get(path, headers=api.headers(api.seed.patient2))
    assert other.status == 404
    assert (await api.client.get(path)).status == 401


async def test_admins_list_deactivated_doctors_too(api: Api) -> None:
    admin = api.headers(api.seed.admin)
    resp = await api.client.patch("/doctors/doc-test-2", json={"active": False}, headers=admin)
    assert resp.status == 200
    public = await (await api.client.get("/doctors")).json()
    assert [d["id"] for d in public["items"]] == ["doc-test-1"]
    resp = await api.client.get("/doctors", params={"include_inactive": "true"}, headers=admin)
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    listed = {d["id"]: d["active"] for d in (await resp.json())["items"]}
    assert listed == {"doc-test-1": True, "doc-test-2": False}
    anonymous = await api.client.get("/doctors", params={"include_inactive": "true"})
    assert anonymous.status == 401
    for user in (api.seed.patient, api.seed.doctor_user):
        resp = await api.client.get("/doctors", params={"include_inactive": "true"},
                                    headers=api.headers(user))
        assert resp.status == 403
