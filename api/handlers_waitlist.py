"""The waitlist for web and mobile clients: a patient asks to be told when an earlier slot with
a doctor frees up (booking/waitlist.py offers it on WhatsApp, held for a few minutes)."""

from __future__ import annotations

import re
from datetime import date as Date
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import Field

from api.schemas import Id
from app.http.auth import principal_of, requires
from app.http.errors import ApiError
from app.http.schemas import ErrorOut, In, Out
from app.http.spec import body_of, endpoint, reply
from app.keys import WAITLIST

TAGS = ("waitlist",)
_ID = re.compile(r"^[0-9a-f]{32}$")


class WaitlistIn(In):
    doctor_id: Id
    from_: Date = Field(alias="from", description="First local date (inclusive).")
    to: Date = Field(description="Last local date (inclusive).")


class WaitlistEntryOut(Out):
    id: str
    doctor_id: str
    from_: str = Field(alias="from")
    to: str
    status: str                      # active, booked, cancelled
    created_at: datetime
    booking_id: str | None = None    # the booking the waitlist gave


class WaitlistOut(Out):
    items: list[WaitlistEntryOut]


def entry_out(doc: dict[str, Any]) -> WaitlistEntryOut:
    return WaitlistEntryOut(id=doc["id"], doctor_id=doc["doctor_id"], **{"from": doc["from_day"]},
                            to=doc["to_day"], status=doc["status"], created_at=doc["created_at"],
                            booking_id=doc.get("booking_id"))


@requires("patient")
@endpoint("Wait for an earlier slot with a doctor (offered on WhatsApp when one frees up)",
          tags=TAGS, body=WaitlistIn,
          responses={201: WaitlistEntryOut, 404: ErrorOut, 422: ErrorOut})
async def join_waitlist(request: web.Request) -> web.Response:
    body = body_of(request, WaitlistIn)
    principal = principal_of(request)
    doc = await request.config_dict[WAITLIST].join(principal.user_id, body.doctor_id,
                                                   body.from_, body.to)
    return reply(entry_out(doc), status=201)


@requires("patient")
@endpoint("My waitlist entries", tags=TAGS, responses={200: WaitlistOut})
async def list_waitlist(request: web.Request) -> web.Response:
    docs = await request.config_dict[WAITLIST].entries(principal_of(request).user_id)
    return reply(WaitlistOut(items=[entry_out(d) for d in docs]))


@requires("patient")
@endpoint("Leave the waitlist", tags=TAGS, responses={200: WaitlistEntryOut, 404: ErrorOut})
async def leave_waitlist(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    if not _ID.match(entry_id):
        raise ApiError(404, "not_found", "waitlist entry not found")
    doc = await request.config_dict[WAITLIST].leave(entry_id, principal_of(request).user_id)
    return reply(entry_out(doc))


ROUTES = [
    web.post("/waitlist", join_waitlist),
    web.get("/waitlist", list_waitlist),
    web.delete("/waitlist/{entry_id}", leave_waitlist),
]
