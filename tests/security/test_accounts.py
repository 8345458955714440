"""Account attacks: enumerating registered e-mails or numbers through the registration
answer, and claiming somebody else's WhatsApp number on the web to see (or take over) the
bookings made from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.models import Booking, BookingStatus, User, slot_key
from booking.refs import new_ref
from tests.api.conftest import PASSWORD, Api
from tests.security.helpers import bearer, login

VICTIM = "6281298765432"


def _register_body(email: str, whatsapp: str, password: str = "attacker-pass-1") -> dict[str, Any]:
    return {"name": "Orang Lain", "email": email, "whatsapp": whatsapp, "password": password}


async def test_account_enumeration_through_registration(api: Api) -> None:
    fresh = await api.client.post("/auth/register",
                                  json=_register_body("fresh@test.id", "081211223344"))
    known_email = await api.client.post("/auth/register",
                                        json=_register_body("rina@test.id", "081299887766"))
    known_number = await api.client.post("/auth/register", json=_register_body(
        "another@test.id", api.seed.patient2.whatsapp or ""))
    answers = [(r.status, await r.json()) for r in (fresh, known_email, known_number)]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 202
    # the owner of the known address is told by e-mail; nothing about them changed
    [notice] = list(api.store.outbox.find({"kind": "account_exists"}))
    assert notice["email"] == "rina@test.id" and notice.get("to") is None
    assert (await login(api, "rina@test.id", PASSWORD))["user_id"] == api.seed.patient.id
    refused = await api.client.post("/auth/login", json={"email": "rina@test.id",
                                                         "password": "attacker-pass-1"})
    assert refused.status == 401


def _whatsapp_patient_with_booking(api: Api) -> tuple[User, Booking]:
    victim = api.store.upsert_whatsapp_patient(VICTIM, "Korban", "id")
    at = (datetime.now(UTC) + timedelta(days=3)).replace(hour=2, minute=0, second=0,
                                                         microsecond=0)
    booking = Booking(ref=new_ref(), patient_id=victim.id, doctor_id=api.seed.doctor.id,
                      start=at, end=at + timedelta(minutes=30), created_at=at, updated_at=at,
                      slot_key=slot_key(api.seed.doctor.id, at))
    api.store.insert_booking(booking)
    return victim, booking


async def test_unverified_number_linking(api: Api) -> None:
    victim, booking = _whatsapp_patient_with_booking(api)
    assert (await api.client.post("/auth/register", json=_register_body(
        "attacker@test.id", "0812-9876-5432"))).status == 202
    tokens = await login(api, "attacker@test.id", "attacker-pass-1")
    me = await (await api.client.get("/auth/me", headers=bearer(tokens["access_token"]))).json()
    assert me["whatsapp"] == VICTIM and me["whatsapp_verified"] is False
    listed = await (await api.client.get("/bookings", headers=bearer(tokens["access_token"]))
                    ).json()
    assert listed["total"] == 0  # none of the victim's WhatsApp bookings
    got = await api.client.get(f"/bookings/{booking.id}", headers=bearer(tokens["access_token"]))
    assert got.status == 404
    # the victim's WhatsApp conversations still resolve to the victim's own record
    holder = api.store.find_user(whatsapp=VICTIM)
    assert holder is not None and holder.id == victim.id


async def test_guessing_the_whatsapp_code(api: Api) -> None:
    _whatsapp_patient_with_booking(api)
    await api.client.post("/auth/register", json=_register_body("attacker@test.id", VICTIM))
    access = (await login(api, "attacker@test.id", "attacker-pass-1"))["access_token"]
    sent = await api.client.post("/auth/whatsapp/verify", json={}, headers=bearer(access))
    assert sent.status == 202
    assert await sent.json() == {"status": "sent", "expires_in": 600, "to": "•••••••••5432"}
    [entry] = list(api.store.outbox.find({"kind": "whatsapp_verification"}))
    assert entry["to"] == VICTIM and entry.get("email") is None  # only the number's reader
    real = entry["params"]["code"]
    wrong = f"{(int(real) + 1) % 1_000_000:06d}"
    answers = []
    for _ in range(5):
        resp = await api.client.post("/auth/whatsapp/confirm", json={"code": wrong},
                                     headers=bearer(access))
        answers.append((resp.status, (await resp.json())["error"]))
    assert answers == [(400, "wrong_code")] * 4 + [(429, "too_many_tries")]
    late = await api.client.post("/auth/whatsapp/confirm", json={"code": real},
                                 headers=bearer(access))
    assert late.status == 400 and (await late.json())["error"] == "no_code"
    assert api.store.find_user(email="attacker@test.id").whatsapp is None  # type: ignore[union-attr]


@pytest.mark.parametrize("settings_overrides", [{"register_limit_per_ip": 100}])
async def test_code_flooding_one_number(api: Api) -> None:
    await api.client.post("/auth/register", json=_register_body("flood@test.id", VICTIM))
    access = (await login(api, "flood@test.id", "attacker-pass-1"))["access_token"]
    statuses = [(await api.client.post("/auth/whatsapp/verify", json={},
                                       headers=bearer(access))).status for _ in range(4)]
    assert statuses == [202, 202, 202, 429]


async def test_the_real_owner_proves_the_number_and_gets_the_history(api: Api) -> None:
    victim, booking = _whatsapp_patient_with_booking(api)
    await api.client.post("/auth/register", json=_register_body("owner@test.id", VICTIM,
                                                                "owner-pass-123"))
    access = (await login(api, "owner@test.id", "owner-pass-123"))["access_token"]
    assert (await api.client.post("/auth/whatsapp/verify", json={},
                                  headers=bearer(access))).status == 202
    [entry] = list(api.store.outbox.find({"kind": "whatsapp_verification"}))
    resp = await api.client.post("/auth/whatsapp/confirm", json={"code": entry["params"]["code"]},
                                 headers=bearer(access))
    assert resp.status == 200
    assert (await resp.json())["whatsapp_verified"] is True
    listed = await (await api.client.get("/bookings", headers=bearer(access))).json()
    assert [b["id"] for b in listed["items"]] == [booking.id]
    owner = api.store.find_user(whatsapp=VICTIM)
    assert owner is not None and owner.email == "owner@test.id"
    assert api.store.users.find_one({"_id": victim.id}) is None  # folded into the account
    assert api.store.get_booking(booking.id).status == BookingStatus.confirmed
