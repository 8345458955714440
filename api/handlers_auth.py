"""Auth handlers: register, login, refresh (rotating, single use, reuse revokes the family),
logout, log out everywhere, password change, me, and proving a WhatsApp number."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from api import schemas as s
from api.present import user_out
from api.ratelimit import client_ip, enforce
from app.http.auth import (
    ACCESS,
    REFRESH,
    bearer_token,
    decode_token,
    issue_tokens,
    principal_of,
    remaining_s,
    requires,
    revocations,
)
from app.http.errors import ApiError, unauthorized
from app.http.spec import body_of, endpoint, reply
from app.keys import COORDINATOR, SETTINGS, STORE
from app.settings import Settings
from booking.errors import Conflict, NotFound
from booking.models import Role, User
from booking.passwords import hash_password, verify_password
from booking.verification_codes import CODE_TTL_S, Outcome, VerificationCodes, new_code
from notify.rules import account_exists_entry, verification_entry

log = logging.getLogger(__name__)

TAGS = ("auth",)
# Verified when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-only-for-timing")
REGISTERED = "if the address can be used, the account is ready: log in with it"
# Codes sent to one number per rate window (a number is not a free SMS gateway).
CODES_PER_NUMBER = 3


async def void_user_tokens(request: web.Request, user_id: str) -> None:
    """Every token of the user issued so far stops working (logout-all, password, role)."""
    settings = request.config_dict[SETTINGS]
    version = await request.config_dict[STORE].users.bump_token_version(user_id)
    await revocations(request).raise_version(user_id, version,
                                             settings.access_token_minutes * 60 + 120)


@endpoint("Register a patient account (answers the same whether the address is new or "
          "not; then log in)", tags=TAGS, body=s.RegisterIn,
          responses={202: s.AcceptedOut, 422: s.ErrorOut, 429: s.ErrorOut}, public=True)
async def register(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    store = request.config_dict[STORE]
    body = body_of(request, s.RegisterIn)
    await enforce(request, "register-ip", client_ip(request), settings.register_limit_per_ip)
    # Hashed either way: a known address must not answer faster than a new one.
    password_hash = await asyncio.to_thread(hash_password, body.password)
    user = User(name=body.name, email=body.email, whatsapp_pending=body.whatsapp,
                role=Role.patient, password_hash=password_hash, language=body.language)
    try:
        await store.users.insert(user)
    except Conflict:
        owner = await store.users.find(email=body.email)
        if owner is not None and owner.email:
            await store.outbox.enqueue([account_exists_entry(owner).to_doc()])
        log.info("registration with a known address: owner told by e-mail")
    return reply(s.AcceptedOut(message=REGISTERED), status=202)


@endpoint("Log in with email and password", tags=TAGS, body=s.LoginIn,
          responses={200: s.TokenOut, 401: s.ErrorOut, 429: s.ErrorOut}, public=True)
async def login(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    body = body_of(request, s.LoginIn)
    await enforce(request, "login-ip", client_ip(request), settings.login_limit_per_ip)
    await enforce(request, "login-account", body.email, settings.login_limit_per_account)
    user = await request.config_dict[STORE].users.find(email=body.email)
    stored_hash = user.password_hash if user and user.password_hash else _DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, stored_hash, body.password)
    if not ok or user is None or not user.password_hash:
        raise unauthorized("wrong email or password")
    return reply(s.TokenOut.model_validate(issue_tokens(settings, user)))


@endpoint("Exchange a refresh token for new tokens (single use; a replay revokes every "
          "token of that login)", tags=TAGS, body=s.RefreshIn,
          responses={200: s.TokenOut, 401: s.ErrorOut}, public=True)
async def refresh(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    claims = decode_token(settings, body_of(request, s.RefreshIn).refresh_token, REFRESH)
    tokens = revocations(request)
    if await tokens.family_revoked(claims["fam"]):
        raise unauthorized("session revoked; log in again")
    if not await tokens.use_refresh(claims["jti"], remaining_s(claims)):
        # Used twice: the token leaked (or a client raced itself). Whoever holds the newer
        # tokens loses them too; the owner logs in again.
        await tokens.revoke_family(claims["fam"], settings.refresh_token_days * 86400)
        log.warning("refresh token reuse: its session was revoked")
        raise unauthorized("refresh token already used; session revoked")
    try:
        user = await request.config_dict[STORE].users.get(claims["sub"])
    except NotFound as exc:
        raise unauthorized("account no longer exists") from exc
    if claims["ver"] != user.token_version:
        raise unauthorized("session revoked; log in again")
    return reply(s.TokenOut.model_validate(issue_tokens(settings, user, claims["fam"])))


@endpoint("Log out: revoke this session (its refresh token, and the access token sent as "
          "Bearer)", tags=TAGS, body=s.RefreshIn, responses={204: None, 401: s.ErrorOut},
          public=True)
async def logout(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    claims = decode_token(settings, body_of(request, s.RefreshIn).refresh_token, REFRESH)
    tokens = revocations(request)
    await tokens.revoke_family(claims["fam"], remaining_s(claims))
    access = bearer_token(request)
    if access is not None:
        try:
            access_claims = decode_token(settings, access, ACCESS)
        except ApiError:
            access_claims = None  # expired or not ours: nothing to deny
        if access_claims is not None and access_claims["sub"] == claims["sub"]:
            await tokens.deny_access(access_claims["jti"], remaining_s(access_claims))
    return web.Response(status=204)


@requires()
@endpoint("Log out everywhere: every token of this account stops working", tags=TAGS,
          responses={204: None, 401: s.ErrorOut})
async def logout_all(request: web.Request) -> web.Response:
    await void_user_tokens(request, principal_of(request).user_id)
    return web.Response(status=204)


@requires()
@endpoint("Change the password (every other session is logged out; new tokens returned)",
          tags=TAGS, body=s.PasswordChangeIn,
          responses={200: s.TokenOut, 401: s.ErrorOut, 429: s.ErrorOut})
async def change_password(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    store = request.config_dict[STORE]
    body = body_of(request, s.PasswordChangeIn)
    principal = principal_of(request)
    await enforce(request, "login-account", principal.user_id,
                  settings.login_limit_per_account)
    user = await _current_user(request)
    ok = user.password_hash is not None and await asyncio.to_thread(
        verify_password, user.password_hash, body.current_password)
    if not ok:
        raise unauthorized("wrong password")
    await store.users.set_password_hash(user.id, await asyncio.to_thread(hash_password,
                                                                   body.new_password))
    await void_user_tokens(request, user.id)
    user = await store.users.get(user.id)
    return reply(s.TokenOut.model_validate(issue_tokens(settings, user)))


async def _current_user(request: web.Request) -> User:
    try:
        user: User = await request.config_dict[STORE].users.get(principal_of(request).user_id)
    except NotFound as exc:
        raise unauthorized("account no longer exists") from exc
    return user


@requires()
@endpoint("The signed-in user", tags=TAGS, responses={200: s.UserOut})
async def me(request: web.Request) -> web.Response:
    return reply(user_out(await _current_user(request)))


def _masked(number: str) -> str:
    return "•" * max(0, len(number) - 4) + number[-4:]


@requires("patient")
@endpoint("Send a 6-digit code by WhatsApp to prove the account's number", tags=TAGS,
          body=s.VerifyStartIn,
          responses={202: s.VerifyStartOut, 409: s.ErrorOut, 429: s.ErrorOut})
async def whatsapp_verify(request: web.Request) -> web.Response:
    settings: Settings = request.config_dict[SETTINGS]
    store = request.config_dict[STORE]
    body = body_of(request, s.VerifyStartIn)
    user = await _current_user(request)
    number = body.whatsapp or user.whatsapp_pending
    if number is None or number == user.whatsapp:
        raise Conflict("no unverified WhatsApp number on this account")
    await enforce(request, "wa-verify-ip", client_ip(request), settings.register_limit_per_ip)
    await enforce(request, "wa-verify-number", number, CODES_PER_NUMBER)
    if body.whatsapp and body.whatsapp != user.whatsapp_pending:
        user = await store.users.update(user.model_copy(update={"whatsapp_pending": number}))
    coord = request.config_dict[COORDINATOR]
    code = new_code()
    await VerificationCodes(coord.redis, coord.ns).issue(user.id, number, code)
    await store.outbox.enqueue([verification_entry(user.id, number, code, user.language).to_doc()])
    return reply(s.VerifyStartOut(expires_in=CODE_TTL_S, to=_masked(number)), status=202)


@requires("patient")
@endpoint("Confirm the WhatsApp code: the number becomes the account's (its WhatsApp "
          "bookings and chats attach to it)", tags=TAGS, body=s.VerifyConfirmIn,
          responses={200: s.UserOut, 400: s.ErrorOut, 429: s.ErrorOut})
async def whatsapp_confirm(request: web.Request) -> web.Response:
    settings: Settings = request.config_dict[SETTINGS]
    body = body_of(request, s.VerifyConfirmIn)
    principal = principal_of(request)
    await enforce(request, "wa-confirm-ip", client_ip(request), settings.login_limit_per_ip)
    coord = request.config_dict[COORDINATOR]
    checked = await VerificationCodes(coord.redis, coord.ns).check(principal.user_id,
                                                                     body.code)
    if checked.outcome == Outcome.exhausted:
        raise ApiError(429, "too_many_tries", "too many wrong codes: ask for a new one")
    if checked.outcome == Outcome.missing:
        raise ApiError(400, "no_code", "no code is waiting: ask for a new one")
    if checked.outcome == Outcome.wrong:
        raise ApiError(400, "wrong_code", "that code is not right",
                       {"tries_left": checked.tries_left})
    assert checked.number is not None
    user, moved = await request.config_dict[STORE].users.attach_whatsapp(principal.user_id,
                                                                   checked.number)
    log.info("WhatsApp number verified for user %s (%d bookings attached)", user.id, moved)
    return reply(user_out(user))
