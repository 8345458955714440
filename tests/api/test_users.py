"""Admin user management: CRUD, roles, validation, IDOR-free (admin only)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PASSWORD, Api


async def test_user_crud(api: Api) -> None:
    admin = api.headers(api.seed.admin)
    created = await api.client.post("/users", json={
        "name": "dr. Baru", "email": "Baru@Test.id", "whatsapp": "081299990000",
        "role": "doctor", "doctor_id": "doc-test-2", "password": "sandi-rahasia"}, headers=admin)
    assert created.status == 201, await created.text()
    user = await created.json()
    assert user["email"] == "baru@test.id" and user["doctor_id"] == "doc-test-2"
    assert "password_hash" not in user and "password" not in user
    login = await api.client.post("/auth/login", json={"email": "baru@test.id",
                                                       "password": "sandi-rahasia"})
    assert login.status == 200 and (await login.json())["role"] == "doctor"

    listed = await (await api.client.get("/users", params={"role": "doctor"},
                                         headers=admin)).json()
    assert {u["id"] for u in listed["items"]} == {"user-doc-1", "user-doc-2", user["id"]}
    one = await api.client.get(f"/users/{user['id']}", headers=admin)
    assert (await one.json())["name"] == "dr. Baru"

    patched = await api.client.patch(f"/users/{user['id']}",
                                     json={"role": "patient", "password": "sandi-baru-123"},
                                     headers=admin)
    assert patched.status == 200
    assert (await patched.json())["role"] == "patient"
    assert (await patched.json())["doctor_id"] is None
    old = await api.client.post("/auth/login", json={"email": "baru@test.id",
                                                     "password": "sandi-rahasia"})
    assert old.status == 401

    deleted = await api.client.delete(f"/users/{user['id']}", headers=admin)
    assert deleted.status == 204
    assert (await api.client.get(f"/users/{user['id']}", headers=admin)).status == 404
    assert (await api.client.delete(f"/users/{user['id']}", headers=admin)).status == 404


async def test_admin_cannot_delete_itself_and_duplicates_conflict(api: Api) -> None:
    admin = api.headers(api.seed.admin)
    self_delete = await api.client.delete(f"/users/{api.seed.admin.id}", headers=admin)
    assert self_delete.status == 409
    dup = await api.client.post("/users", json={"name": "Rina Lagi", "email": "rina@test.id",
                                                "whatsapp": "081277770000"}, headers=admin)
    assert dup.status == 409
    link = await api.client.post("/users", json={"name": "Pasien X", "email": "x@test.id",
                                                 "whatsapp": "081277770001",
                                                 "doctor_id": "doc-test-1"}, headers=admin)
    assert link.status == 409  # only doctor accounts link to a doctor


@pytest.mark.parametrize("payload", [
    {"name": "A"}, {"name": "Tanpa Kontak"}, {"name": "Peran", "email": "p@test.id",
                                              "role": "root"},
    {"name": "Injeksi", "email": {"$ne": None}}, {"name": "Lebih", "email": "l@test.id",
                                                  "is_admin": True},
    {"name": "Sandi", "whatsapp": "081277770002", "password": PASSWORD},
])
async def test_user_validation(api: Api, payload: dict[str, Any]) -> None:
    resp = await api.client.post("/users", json=payload, headers=api.headers(api.seed.admin))
    assert resp.status == 422


@pytest.mark.parametrize("who", ["patient", "doctor_user"])
async def test_only_admins_manage_users(api: Api, who: str) -> None:
    headers = api.headers(getattr(api.seed, who))
    target = f"/users/{api.seed.patient2.id}"
    assert (await api.client.get("/users", headers=headers)).status == 403
    assert (await api.client.get(target, headers=headers)).status == 403
    assert (await api.client.patch(target, json={"role": "admin"},
                                   headers=headers)).status == 403
    assert (await api.client.delete(target, headers=headers)).status == 403
    assert (await api.client.post("/users", json={"name": "Hacker", "email": "h@test.id",
                                                  "role": "admin"},
                                  headers=headers)).status == 403
    assert api.store.get_user(api.seed.patient2.id).role == "patient"
