"""Auth: register, login, refresh rotation, logout, demo accounts, rate limits (token attacks:
tests/security/test_tokens.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.http.auth import issue_tokens
from app.main import create_app
from booking import demo
from tests.api.conftest import PASSWORD, Api, make_settings


async def _login(api: Api, email: str, password: str = PASSWORD) -> Any:
    return await api.client.post("/auth/login", json={"email": email, "password": password})


async def test_login_returns_tokens_that_open_protected_routes(api: Api) -> None:
    resp = await _login(api, "RINA@test.id ")
    assert resp.status == 200
    body = await resp.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["role"] == "patient" and body["user_id"] == api.seed.patient.id
    me = await api.client.get("/auth/me",
                              headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status == 200
    assert (await me.json())["email"] == "rina@test.id"


@pytest.mark.parametrize("email,password", [("rina@test.id", "wrong-password"),
                                            ("nobody@test.id", PASSWORD)])
async def test_wrong_credentials_are_one_401(api: Api, email: str, password: str) -> None:
    resp = await _login(api, email, password)
    assert resp.status == 401
    body = await resp.json()
    assert body == {"error": "unauthorized", "message": "wrong email or password", "details": {}}


@pytest.mark.parametrize("payload", [
    {"email": {"$ne": None}, "password": PASSWORD},
    {"email": {"$gt": ""}, "password": {"$ne": "x"}},
    {"email": "rina@test.id", "password": {"$ne": None}},
    {"email": ["rina@test.id"], "password": PASSWORD},
    {"email": "rina@test.id", "password": PASSWORD, "role": "admin"},
    {"email": "not-an-email", "password": PASSWORD},
])
async def test_login_rejects_operators_and_unknown_fields(api: Api, payload: Any) -> None:
    resp = await api.client.post("/auth/login", json=payload)
    assert resp.status == 422
    body = await resp.json()
    assert body["error"] == "validation_error" and body["details"]["errors"]
    assert "access_token" not in body and PASSWORD not in json.dumps(body)


async def test_register_then_login_and_duplicate(api: Api) -> None:
    payload = {"name": "Sari Baru", "email": "sari@test.id", "whatsapp": "0812-3456-7890",
               "password": "panjang-sekali"}
    resp = await api.client.post("/auth/register", json=payload)
    assert resp.status == 202, await resp.text()
    body = await resp.json()
    assert body["status"] == "accepted" and "access_token" not in body
    stored = api.store.find_user(email="sari@test.id")
    # the number waits for proof: nothing attaches to the account by it yet
    assert stored is not None and stored.whatsapp is None
    assert stored.whatsapp_pending == "6281234567890"
    assert stored.password_hash and stored.password_hash.startswith("$argon2")
    assert (await _login(api, "sari@test.id", "panjang-sekali")).status == 200
    again = await api.client.post("/auth/register", json=payload)
    assert again.status == 202  # the same answer: no account enumeration
    assert await again.json() == body


@pytest.mark.parametrize("change", [{"whatsapp": "12"}, {"password": "short"},
                                    {"role": "admin"}, {"name": {"$ne": ""}}])
async def test_register_validation(api: Api, change: dict[str, Any]) -> None:
    payload = {"name": "Sari Baru", "email": "sari2@test.id", "whatsapp": "081234567891",
               "password": "panjang-sekali", **change}
    resp = await api.client.post("/auth/register", json=payload)
    assert resp.status == 422
    assert api.store.find_user(email="sari2@test.id") is None


async def test_refresh_rotates_and_is_single_use(api: Api) -> None:
    tokens = await (await _login(api, "rina@test.id")).json()
    first = await api.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status == 200
    fresh = await first.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    replay = await api.client.post("/auth/refresh",
                                   json={"refresh_token": tokens["refresh_token"]})
    assert replay.status == 401
    access_as_refresh = await api.client.post("/auth/refresh",
                                              json={"refresh_token": fresh["access_token"]})
    assert access_as_refresh.status == 401


async def test_logout_revokes_the_refresh_token(api: Api) -> None:
    tokens = await (await _login(api, "rina@test.id")).json()
    out = await api.client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status == 204
    after = await api.client.post("/auth/refresh",
                                  json={"refresh_token": tokens["refresh_token"]})
    assert after.status == 401
    assert "revoked" in (await after.json())["message"]


async def test_refresh_for_a_deleted_account_is_refused(api: Api) -> None:
    tokens = issue_tokens(api.settings, api.seed.patient2)
    api.store.delete_user(api.seed.patient2.id)
    resp = await api.client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert resp.status == 401


@pytest.mark.parametrize("settings_overrides", [{"login_limit_per_account": 3,
                                                 "login_limit_per_ip": 100}])
async def test_login_is_rate_limited_per_account(api: Api) -> None:
    statuses = [(await _login(api, "rina@test.id", "wrong-password")).status for _ in range(3)]
    assert statuses == [401, 401, 401]
    blocked = await _login(api, "rina@test.id")  # even the right password now waits
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert (await blocked.json())["error"] == "rate_limited"
    assert (await _login(api, "budi@test.id")).status == 200  # other accounts unaffected


@pytest.mark.parametrize("settings_overrides", [{"login_limit_per_ip": 2}])
async def test_login_is_rate_limited_per_ip(api: Api) -> None:
    assert (await _login(api, "rina@test.id")).status == 200
    assert (await _login(api, "budi@test.id")).status == 200
    assert (await _login(api, "admin@test.id")).status == 429


@pytest.mark.parametrize("settings_overrides", [{"register_limit_per_ip": 1}])
async def test_register_is_rate_limited_per_ip(api: Api) -> None:
    def payload(i: int) -> dict[str, str]:
        return {"name": "Pasien Baru", "email": f"new{i}@test.id",
                "whatsapp": f"08123456{i:04d}", "password": "panjang-sekali"}

    assert (await api.client.post("/auth/register", json=payload(1))).status == 202
    assert (await api.client.post("/auth/register", json=payload(2))).status == 429
    assert api.store.find_user(email="new2@test.id") is None


async def test_demo_accounts_log_in(aiohttp_client: Any, namespace: str) -> None:
    # the embedded default (no REDIS_URL, no MONGODB_URL): demo logins exist only there
    settings = make_settings(namespace, load_demo_data=True, redis_url=None)
    client = await aiohttp_client(create_app(settings))
    password = settings.demo_password.get_secret_value()
    roles = {}
    for email in (demo.DEMO_ADMIN, demo.DEMO_DOCTOR, demo.DEMO_PATIENT):
        resp = await client.post("/auth/login", json={"email": email, "password": password})
        assert resp.status == 200, email
        roles[email] = (await resp.json())["role"]
    assert roles == {demo.DEMO_ADMIN: "admin", demo.DEMO_DOCTOR: "doctor",
                     demo.DEMO_PATIENT: "patient"}


async def test_requires_decorates_plain_handlers_of_other_roles(aiohttp_client: Any,
                                                                sync_store: Any,
                                                                namespace: str) -> None:
    from aiohttp import web

    from app.http.auth import Principal, requires
    from booking.models import Role, User

    @requires("admin")
    async def admin_only(request: web.Request) -> web.Response:
        principal = request["principal"]
        assert isinstance(principal, Principal)
        return web.json_response({"user": principal.user_id, "role": principal.role.value})

    settings = make_settings(namespace)
    app = create_app(settings, store=sync_store)
    app.router.add_get("/x/admin", admin_only)
    client = await aiohttp_client(app)
    admin = User(id="a1", name="Admin", role=Role.admin)
    patient = User(id="p1", name="Pasien", role=Role.patient)

    def bearer(user: User) -> dict[str, str]:
        return {"Authorization": "Bearer " + issue_tokens(settings, user)["access_token"]}

    ok = await client.get("/x/admin", headers=bearer(admin))
    assert ok.status == 200 and await ok.json() == {"user": "a1", "role": "admin"}
    denied = await client.get("/x/admin", headers=bearer(patient))
    assert denied.status == 403
    assert await denied.json() == {"error": "forbidden", "message": "this role may not do this",
                                   "details": {}}
    assert (await client.get("/x/admin")).status == 401
