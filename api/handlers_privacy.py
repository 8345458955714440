"""Data subject rights (UU PDP No. 27/2022): a patient exports or erases their own data;
admins do the same for any patient account. Every export and erasure is written to the
audit log (ids and counts only). The operations themselves are shared with the WhatsApp
gateway (booking/privacy.py); what erasure keeps and removes: booking/store_privacy.py."""

from __future__ import annotations

from aiohttp import web

from api import schemas as s
from app.http.auth import EXPORT, Principal, decode_token, principal_of, requires, revocations
from app.http.errors import unauthorized
from app.http.spec import ResponseDoc, endpoint, query_of, reply
from app.keys import SERVICE, SETTINGS, STORE
from booking.errors import NotFound
from booking.privacy import PrivacyService, Requester

TAGS = ("privacy",)
ERASURE_RESPONSES: dict[int, ResponseDoc] = {200: s.ErasureOut, 404: s.ErrorOut,
                                             409: s.ErrorOut, 422: s.ErrorOut}


def _privacy(request: web.Request) -> PrivacyService:
    """The shared rights operations (booking/privacy.py), with this app's token store."""
    settings = request.config_dict[SETTINGS]
    return PrivacyService(request.config_dict[STORE], request.config_dict[SERVICE],
                          revocations(request), settings.access_token_minutes * 60 + 120)


def _requester(by: Principal) -> Requester:
    return Requester(by.user_id, by.role.value, "api")


async def _export(request: web.Request, user_id: str, by: Principal) -> web.Response:
    data, now = await _privacy(request).export(user_id, _requester(by))
    return reply(s.DataExportOut(exported_at=now, **data),
                 headers={"Cache-Control": "no-store",
                          "Content-Disposition": 'attachment; filename="my-data.json"'})


async def _erase(request: web.Request, user_id: str, by: Principal) -> web.Response:
    done = await _privacy(request).erase(user_id, _requester(by))  # NotFound 404, Conflict 409
    return reply(s.ErasureOut(erased=True, cancelled_bookings=done.cancelled_bookings,
                              counts=done.counts))


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


@endpoint("Everything held about me, from the download link e-mailed after a WhatsApp "
          "\"data saya\" request (the link's token, valid 24 hours)", tags=TAGS,
          query=s.ExportLinkQuery, responses={200: s.DataExportOut, 401: s.ErrorOut},
          public=True)
async def export_by_link(request: web.Request) -> web.Response:
    token = query_of(request, s.ExportLinkQuery).token
    claims = decode_token(request.config_dict[SETTINGS], token, EXPORT)
    try:
        user = await request.config_dict[STORE].users.get(claims["sub"])
    except NotFound:
        raise unauthorized("link no longer valid") from None
    if user.token_version != claims["ver"]:
        raise unauthorized("link no longer valid")  # erased, logged out everywhere, ...
    data, now = await _privacy(request).export(user.id, Requester(user.id, user.role.value,
                                                                   "email"))
    return reply(s.DataExportOut(exported_at=now, **data),
                 headers={"Cache-Control": "no-store",
                          "Content-Disposition": 'attachment; filename="my-data.json"'})


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
