"""Data subject rights (UU PDP No. 27/2022): a patient exports or erases their own data;
admins do the same for any patient account. Every export and erasure is written to the
audit log (ids and counts only). What erasure keeps and removes: booking/store_privacy.py."""

from __future__ import annotations

from aiohttp import web

from api import schemas as s
from api.handlers_auth import void_user_tokens
from app.http.auth import Principal, principal_of, requires
from app.http.spec import ResponseDoc, endpoint, query_of, reply
from app.keys import SERVICE, STORE
from booking.errors import BookingError, Conflict
from booking.models import BookingStatus, Role
from booking.service import Actor

TAGS = ("privacy",)
ERASURE_RESPONSES: dict[int, ResponseDoc] = {200: s.ErasureOut, 404: s.ErrorOut,
                                             409: s.ErrorOut, 422: s.ErrorOut}


async def _export(request: web.Request, user_id: str, by: Principal) -> web.Response:
    store = request.config_dict[STORE]
    now = request.config_dict[SERVICE].clock()
    data = await store.privacy.export(user_id)
    await store.privacy.audit("export", by.user_id, by.role.value, user_id, now,
                              {k: len(v) for k, v in data.items() if isinstance(v, list)})
    return reply(s.DataExportOut(exported_at=now, **data),
                 headers={"Cache-Control": "no-store",
                          "Content-Disposition": 'attachment; filename="my-data.json"'})


async def _erase(request: web.Request, user_id: str, by: Principal) -> web.Response:
    store = request.config_dict[STORE]
    service = request.config_dict[SERVICE]
    user = await store.users.get(user_id)  # NotFound -> 404
    if user.role != Role.patient:
        raise Conflict("only patient accounts are erased; staff accounts are deleted")
    now = service.clock()
    upcoming, _ = await store.bookings.find(patient_id=user_id,
                                            statuses=[BookingStatus.confirmed.value],
                                            start_from=now)
    cancelled = 0
    for booking in upcoming:  # future visits are freed for others; the clinic sees them go
        try:
            await service.cancel(booking.id, actor=Actor.system())
            cancelled += 1
        except BookingError:
            continue  # changed meanwhile (cancelled, moved): nothing left to free
    counts = await store.privacy.erase(user_id, now)
    await void_user_tokens(request, user_id)
    await store.privacy.audit("erase", by.user_id, by.role.value, user_id, now,
                              {**counts, "cancelled_bookings": cancelled})
    return reply(s.ErasureOut(erased=True, cancelled_bookings=cancelled, counts=counts))


@requires()
@endpoint("Everything held about me, as JSON (right of access)", tags=TAGS,
          responses={200: s.DataExportOut})
async def export_me(request: web.Request) -> web.Response:
    principal = principal_of(request)
    return await _export(request, principal.user_id, principal)


@requires("patient")
@endpoint("Erase my personal data (bookings stay, pseudonymous; future ones are cancelled)",
          tags=TAGS, query=s.ErasureQuery, responses=ERASURE_RESPONSES)
async def erase_me(request: web.Request) -> web.Response:
    query_of(request, s.ErasureQuery)
    principal = principal_of(request)
    return await _erase(request, principal.user_id, principal)


@requires("admin")
@endpoint("Everything held about a user, as JSON (on a data subject's request)", tags=TAGS,
          responses={200: s.DataExportOut, 404: s.ErrorOut})
async def export_user(request: web.Request) -> web.Response:
    return await _export(request, request.match_info["user_id"], principal_of(request))


@requires("admin")
@endpoint("Erase a patient's personal data (on a data subject's request)", tags=TAGS,
          query=s.ErasureQuery, responses=ERASURE_RESPONSES)
async def erase_user(request: web.Request) -> web.Response:
    query_of(request, s.ErasureQuery)
    return await _erase(request, request.match_info["user_id"], principal_of(request))


@requires("admin")
@endpoint("The audit log of exports and erasures of a user", tags=TAGS,
          responses={200: s.AuditPage})
async def user_audit(request: web.Request) -> web.Response:
    entries = await request.config_dict[STORE].privacy.audit_entries(
        request.match_info["user_id"])
    return reply(s.AuditPage(items=[s.AuditOut(id=e["_id"], **{k: v for k, v in e.items()
                                                                 if k != "_id"})
                                    for e in entries]))
