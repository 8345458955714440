"""The patient's rights over the API: export (GET /me/data), erasure (DELETE /me), the admin
equivalents, roles enforced, and an audit log free of the erased data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from booking.store import MongoStore
from booking.store_analytics import appointment_facets, new_booking_facets
from booking.store_chat import insert_chat_logs, touch_inbound
from tests.api.conftest import Api
from tests.data_protection.conftest import leaks, phone_forms

CHAT = "dok, saya punya riwayat asma berat"


def chat_with(api: Api) -> None:
    number = api.seed.patient.whatsapp
    assert number
    now = datetime.now(UTC)
    insert_chat_logs(api.store, [
        {"_id": "c-in", "wa_id": number, "direction": "in", "text": CHAT, "type": "text",
         "at": now, "entities": []},
        {"_id": "c-out", "wa_id": number, "direction": "out", "text": "Baik, dicatat.",
         "type": "text", "at": now, "entities": []}])
    touch_inbound(api.store, number, now, api.seed.patient.name, "id")
    api.store.db["inbox"].insert_one({"_id": "m:x1", "wa_id": number, "received_at": now,
                                      "status": "done", "event": {"text": CHAT}})


def counts(ms: MongoStore) -> tuple[int, dict[str, int]]:
    start, end = datetime.now(UTC) - timedelta(days=2), datetime.now(UTC) + timedelta(days=60)
    new = new_booking_facets(ms, start, end, "Asia/Jakarta", None)
    appts = appointment_facets(ms, start, end, "Asia/Jakarta", None)
    by_doctor = {d["_id"]: d["appointments"] for d in appts["by_doctor"]}
    return sum(d["n"] for d in new["by_day"]), by_doctor


async def book_twice(api: Api) -> list[dict[str, Any]]:
    starts = await api.first_slots(api.seed.doctor.id, 2, days=30)
    out = []
    for start in starts:
        resp = await api.book(api.seed.patient, api.seed.doctor.id, start)
        assert resp.status == 201, await resp.text()
        out.append(await resp.json())
    return out


async def test_a_patient_exports_their_data(api: Api) -> None:
    chat_with(api)
    booked = await book_twice(api)
    resp = await api.client.get("/me/data", headers=api.headers(api.seed.patient))
    assert resp.status == 200, await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    data = await resp.json()
    assert data["profile"]["name"] == "Rina Pasien" and data["profile"]["email"] == "rina@test.id"
    assert data["profile"]["whatsapp"] == api.seed.patient.whatsapp
    assert "password_hash" not in data["profile"]
    assert sorted(b["ref"] for b in data["bookings"]) == sorted(b["ref"] for b in booked)
    assert [m["text"] for m in data["chat_messages"]] == [CHAT, "Baik, dicatat."]
    assert {n["kind"] for n in data["notifications"]} >= {"booking_confirmation"}
    assert data["whatsapp_contact"][0]["name"] == "Rina Pasien"
    # nothing of another patient
    assert "Budi Pasien" not in str(data) and "budi@test.id" not in str(data)
    [entry] = list(api.store.raw_db["audit_log"].find())
    assert entry["action"] == "export" and entry["subject_id"] == api.seed.patient.id
    assert entry["actor_id"] == api.seed.patient.id and entry["detail"]["bookings"] == 2


async def test_a_patient_erases_their_data(api: Api) -> None:
    chat_with(api)
    await book_twice(api)
    held, _ = api.store.find_bookings(patient_id=api.seed.patient.id)
    before = counts(api.store)
    headers = api.headers(api.seed.patient)
    refused = await api.client.delete("/me", headers=headers)
    assert refused.status == 422  # confirm=true is required
    resp = await api.client.delete("/me", params={"confirm": "true"}, headers=headers)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["erased"] is True and body["cancelled_bookings"] == 2
    assert body["counts"]["chat_logs"] == 2 and body["counts"]["inbox"] == 1

    # no personal data left anywhere, raw documents included
    patient = api.seed.patient
    assert patient.whatsapp and patient.email
    assert leaks(api.store, [*phone_forms(patient.whatsapp), patient.name, "Rina",
                             patient.email, CHAT, "asma"]) == []
    assert leaks(api.store, ["Budi Pasien"]) == []  # (sealed anyway: nothing plain at all)
    # the clinic's records stay, pseudonymous: same bookings, same analytics counts
    remaining, _ = api.store.find_bookings(patient_id=patient.id)
    assert [b.id for b in remaining] == [b.id for b in held]
    assert all(b.status.value == "cancelled" for b in remaining)
    assert counts(api.store) == before
    # the doctor is told of each cancelled visit, without the erased patient's name
    told = [d for d in api.store.outbox.find({"kind": "doctor_booking_cancelled"})
            if d.get("booking_id") in {b.id for b in held}]
    assert len(told) == 2 and all(d["status"] == "pending" for d in told)
    assert all(d["params"]["patient"] == "Pasien" and "Rina" not in d["text"] for d in told)
    assert all(d.get("to") or d.get("email") for d in told)  # an address to reach them at
    # and the patient is told nothing: no address of theirs is left
    assert not [d for d in api.store.outbox.find({"kind": "booking_cancelled"})
                if d.get("booking_id") in {b.id for b in held}]
    user = api.store.get_user(patient.id)
    assert user.name == "" and user.email is None and user.whatsapp is None
    assert user.password_hash is None
    # every token issued before is void
    assert (await api.client.get("/auth/me", headers=headers)).status == 401
    # the audit log says who and when, and nothing of what was erased
    entry = api.store.raw_db["audit_log"].find_one({"action": "erase"})
    assert entry is not None and entry["subject_id"] == patient.id
    assert entry["actor_role"] == "patient" and entry["detail"]["cancelled_bookings"] == 2
    assert entry["channel"] == "api"
    # erasing again is harmless (idempotent), but needs a live token: the admin does it
    admin = api.headers(api.seed.admin)
    again = await api.client.delete(f"/users/{patient.id}/personal-data",
                                    params={"confirm": "true"}, headers=admin)
    assert again.status == 200 and (await again.json())["cancelled_bookings"] == 0


async def test_roles_are_enforced(api: Api) -> None:
    patient, other = api.seed.patient, api.seed.patient2
    doctor, admin = api.headers(api.seed.doctor_user), api.headers(api.seed.admin)
    mine = api.headers(patient)
    assert (await api.client.get("/me/data")).status == 401
    assert (await api.client.get(f"/users/{other.id}/data", headers=mine)).status == 403
    assert (await api.client.delete(f"/users/{other.id}/personal-data",
                                    params={"confirm": "true"}, headers=mine)).status == 403
    assert (await api.client.get(f"/users/{other.id}/audit", headers=mine)).status == 403
    # staff accounts are not erased through the patient route (they are deleted by an admin)
    assert (await api.client.delete("/me", params={"confirm": "true"},
                                    headers=doctor)).status == 403
    resp = await api.client.delete(f"/users/{api.seed.doctor_user.id}/personal-data",
                                   params={"confirm": "true"}, headers=admin)
    assert resp.status == 409
    assert (await api.client.get("/users/nobody/data", headers=admin)).status == 404
    # the admin exports and erases a patient on request; both are audited as the admin's
    resp = await api.client.get(f"/users/{other.id}/data", headers=admin)
    assert resp.status == 200 and (await resp.json())["profile"]["name"] == "Budi Pasien"
    resp = await api.client.delete(f"/users/{other.id}/personal-data",
                                   params={"confirm": "true"}, headers=admin)
    assert resp.status == 200
    resp = await api.client.get(f"/users/{other.id}/audit", headers=admin)
    items = (await resp.json())["items"]
    assert [(i["action"], i["actor_id"]) for i in items] == [
        ("erase", api.seed.admin.id), ("export", api.seed.admin.id)]
    # the untouched patient is untouched
    assert api.store.get_user(patient.id).name == "Rina Pasien"
