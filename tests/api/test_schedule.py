"""Doctor schedule (GET/PUT with stranding check and forced notifications), agenda, calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar

from booking.models import Booking, BookingStatus, slot_key
from notify.outbox import Kind
from tests.api.conftest import Api

MORNINGS_ONLY = {"timezone": "Asia/Jakarta", "slot_minutes": 30,
                 "weekly": [{"weekday": d, "start": "09:00", "end": "12:00"} for d in range(5)]}


async def _afternoon_booking(api: Api) -> dict[str, Any]:
    """A booking at 13:00 or later (the afternoon block the new schedule drops)."""
    slots = [s for s in await api.first_slots("doc-test-1", 40)
             if datetime.fromisoformat(s).hour >= 13]
    resp = await api.book(api.seed.patient, "doc-test-1", slots[0])
    assert resp.status == 201
    body: dict[str, Any] = await resp.json()
    return body


async def test_schedule_roles(api: Api) -> None:
    own = await api.client.get("/doctors/doc-test-1/schedule",
                               headers=api.headers(api.seed.doctor_user))
    assert own.status == 200
    body = await own.json()
    assert body["slot_minutes"] == 30 and len(body["weekly"]) == 10
    other = await api.client.get("/doctors/doc-test-2/schedule",
                                 headers=api.headers(api.seed.doctor_user))
    assert other.status == 403
    patient = await api.client.get("/doctors/doc-test-1/schedule",
                                   headers=api.headers(api.seed.patient))
    assert patient.status == 403
    put_other = await api.client.put("/doctors/doc-test-2/schedule", json=MORNINGS_ONLY,
                                     headers=api.headers(api.seed.doctor_user))
    assert put_other.status == 403
    assert len(api.store.get_doctor("doc-test-2").weekly) == 10
    admin = await api.client.get("/doctors/doc-test-2/schedule",
                                 headers=api.headers(api.seed.admin))
    assert admin.status == 200
    assert (await api.client.get("/doctors/nope/schedule",
                                 headers=api.headers(api.seed.admin))).status == 404


async def test_change_without_stranding_applies_and_invalidates_cache(api: Api) -> None:
    await api.client.get("/doctors")
    assert (await api.client.get("/doctors")).headers["X-Cache"] == "hit"
    resp = await api.client.put("/doctors/doc-test-1/schedule",
                                json={**MORNINGS_ONLY, "slot_minutes": 20},
                                headers=api.headers(api.seed.doctor_user))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["affected_bookings"] == [] and body["notified"] == 0
    assert body["schedule"]["slot_minutes"] == 20
    assert api.store.get_doctor("doc-test-1").slot_minutes == 20
    listed = await api.client.get("/doctors")
    assert listed.headers["X-Cache"] == "miss"
    assert {d["id"]: d["slot_minutes"] for d in (await listed.json())["items"]}["doc-test-1"] == 20


async def test_stranding_change_is_refused_then_forced_with_notifications(api: Api) -> None:
    booking = await _afternoon_booking(api)
    headers = api.headers(api.seed.doctor_user)
    refused = await api.client.put("/doctors/doc-test-1/schedule", json=MORNINGS_ONLY,
                                   headers=headers)
    assert refused.status == 409
    body = await refused.json()
    assert body["error"] == "schedule_conflict"
    assert [b["id"] for b in body["details"]["stranded"]] == [booking["id"]]
    assert len(api.store.get_doctor("doc-test-1").weekly) == 10  # unchanged
    outbox_before = api.store.outbox.count_documents({"kind": Kind.schedule_changed.value})
    assert outbox_before == 0

    forced = await api.client.put("/doctors/doc-test-1/schedule", params={"force": "true"},
                                  json=MORNINGS_ONLY, headers=headers)
    assert forced.status == 200
    saved = await forced.json()
    assert saved["affected_bookings"] == [booking["id"]] and saved["notified"] == 1
    assert len(api.store.get_doctor("doc-test-1").weekly) == 5
    entry = api.store.outbox.find_one({"kind": Kind.schedule_changed.value})
    assert entry["booking_id"] == booking["id"] and entry["to"] == api.seed.patient.whatsapp
    assert booking["ref"] in entry["text"]

    again = await api.client.put("/doctors/doc-test-1/schedule", params={"force": "true"},
                                 json=MORNINGS_ONLY, headers=headers)
    assert (await again.json())["notified"] == 0  # same change: the dedupe key holds
    assert api.store.outbox.count_documents({"kind": Kind.schedule_changed.value}) == 1


@pytest.mark.parametrize("change", [
    {"weekly": [{"weekday": 7, "start": "09:00", "end": "12:00"}]},
    {"weekly": [{"weekday": 1, "start": "12:00", "end": "09:00"}]},
    {"slot_minutes": 1}, {"timezone": "Europe/Paris"}, {"holidays": []},
    {"weekly": [{"weekday": 1, "start": "09:00", "end": "12:00", "$where": "1"}]},
    {"days_off": [{"$gt": ""}]},
])
async def test_schedule_validation(api: Api, change: dict[str, Any]) -> None:
    resp = await api.client.put("/doctors/doc-test-1/schedule", json={**MORNINGS_ONLY, **change},
                                headers=api.headers(api.seed.admin))
    assert resp.status == 422


async def test_agenda_is_the_doctors_own(api: Api) -> None:
    booking = await _afternoon_booking(api)
    day = datetime.fromisoformat(booking["start"]).date().isoformat()
    resp = await api.client.get("/doctors/doc-test-1/agenda", params={"date": day},
                                headers=api.headers(api.seed.doctor_user))
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert [i["id"] for i in items] == [booking["id"]]
    assert items[0]["patient_name"] == "Rina Pasien"
    for user in (api.seed.doctor2_user, api.seed.patient):
        denied = await api.client.get("/doctors/doc-test-1/agenda", params={"date": day},
                                      headers=api.headers(user))
        assert denied.status == 403
    assert (await api.client.get("/doctors/doc-test-1/agenda",
                                 headers=api.headers(api.seed.admin))).status == 422


async def test_calendar_feed_with_rotating_token(api: Api) -> None:
    booking = await _afternoon_booking(api)
    none_yet = await api.client.get("/doctors/doc-test-1/calendar.ics",
                                    params={"token": "x" * 16})
    assert none_yet.status == 404
    denied = await api.client.post("/doctors/doc-test-1/calendar-token",
                                   headers=api.headers(api.seed.doctor2_user))
    assert denied.status == 403
    rotated = await api.client.post("/doctors/doc-test-1/calendar-token",
                                    headers=api.headers(api.seed.doctor_user))
    assert rotated.status == 200
    token = (await rotated.json())["token"]
    feed = await api.client.get("/doctors/doc-test-1/calendar.ics", params={"token": token})
    assert feed.status == 200 and feed.content_type == "text/calendar"
    cal = Calendar.from_ical(await feed.read())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    assert str(events[0]["summary"]) == f"Rina ({booking['ref']})"  # first name only
    assert "Pasien" not in (await feed.text())
    wrong = await api.client.get("/doctors/doc-test-1/calendar.ics", params={"token": "y" * 32})
    assert wrong.status == 404
    other_doctor = await api.client.get("/doctors/doc-test-2/calendar.ics",
                                        params={"token": token})
    assert other_doctor.status == 404
    again = await api.client.post("/doctors/doc-test-1/calendar-token",
                                  headers=api.headers(api.seed.admin))
    assert (await api.client.get("/doctors/doc-test-1/calendar.ics",
                                 params={"token": token})).status == 404
    new_token = (await again.json())["token"]
    assert (await api.client.get("/doctors/doc-test-1/calendar.ics",
                                 params={"token": new_token})).status == 200
    off = await api.client.delete("/doctors/doc-test-1/calendar-token",
                                  headers=api.headers(api.seed.doctor_user))
    assert off.status == 204
    assert (await api.client.get("/doctors/doc-test-1/calendar.ics",
                                 params={"token": new_token})).status == 404


async def test_calendar_lists_only_active_bookings(api: Api) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    start = now + timedelta(days=2)
    for i, status in enumerate([BookingStatus.confirmed, BookingStatus.cancelled]):
        b_start = start + timedelta(hours=i)
        api.store.insert_booking(Booking(
            ref=f"ABC-DE{i + 3}", patient_id=api.seed.patient.id, doctor_id="doc-test-1",
            start=b_start, end=b_start + timedelta(minutes=30), status=status,
            created_at=now, updated_at=now,
            slot_key=slot_key("doc-test-1", b_start) if status == "confirmed" else None))
    token = (await (await api.client.post("/doctors/doc-test-1/calendar-token",
                                          headers=api.headers(api.seed.admin))).json())["token"]
    cal = Calendar.from_ical(await (await api.client.get(
        "/doctors/doc-test-1/calendar.ics", params={"token": token})).read())
    assert [str(e["summary"]) for e in cal.walk("VEVENT")] == ["Rina (ABC-DE3)"]
