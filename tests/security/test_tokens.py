"""Token attacks: forged, expired, `none`-algorithm, wrong-audience and confused JWTs;
refresh tokens used as access tokens; refresh-token reuse; reuse after logout; tokens that
outlive "log out everywhere", a password change, a role change or a deleted account."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.http.auth import issue_tokens
from tests.api.conftest import JWT_SECRET, PASSWORD, Api
from tests.security.helpers import bearer, login

PROTECTED = "/bookings"  # any signed-in role may list (their own) bookings


def _claims(api: Api, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": api.settings.jwt_issuer, "aud": api.settings.jwt_audience,
              "sub": api.seed.patient.id, "role": "patient", "typ": "access",
              "iat": now, "exp": now + 600, "jti": "j1", "fam": "f1", "ver": 0}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _rsa_pair() -> tuple[Any, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, public


def _attacks(api: Api) -> dict[str, str]:
    private, public = _rsa_pair()
    good = jwt.encode(_claims(api), JWT_SECRET, algorithm="HS256")
    header, payload, signature = good.split(".")
    tampered_payload = _b64(_claims(api, role="admin"))
    return {
        "alg_none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims(api)) + ".",
        "alg_none_upper": _b64({"alg": "None", "typ": "JWT"}) + "." + _b64(_claims(api)) + ".",
        "rs256_signed": jwt.encode(_claims(api), private, algorithm="RS256"),
        "hs256_with_public_key": _hs256_raw(_claims(api), public),
        "hs512": jwt.encode(_claims(api), JWT_SECRET + "-longer-for-hs512-0123456789abcdef",
                            algorithm="HS512"),
        "wrong_key": jwt.encode(_claims(api), "another-secret-0123456789abcdef-xyz",
                                algorithm="HS256"),
        "expired": jwt.encode(_claims(api, exp=int(time.time()) - 120,
                                      iat=int(time.time()) - 1000), JWT_SECRET,
                              algorithm="HS256"),
        "tampered_role": f"{header}.{tampered_payload}.{signature}",
        "wrong_audience": jwt.encode(_claims(api, aud="someone-else"), JWT_SECRET,
                                     algorithm="HS256"),
        "wrong_issuer": jwt.encode(_claims(api, iss="evil"), JWT_SECRET, algorithm="HS256"),
        "refresh_as_access": jwt.encode(_claims(api, typ="refresh"), JWT_SECRET,
                                        algorithm="HS256"),
        "missing_exp": jwt.encode(_claims(api, exp=None), JWT_SECRET, algorithm="HS256"),
        "unknown_role": jwt.encode(_claims(api, role="superuser"), JWT_SECRET,
                                   algorithm="HS256"),
        "garbage": "not.a.token",
    }


def _hs256_raw(claims: dict[str, Any], key: bytes) -> str:
    """HS256 signed with the RSA public key as the HMAC secret (the classic confusion)."""
    import hashlib
    import hmac

    signing_input = _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64(claims)
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


ATTACKS = ["alg_none", "alg_none_upper", "rs256_signed", "hs256_with_public_key", "hs512",
           "wrong_key", "expired", "tampered_role", "wrong_audience", "wrong_issuer",
           "refresh_as_access", "missing_exp", "unknown_role", "garbage"]


@pytest.mark.parametrize("attack", ATTACKS)
async def test_forged_or_stale_tokens_are_rejected(api: Api, attack: str) -> None:
    token = _attacks(api)[attack]
    for path in (PROTECTED, "/users", f"/bookings/{'x' * 8}"):
        resp = await api.client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 401, (attack, path)
        body = await resp.json()
        assert body["error"] == "unauthorized" and set(body) == {"error", "message", "details"}
        assert resp.headers["WWW-Authenticate"] == "Bearer"


async def test_the_genuine_token_of_the_same_shape_works(api: Api) -> None:
    token = jwt.encode(_claims(api), JWT_SECRET, algorithm="HS256")
    resp = await api.client.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200


@pytest.mark.parametrize("header", [None, "Basic cmluYTpyYWhhc2lh", "Bearer", "Bearer  "])
async def test_missing_or_malformed_authorization(api: Api, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    resp = await api.client.get(PROTECTED, headers=headers)
    assert resp.status == 401


async def test_token_in_the_query_string_is_not_accepted(api: Api) -> None:
    token = issue_tokens(api.settings, api.seed.patient)["access_token"]
    resp = await api.client.get(PROTECTED, params={"access_token": token})
    assert resp.status == 401


async def test_small_clock_leeway(api: Api) -> None:
    just_expired = jwt.encode(_claims(api, exp=int(time.time()) - 3), JWT_SECRET,
                              algorithm="HS256")
    resp = await api.client.get(PROTECTED, headers={"Authorization": f"Bearer {just_expired}"})
    assert resp.status == 200


async def _refresh(api: Api, refresh_token: str) -> Any:
    return await api.client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def _status(api: Api, access_token: str) -> int:
    return (await api.client.get(PROTECTED, headers=bearer(access_token))).status


async def test_refresh_token_used_as_access_token(api: Api) -> None:
    tokens = await login(api, "rina@test.id", PASSWORD)
    assert await _status(api, tokens["refresh_token"]) == 401
    assert await _status(api, tokens["access_token"]) == 200


async def test_access_token_used_as_refresh_token(api: Api) -> None:
    tokens = await login(api, "rina@test.id", PASSWORD)
    resp = await _refresh(api, tokens["access_token"])
    assert resp.status == 401
    assert (await resp.json())["error"] == "unauthorized"


async def test_refresh_token_reuse_revokes_the_whole_family(api: Api) -> None:
    stolen = await login(api, "rina@test.id", PASSWORD)
    rotated = await (await _refresh(api, stolen["refresh_token"])).json()  # the owner refreshes
    newest = await (await _refresh(api, rotated["refresh_token"])).json()
    assert await _status(api, newest["access_token"]) == 200
    replay = await _refresh(api, stolen["refresh_token"])  # the thief replays the old one
    assert replay.status == 401
    assert (await replay.json())["message"] == "refresh token already used; session revoked"
    # every token issued from that login since is dead: access and refresh alike
    for access in (stolen["access_token"], rotated["access_token"], newest["access_token"]):
        assert await _status(api, access) == 401
    assert (await _refresh(api, newest["refresh_token"])).status == 401
    # another login of the same account is a different family: untouched
    other = await login(api, "rina@test.id", PASSWORD)
    assert await _status(api, other["access_token"]) == 200


async def test_logout_then_reuse_of_both_tokens(api: Api) -> None:
    tokens = await login(api, "rina@test.id", PASSWORD)
    out = await api.client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]},
                                headers=bearer(tokens["access_token"]))
    assert out.status == 204
    assert await _status(api, tokens["access_token"]) == 401
    resp = await _refresh(api, tokens["refresh_token"])
    assert resp.status == 401
    assert (await resp.json())["message"] == "session revoked; log in again"


async def test_logout_all_voids_every_session_of_the_account(api: Api) -> None:
    phone = await login(api, "rina@test.id", PASSWORD)
    laptop = await login(api, "rina@test.id", PASSWORD)
    bystander = await login(api, "budi@test.id", PASSWORD)
    resp = await api.client.post("/auth/logout-all", headers=bearer(laptop["access_token"]))
    assert resp.status == 204
    for device in (phone, laptop):
        assert await _status(api, device["access_token"]) == 401
        assert (await _refresh(api, device["refresh_token"])).status == 401
    assert await _status(api, bystander["access_token"]) == 200
    fresh = await login(api, "rina@test.id", PASSWORD)  # logging in again works
    assert await _status(api, fresh["access_token"]) == 200


async def test_password_change_voids_other_sessions(api: Api) -> None:
    thief = await login(api, "rina@test.id", PASSWORD)
    owner = await login(api, "rina@test.id", PASSWORD)
    wrong = await api.client.post("/auth/password", json={
        "current_password": "not-it", "new_password": "a-brand-new-secret"},
        headers=bearer(owner["access_token"]))
    assert wrong.status == 401
    changed = await api.client.post("/auth/password", json={
        "current_password": PASSWORD, "new_password": "a-brand-new-secret"},
        headers=bearer(owner["access_token"]))
    assert changed.status == 200
    assert await _status(api, thief["access_token"]) == 401
    assert (await _refresh(api, thief["refresh_token"])).status == 401
    assert await _status(api, (await changed.json())["access_token"]) == 200
    old = await api.client.post("/auth/login", json={"email": "rina@test.id",
                                                     "password": PASSWORD})
    assert old.status == 401
    assert (await login(api, "rina@test.id", "a-brand-new-secret"))["role"] == "patient"


async def test_demoted_admin_token_loses_admin_rights(api: Api) -> None:
    admin_tokens = await login(api, "admin@test.id", PASSWORD)
    assert (await api.client.get("/users", headers=bearer(admin_tokens["access_token"]))
            ).status == 200
    issued_earlier = api.headers(api.seed.admin)
    api.store.insert_user(api.seed.admin.model_copy(update={
        "id": "user-admin-2", "email": "admin2@test.id", "whatsapp": None}))
    demote = await api.client.patch(f"/users/{api.seed.admin.id}", json={"role": "patient"},
                                    headers=api.headers(api.store.get_user("user-admin-2")))
    assert demote.status == 200, await demote.text()
    # the token still says "admin", but it was issued before the change
    assert (await api.client.get("/users", headers=bear(admin_tokens))).status == 401
    assert (await api.client.get("/users", headers=issued_earlier)).status == 401


def bear(tokens: dict[str, Any]) -> dict[str, str]:
    return bearer(tokens["access_token"])


async def test_deleted_account_token(api: Api) -> None:
    tokens = await login(api, "budi@test.id", PASSWORD)
    resp = await api.client.delete(f"/users/{api.seed.patient2.id}",
                                   headers=api.headers(api.seed.admin))
    assert resp.status == 204
    assert await _status(api, tokens["access_token"]) == 401
    assert (await _refresh(api, tokens["refresh_token"])).status == 401


@pytest.mark.parametrize("settings_overrides", [{"redis_url": "redis://127.0.0.1:1/0"}])
async def test_revocation_store_down_refresh_fails_closed(api: Api) -> None:
    tokens = issue_tokens(api.settings, api.seed.patient)
    resp = await _refresh(api, tokens["refresh_token"])
    assert resp.status == 503
    assert (await resp.json())["error"] == "store_unavailable"
    # a signed, unexpired access token still works: the API stays up without Redis
    assert await _status(api, tokens["access_token"]) == 200
