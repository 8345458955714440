"""Bookings: create (idempotent, 409 with alternatives), list scoping, read, cancel,
reschedule, no-show; IDOR for every id-taking route; role and validation failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.models import Booking, BookingStatus, slot_key
from tests.api.conftest import Api


async def _booked(api: Api, user: Any = None, doctor_id: str = "doc-test-1",
                  index: int = 0) -> dict[str, Any]:
    starts = await api.first_slots(doctor_id, index + 1)
    resp = await api.book(user or api.seed.patient, doctor_id, starts[index])
    assert resp.status == 201, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


def _past_booking(api: Api) -> Booking:
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(hours=3)
    booking = Booking(ref="PAS-T34", patient_id=api.seed.patient.id, doctor_id="doc-test-1",
                      start=start, end=start + timedelta(minutes=30), created_at=now,
                      updated_at=now, slot_key=slot_key("doc-test-1", start))
    api.store.insert_booking(booking)
    return booking


async def test_book_returns_201_with_the_booking(api: Api) -> None:
    [start] = await api.first_slots("doc-test-1")
    resp = await api.book(api.seed.patient, "doc-test-1", start)
    assert resp.status == 201
    body = await resp.json()
    assert set(body) >= {"id", "ref", "doctor_id", "patient_id", "start", "end", "status"}
    assert body["patient_id"] == api.seed.patient.id and body["status"] == "confirmed"
    assert body["start"] == start and body["source"] == "web"
    stored = api.store.get_booking(body["id"])
    assert stored.start == datetime.fromisoformat(start)
    # the confirmation went to the outbox
    assert api.store.outbox.count_documents({"booking_id": body["id"]}) == 2


async def test_start_in_another_offset_means_the_same_instant(api: Api) -> None:
    [start] = await api.first_slots("doc-test-1")
    utc = datetime.fromisoformat(start).astimezone(UTC).isoformat()
    resp = await api.book(api.seed.patient, "doc-test-1", utc)
    assert resp.status == 201
    assert (await resp.json())["start"] == start


async def test_taken_slot_is_409_with_alternatives(api: Api) -> None:
    first = await _booked(api)
    resp = await api.book(api.seed.patient2, "doc-test-1", first["start"])
    assert resp.status == 409
    body = await resp.json()
    assert body["error"] == "slot_taken" and len(body["alternatives"]) == 3
    assert all(a["start"] != first["start"] for a in body["alternatives"])
    assert body["alternatives"][0]["doctor_id"] == "doc-test-1"


async def test_idempotency_key_never_books_twice(api: Api) -> None:
    starts = await api.first_slots("doc-test-1", 2)
    headers = {**api.headers(api.seed.patient), "Idempotency-Key": "retry-key-0001"}
    payload = {"doctor_id": "doc-test-1", "start": starts[0]}
    first = await api.client.post("/bookings", json=payload, headers=headers)
    second = await api.client.post("/bookings", json=payload, headers=headers)
    assert first.status == second.status == 201
    assert (await first.json())["id"] == (await second.json())["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    # a concurrent burst of retries on a fresh key also yields one booking
    headers2 = {**api.headers(api.seed.patient), "Idempotency-Key": "retry-key-0002"}
    payload2 = {"doctor_id": "doc-test-1", "start": starts[1]}
    burst = await asyncio.gather(*[api.client.post("/bookings", json=payload2, headers=headers2)
                                   for _ in range(5)])
    ids = {(await r.json()).get("id") for r in burst if r.status == 201}
    assert len(ids) == 1
    assert api.store.bookings.count_documents({"patient_id": api.seed.patient.id}) == 2
    # the same key from another patient is their own key
    other = await api.client.post("/bookings", json=payload, headers={
        **api.headers(api.seed.patient2), "Idempotency-Key": "retry-key-0001"})
    assert other.status == 409


@pytest.mark.parametrize("key", ["short", "x" * 129, "bad key with spaces"])
async def test_bad_idempotency_key(api: Api, key: str) -> None:
    [start] = await api.first_slots("doc-test-1")
    resp = await api.client.post("/bookings", json={"doctor_id": "doc-test-1", "start": start},
                                 headers={**api.headers(api.seed.patient),
                                          "Idempotency-Key": key})
    assert resp.status == 422


@pytest.mark.parametrize("payload", [
    {"doctor_id": "doc-test-1", "start": "2026-12-07T09:00:00"},  # no offset
    {"doctor_id": {"$ne": None}, "start": "2026-12-07T09:00:00+07:00"},
    {"doctor_id": "doc-test-1", "start": {"$gt": ""}},
    {"doctor_id": "doc-test-1", "start": "2026-12-07T09:00:00+07:00", "status": "completed"},
    {"doctor_id": "doc-test-1"},
    {"doctor_id": "doc test 1", "start": "2026-12-07T09:00:00+07:00"},
])
async def test_book_validation(api: Api, payload: dict[str, Any]) -> None:
    resp = await api.client.post("/bookings", json=payload, headers=api.headers(api.seed.patient))
    assert resp.status == 422
    assert api.store.bookings.count_documents({}) == 0


async def test_book_not_json_and_off_grid(api: Api) -> None:
    headers = api.headers(api.seed.patient)
    garbage = await api.client.post("/bookings", data=b"{not json",
                                    headers={**headers, "Content-Type": "application/json"})
    assert garbage.status == 400
    [start] = await api.first_slots("doc-test-1")
    off_grid = (datetime.fromisoformat(start) + timedelta(minutes=7)).isoformat()
    resp = await api.book(api.seed.patient, "doc-test-1", off_grid)
    assert resp.status == 409
    assert (await resp.json())["error"] == "slot_unavailable"
    missing = await api.book(api.seed.patient, "nope", start)
    assert missing.status == 404


async def test_book_roles(api: Api) -> None:
    [start] = await api.first_slots("doc-test-1")
    as_doctor = await api.book(api.seed.doctor_user, "doc-test-1", start)
    assert as_doctor.status == 403
    for_other = await api.book(api.seed.patient, "doc-test-1", start,
                               patient_id=api.seed.patient2.id)
    assert for_other.status == 403
    admin_without_patient = await api.book(api.seed.admin, "doc-test-1", start)
    assert admin_without_patient.status == 422
    admin = await api.book(api.seed.admin, "doc-test-1", start, patient_id=api.seed.patient2.id)
    assert admin.status == 201
    assert (await admin.json())["patient_id"] == api.seed.patient2.id
    assert api.store.bookings.count_documents({}) == 1


async def test_list_is_scoped_by_role(api: Api) -> None:
    mine = await _booked(api, api.seed.patient, "doc-test-1")
    theirs = await _booked(api, api.seed.patient2, "doc-test-2")

    async def ids(user: Any, **params: Any) -> list[str]:
        resp = await api.client.get("/bookings", params=params, headers=api.headers(user))
        assert resp.status == 200
        return [b["id"] for b in (await resp.json())["items"]]

    assert await ids(api.seed.patient) == [mine["id"]]
    assert await ids(api.seed.patient2) == [theirs["id"]]
    assert await ids(api.seed.doctor_user) == [mine["id"]]
    assert await ids(api.seed.doctor2_user) == [theirs["id"]]
    assert sorted(await ids(api.seed.admin)) == sorted([mine["id"], theirs["id"]])
    assert await ids(api.seed.admin, doctor_id="doc-test-2") == [theirs["id"]]
    assert await ids(api.seed.admin, status="cancelled") == []
    for params in ({"patient_id": api.seed.patient2.id}, {"doctor_id": "doc-test-2"}):
        resp = await api.client.get("/bookings", params=params,
                                    headers=api.headers(api.seed.patient))
        assert resp.status == 403
    bad = await api.client.get("/bookings", params={"status": "lost"},
                               headers=api.headers(api.seed.admin))
    assert bad.status == 422


async def test_read_cancel_reschedule_idor(api: Api) -> None:
    booking = await _booked(api)
    path = f"/bookings/{booking['id']}"
    other_patient = api.headers(api.seed.patient2)
    other_doctor = api.headers(api.seed.doctor2_user)
    starts = await api.first_slots("doc-test-1", 3)
    for headers in (other_patient, other_doctor):
        assert (await api.client.get(path, headers=headers)).status == 404
        assert (await api.client.post(path + "/cancel", json={},
                                      headers=headers)).status == 404
        assert (await api.client.post(path + "/reschedule", json={"start": starts[2]},
                                      headers=headers)).status == 404
    assert (await api.client.post(path + "/no-show", headers=other_doctor)).status == 404
    assert (await api.client.post(path + "/no-show",
                                  headers=api.headers(api.seed.patient))).status == 403
    missing = await api.client.get("/bookings/nope", headers=api.headers(api.seed.patient))
    not_mine = await api.client.get(path, headers=other_patient)
    assert (await missing.json())["message"] == (await not_mine.json())["message"]
    assert api.store.get_booking(booking["id"]).status == BookingStatus.confirmed
    for headers in (api.headers(api.seed.patient), api.headers(api.seed.doctor_user),
                    api.headers(api.seed.admin)):
        resp = await api.client.get(path, headers=headers)
        assert resp.status == 200 and (await resp.json())["id"] == booking["id"]


async def test_cancel_then_cancel_again(api: Api) -> None:
    booking = await _booked(api, index=5)
    path = f"/bookings/{booking['id']}/cancel"
    headers = api.headers(api.seed.patient)
    resp = await api.client.post(path, json={"reason": "berhalangan"}, headers=headers)
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "berhalangan"
    again = await api.client.post(path, json={}, headers=headers)
    assert again.status == 409 and (await again.json())["error"] == "invalid_transition"
    bad = await api.client.post(path, json={"reason": "x" * 501}, headers=headers)
    assert bad.status == 422


async def test_patient_cannot_cancel_inside_the_cutoff(api: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    soon = now + timedelta(minutes=90)  # inside the 120-minute cutoff
    booking = Booking(ref="SOO-N34", patient_id=api.seed.patient.id, doctor_id="doc-test-1",
                      start=soon, end=soon + timedelta(minutes=30), created_at=now,
                      updated_at=now, slot_key=slot_key("doc-test-1", soon))
    api.store.insert_booking(booking)
    booking_id = booking.id
    resp = await api.client.post(f"/bookings/{booking_id}/cancel", json={},
                                 headers=api.headers(api.seed.patient))
    assert resp.status == 409 and (await resp.json())["error"] == "cutoff_passed"
    staff = await api.client.post(f"/bookings/{booking_id}/cancel", json={},
                                  headers=api.headers(api.seed.doctor_user))
    assert staff.status == 200


async def test_reschedule(api: Api) -> None:
    booking = await _booked(api, index=6)
    starts = await api.first_slots("doc-test-1", 10)
    target = starts[8]
    resp = await api.client.post(f"/bookings/{booking['id']}/reschedule", json={"start": target},
                                 headers=api.headers(api.seed.patient))
    assert resp.status == 200, await resp.text()
    moved = await resp.json()
    assert moved["start"] == target and moved["rescheduled_from"] == booking["id"]
    assert api.store.get_booking(booking["id"]).status == BookingStatus.rescheduled
    taken = await _booked(api, api.seed.patient2, index=0)
    clash = await api.client.post(f"/bookings/{moved['id']}/reschedule",
                                  json={"start": taken["start"]},
                                  headers=api.headers(api.seed.patient))
    assert clash.status == 409
    assert (await clash.json())["error"] == "slot_taken"
    naive = await api.client.post(f"/bookings/{moved['id']}/reschedule",
                                  json={"start": "2026-12-07T09:00:00"},
                                  headers=api.headers(api.seed.patient))
    assert naive.status == 422


async def test_no_show_by_the_doctor_after_the_start(api: Api) -> None:
    past = _past_booking(api)
    resp = await api.client.post(f"/bookings/{past.id}/no-show",
                                 headers=api.headers(api.seed.doctor_user))
    assert resp.status == 200
    assert (await resp.json())["status"] == "no_show"
    future = await _booked(api)
    early = await api.client.post(f"/bookings/{future['id']}/no-show",
                                  headers=api.headers(api.seed.admin))
    assert early.status == 409


async def test_routes_need_a_token(api: Api) -> None:
    for method, path in (("GET", "/bookings"), ("POST", "/bookings"), ("GET", "/bookings/x"),
                         ("POST", "/bookings/x/cancel"), ("POST", "/bookings/x/reschedule"),
                         ("POST", "/bookings/x/no-show")):
        resp = await api.client.request(method, path, json={})
        assert resp.status == 401, (method, path)
