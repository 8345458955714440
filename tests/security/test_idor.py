"""IDOR: every route that takes a booking, user or doctor id, called by someone who does not
own the object. Bookings of others answer exactly like missing ones (404, nothing leaks);
staff routes answer 403; the doctor routes refuse other doctors. A new id route without an
entry here fails the completeness check."""

from __future__ import annotations

import re
from datetime import date, timedelta

from tests.api.conftest import Api

# (method, route template) -> {caller: expected status}. Callers: another patient, another
# doctor. Public reads are 200 for anyone.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/doctors/{doctor_id}"): {"patient2": 200, "doctor2_user": 200},
    ("PATCH", "/doctors/{doctor_id}"): {"patient2": 403, "doctor2_user": 403},
    ("DELETE", "/doctors/{doctor_id}"): {"patient2": 403, "doctor2_user": 403},
    ("GET", "/doctors/{doctor_id}/slots"): {"patient2": 200, "doctor2_user": 200},
    ("GET", "/doctors/{doctor_id}/schedule"): {"patient2": 403, "doctor2_user": 403},
    ("PUT", "/doctors/{doctor_id}/schedule"): {"patient2": 403, "doctor2_user": 403},
    ("GET", "/doctors/{doctor_id}/agenda"): {"patient2": 403, "doctor2_user": 403},
    ("GET", "/doctors/{doctor_id}/calendar.ics"): {"patient2": 404, "doctor2_user": 404},
    ("POST", "/doctors/{doctor_id}/calendar-token"): {"patient2": 403, "doctor2_user": 403},
    ("DELETE", "/doctors/{doctor_id}/calendar-token"): {"patient2": 403, "doctor2_user": 403},
    ("PUT", "/doctors/{doctor_id}/photo"): {"patient2": 403, "doctor2_user": 403},
    ("DELETE", "/doctors/{doctor_id}/photo"): {"patient2": 403, "doctor2_user": 403},
    ("GET", "/bookings/{booking_id}"): {"patient2": 404, "doctor2_user": 404},
    ("GET", "/bookings/{booking_id}/calendar.ics"): {"patient2": 404, "doctor2_user": 404},
    ("POST", "/bookings/{booking_id}/cancel"): {"patient2": 404, "doctor2_user": 404},
    ("POST", "/bookings/{booking_id}/reschedule"): {"patient2": 404, "doctor2_user": 404},
    ("POST", "/bookings/{booking_id}/no-show"): {"patient2": 403, "doctor2_user": 404},
    ("GET", "/users/{user_id}"): {"patient2": 403, "doctor2_user": 403},
    ("PATCH", "/users/{user_id}"): {"patient2": 403, "doctor2_user": 403},
    ("DELETE", "/users/{user_id}"): {"patient2": 403, "doctor2_user": 403},
    # data subject rights on behalf of a patient (admin only; the patient's own: /me)
    ("GET", "/users/{user_id}/data"): {"patient2": 403, "doctor2_user": 403},
    ("DELETE", "/users/{user_id}/personal-data"): {"patient2": 403, "doctor2_user": 403},
    ("GET", "/users/{user_id}/audit"): {"patient2": 403, "doctor2_user": 403},
}
ID_ROUTE = re.compile(r"\{(doctor|booking|user)_id\}")


def test_every_id_route_is_in_the_catalogue(api: Api) -> None:
    routes = {(r.method, r.resource.canonical) for r in api.client.server.app.router.routes()
              if r.resource is not None and ID_ROUTE.search(r.resource.canonical)
              and r.method not in ("HEAD", "OPTIONS")}
    assert routes == set(EXPECTED)


async def test_idor_on_every_booking_user_and_doctor_route(api: Api) -> None:
    seed = api.seed
    slots = await api.first_slots("doc-test-1", 2)
    booked = await api.book(seed.patient, "doc-test-1", slots[0])
    booking_id = (await booked.json())["id"]
    day = (date.today() + timedelta(days=3)).isoformat()
    ids = {"doctor_id": seed.doctor.id, "booking_id": booking_id, "user_id": seed.patient.id}
    bodies = {"PATCH": {"name": "dr. Diubah"}, "PUT": {"weekly": []},
              "POST": {"start": slots[1]}}
    queries = {"/slots": {"date": day}, "/agenda": {"date": day},
               "/calendar.ics": {"token": "guessed-token-123"}}
    seen: list[str] = []
    for (method, template), by_caller in EXPECTED.items():
        path = ID_ROUTE.sub(lambda m: ids[m.group(0)[1:-1]], template)
        params = next((q for suffix, q in queries.items() if template.endswith(suffix)), None)
        body = bodies.get(method) if not template.endswith(("/cancel", "/no-show")) else {}
        for caller, expected in by_caller.items():
            resp = await api.client.request(method, path, params=params, json=body,
                                            headers=api.headers(getattr(seed, caller)))
            seen.append(f"{caller} {method} {template} -> {resp.status}")
            assert resp.status == expected, seen[-1] + " " + await resp.text()
            if expected == 404 and "bookings" in template:
                assert (await resp.json())["message"] == "booking not found"
    # nothing changed hands: the booking is still the owner's and confirmed
    stored = api.store.get_booking(booking_id)
    assert stored.patient_id == seed.patient.id and stored.status.value == "confirmed"
    assert api.store.get_doctor(seed.doctor.id).name == seed.doctor.name
