"""Admin handlers: user accounts (create, list, read, change, delete)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from api import schemas as s
from api.handlers_auth import void_user_tokens
from api.present import user_out
from app.http.auth import principal_of, requires, revocations
from app.http.spec import body_of, endpoint, query_of, reply
from app.keys import SETTINGS, STORE
from booking.errors import Conflict
from booking.models import Role, User
from booking.passwords import hash_password

TAGS = ("admin",)


async def _check_doctor_link(request: web.Request, role: Role, doctor_id: str | None) -> None:
    if doctor_id is None:
        return
    if role != Role.doctor:
        raise Conflict("only doctor accounts link to a doctor")
    await request.config_dict[STORE].doctors.get(doctor_id)  # NotFound -> 404


@requires("admin")
@endpoint("List users", tags=TAGS, query=s.UsersQuery, responses={200: s.UsersPage})
async def list_users(request: web.Request) -> web.Response:
    query = query_of(request, s.UsersQuery)
    users, total = await request.config_dict[STORE].users.list(
        role=query.role.value if query.role else None, skip=(query.page - 1) * query.page_size,
        limit=query.page_size)
    return reply(s.UsersPage(items=[user_out(u) for u in users], total=total, page=query.page,
                             page_size=query.page_size))


@requires("admin")
@endpoint("Create a user (any role)", tags=TAGS, body=s.UserCreateIn,
          responses={201: s.UserOut, 404: s.ErrorOut, 409: s.ErrorOut})
async def create_user(request: web.Request) -> web.Response:
    body = body_of(request, s.UserCreateIn)
    await _check_doctor_link(request, body.role, body.doctor_id)
    password_hash = await asyncio.to_thread(hash_password, body.password) \
        if body.password else None
    user = User(name=body.name, email=body.email, whatsapp=body.whatsapp, role=body.role,
                password_hash=password_hash, doctor_id=body.doctor_id, language=body.language)
    await request.config_dict[STORE].users.insert(user)
    return reply(user_out(user), status=201)


@requires("admin")
@endpoint("One user", tags=TAGS, responses={200: s.UserOut, 404: s.ErrorOut})
async def get_user(request: web.Request) -> web.Response:
    user = await request.config_dict[STORE].users.get(request.match_info["user_id"])
    return reply(user_out(user))


@requires("admin")
@endpoint("Change a user", tags=TAGS, body=s.UserPatchIn,
          responses={200: s.UserOut, 404: s.ErrorOut, 409: s.ErrorOut})
async def patch_user(request: web.Request) -> web.Response:
    body = body_of(request, s.UserPatchIn)
    store = request.config_dict[STORE]
    user = await store.users.get(request.match_info["user_id"])
    changes = body.model_dump(exclude_unset=True, exclude={"password"})
    if body.password is not None:
        changes["password_hash"] = await asyncio.to_thread(hash_password, body.password)
    updated = User.model_validate({**user.model_dump(), **changes})
    if updated.role != Role.doctor:
        updated.doctor_id = None
    await _check_doctor_link(request, updated.role, updated.doctor_id)
    await store.users.update(updated)
    if body.password is not None or updated.role != user.role \
            or updated.doctor_id != user.doctor_id:
        # Tokens carry the role (and doctor link): none issued before may outlive the change.
        await void_user_tokens(request, updated.id)
        updated = await store.users.get(updated.id)
    return reply(user_out(updated))


@requires("admin")
@endpoint("Delete a user", tags=TAGS, responses={204: None, 404: s.ErrorOut, 409: s.ErrorOut})
async def delete_user(request: web.Request) -> web.Response:
    user_id = request.match_info["user_id"]
    if user_id == principal_of(request).user_id:
        raise Conflict("you cannot delete your own account")
    await request.config_dict[STORE].users.delete(user_id)
    # No user document to hold a version any more: void its access tokens in Redis.
    await revocations(request).raise_version(
        user_id, 2**31, request.config_dict[SETTINGS].access_token_minutes * 60 + 120)
    return web.Response(status=204)
