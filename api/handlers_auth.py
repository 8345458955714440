"""Auth handlers: register, login, refresh (rotating, single use), logout, me."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from api import schemas as s
from api.auth import REFRESH, decode_token, issue_tokens, principal_of, requires
from api.errors import unauthorized
from api.present import user_out
from api.ratelimit import client_ip, enforce
from api.spec import body_of, endpoint, reply
from app.keys import COORDINATOR, SETTINGS, STORE
from booking.errors import NotFound
from booking.models import Role, User
from booking.passwords import hash_password, verify_password
from booking.token_revocations import Revocations

TAGS = ("auth",)
# Verified when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-only-for-timing")


def _revocations(request: web.Request) -> Revocations:
    coord = request.config_dict[COORDINATOR]
    return Revocations(coord.redis, coord.ns)


@endpoint("Register a patient account", tags=TAGS, body=s.RegisterIn,
          responses={201: s.TokenOut, 409: s.ErrorOut, 429: s.ErrorOut}, public=True)
async def register(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    body = body_of(request, s.RegisterIn)
    await enforce(request, "register-ip", client_ip(request), settings.register_limit_per_ip)
    password_hash = await asyncio.to_thread(hash_password, body.password)
    user = User(name=body.name, email=body.email, whatsapp=body.whatsapp, role=Role.patient,
                password_hash=password_hash, language=body.language)
    user = await request.config_dict[STORE].insert_user(user)  # Conflict -> 409
    return reply(s.TokenOut.model_validate(issue_tokens(settings, user)), status=201)


@endpoint("Log in with email and password", tags=TAGS, body=s.LoginIn,
          responses={200: s.TokenOut, 401: s.ErrorOut, 429: s.ErrorOut}, public=True)
async def login(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    body = body_of(request, s.LoginIn)
    await enforce(request, "login-ip", client_ip(request), settings.login_limit_per_ip)
    await enforce(request, "login-account", body.email, settings.login_limit_per_account)
    user = await request.config_dict[STORE].find_user(email=body.email)
    stored_hash = user.password_hash if user and user.password_hash else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, stored_hash, body.password)
    if not ok or user is None or not user.password_hash:
        raise unauthorized("wrong email or password")
    return reply(s.TokenOut.model_validate(issue_tokens(settings, user)))


@endpoint("Exchange a refresh token for new tokens (single use)", tags=TAGS, body=s.RefreshIn,
          responses={200: s.TokenOut, 401: s.ErrorOut}, public=True)
async def refresh(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    claims = decode_token(settings, body_of(request, s.RefreshIn).refresh_token, REFRESH)
    ttl = int(claims["exp"] - time.time()) + 60
    if not await _revocations(request).revoke(claims["jti"], ttl):
        raise unauthorized("refresh token already used or revoked")
    try:
        user = await request.config_dict[STORE].get_user(claims["sub"])
    except NotFound as exc:
        raise unauthorized("account no longer exists") from exc
    return reply(s.TokenOut.model_validate(issue_tokens(settings, user)))


@endpoint("Log out: revoke the refresh token", tags=TAGS, body=s.RefreshIn,
          responses={204: None, 401: s.ErrorOut}, public=True)
async def logout(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    claims = decode_token(settings, body_of(request, s.RefreshIn).refresh_token, REFRESH)
    await _revocations(request).revoke(claims["jti"], int(claims["exp"] - time.time()) + 60)
    return web.Response(status=204)


@requires()
@endpoint("The signed-in user", tags=TAGS, responses={200: s.UserOut})
async def me(request: web.Request) -> web.Response:
    principal = principal_of(request)
    try:
        user = await request.config_dict[STORE].get_user(principal.user_id)
    except NotFound as exc:
        raise unauthorized("account no longer exists") from exc
    return reply(user_out(user))
