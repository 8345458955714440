"""Waitlist endpoints: patients join, list and leave their own entries; other roles and other
patients are refused; a cancellation through the API offers the slot to the waiting patient."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.api.conftest import Api


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


async def test_join_list_leave(api: Api) -> None:
    patient = api.headers(api.seed.patient)
    resp = await api.client.post("/waitlist", headers=patient, json={
        "doctor_id": api.seed.doctor.id, "from": days(0), "to": days(7)})
    assert resp.status == 201, await resp.text()
    entry = await resp.json()
    assert entry["status"] == "active" and entry["to"] == days(7)
    resp = await api.client.get("/waitlist", headers=patient)
    assert [e["id"] for e in (await resp.json())["items"]] == [entry["id"]]
    other = api.headers(api.seed.patient2)
    assert (await (await api.client.get("/waitlist", headers=other)).json())["items"] == []
    assert (await api.client.delete(f"/waitlist/{entry['id']}", headers=other)).status == 404
    resp = await api.client.delete(f"/waitlist/{entry['id']}", headers=patient)
    assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    assert (await api.client.delete(f"/waitlist/{entry['id']}", headers=patient)).status == 404


async def test_roles_and_validation(api: Api) -> None:
    body = {"doctor_id": api.seed.doctor.id, "from": days(0), "to": days(3)}
    assert (await api.client.post("/waitlist", json=body)).status == 401
    for user in (api.seed.admin, api.seed.doctor_user):
        resp = await api.client.post("/waitlist", json=body, headers=api.headers(user))
        assert resp.status == 403
    patient = api.headers(api.seed.patient)
    for bad in ({**body, "to": days(-3), "from": days(-5)},          # in the past
                {**body, "doctor_id": {"$ne": None}},                 # operator object
                {**body, "to": days(200)},                            # too long
                {**body, "extra": 1}):
        resp = await api.client.post("/waitlist", json=bad, headers=patient)
        assert resp.status == 422, (bad, await resp.text())
    resp = await api.client.post("/waitlist", headers=patient,
                                 json={**body, "doctor_id": "no-such-doctor"})
    assert resp.status == 404
    assert (await api.client.delete("/waitlist/%24ne", headers=patient)).status == 404


async def test_a_cancellation_offers_the_slot(api: Api) -> None:
    [start] = await api.first_slots(api.seed.doctor.id)
    resp = await api.book(api.seed.patient2, api.seed.doctor.id, start)
    booking = await resp.json()
    day = datetime.fromisoformat(start).date()
    resp = await api.client.post("/waitlist", headers=api.headers(api.seed.patient), json={
        "doctor_id": api.seed.doctor.id, "from": days(0), "to": (day + timedelta(days=1))
        .isoformat()})
    assert resp.status == 201
    resp = await api.client.post(f"/bookings/{booking['id']}/cancel",
                                 headers=api.headers(api.seed.patient2), json={})
    assert resp.status == 200, await resp.text()
    [offer] = list(api.store.db["waitlist_offers"].find())
    assert offer["patient_id"] == api.seed.patient.id and offer["status"] == "offered"
    entry = api.store.outbox.find_one({"kind": "waitlist_offer"})
    assert entry["to"] == api.seed.patient.whatsapp
