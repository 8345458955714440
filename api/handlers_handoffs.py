"""The staff inbox: conversations handed from the bot to a person (notify/handoff.py).

Roles staff and admin only. Staff see a patient's number masked except the last 4 digits,
read the conversation, take it, reply (through the outbox, so the reply is persisted and
retried, and sent as a template outside the 24-hour window) and resolve it, which gives the
conversation back to the bot.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import Field, StringConstraints

from app.http.auth import principal_of, requires
from app.http.errors import ApiError
from app.http.schemas import ErrorOut, In, Out
from app.http.spec import body_of, endpoint, query_of, reply
from notify.handoff_rules import Resolution, mask_number, waiting_minutes
from notify.runtime import NOTIFIER

TAGS = ("handoffs",)
HANDOFF = "/handoffs/{handoff_id}"
_ID = re.compile(r"^[0-9a-f]{32}$")
TRANSCRIPT = 50  # chat log lines shown with one conversation


class HandoffsQuery(In):
    status: Literal["open", "closed", "all"] = "open"
    limit: int = Field(50, ge=1, le=200)


class ReplyIn(In):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=4096)]


class ResolveIn(In):
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class MessageOut(Out):
    direction: str
    text: str
    at: datetime | None = None
    by: str | None = None


class HandoffOut(Out):
    id: str
    status: str
    name: str
    number: str                    # masked: the last 4 digits only
    reason: str
    opened_at: datetime
    waiting_minutes: int           # since opened (open), or how long it was open (closed)
    taken_by: str | None = None
    answered: bool
    assigned_in_wati: bool | None = None
    resolution: str | None = None
    closed_at: datetime | None = None
    last_messages: list[MessageOut]


class HandoffsOut(Out):
    items: list[HandoffOut]


class ConversationOut(Out):
    handoff: HandoffOut
    transcript: list[MessageOut]


class ReplyOut(Out):
    id: str
    status: str


def _messages(docs: list[dict[str, Any]]) -> list[MessageOut]:
    return [MessageOut(direction=str(d.get("direction") or ""), text=str(d.get("text") or ""),
                       at=d.get("at"), by=d.get("by"))
            for d in docs]


def handoff_out(doc: dict[str, Any], now: datetime) -> HandoffOut:
    until = doc.get("closed_at") or now
    return HandoffOut(
        id=doc["id"], status=doc["status"], name=doc.get("name") or "",
        number=mask_number(doc.get("wa_id")), reason=doc.get("reason") or "",
        opened_at=doc["opened_at"], waiting_minutes=waiting_minutes(doc["opened_at"], until),
        taken_by=doc.get("taken_by"), answered=doc.get("answered_at") is not None,
        assigned_in_wati=doc.get("assigned"), resolution=doc.get("resolution"),
        closed_at=doc.get("closed_at"), last_messages=_messages(doc.get("last_messages") or []))


def _id(request: web.Request) -> str:
    handoff_id = request.match_info["handoff_id"]
    if not _ID.match(handoff_id):
        raise ApiError(404, "not_found", "handoff not found")
    return handoff_id


async def _get(request: web.Request) -> dict[str, Any]:
    doc = await request.config_dict[NOTIFIER].handoffs.handoffs.get(_id(request))
    if doc is None:
        raise ApiError(404, "not_found", "handoff not found")
    return doc


def _open(doc: dict[str, Any]) -> None:
    if doc["status"] != "open":
        raise ApiError(409, "conflict", "this conversation is back with the bot already")


@requires("staff", "admin")
@endpoint("Conversations handed to staff (open first, longest waiting first)", tags=TAGS,
          query=HandoffsQuery, responses={200: HandoffsOut})
async def list_handoffs(request: web.Request) -> web.Response:
    q = query_of(request, HandoffsQuery)
    desk = request.config_dict[NOTIFIER].handoffs
    status = None if q.status == "all" else q.status
    docs = await desk.handoffs.list(status=status, limit=q.limit)
    now = desk.clock()
    return reply(HandoffsOut(items=[handoff_out(d, now) for d in docs]))


@requires("staff", "admin")
@endpoint("One handed-off conversation with its transcript", tags=TAGS,
          responses={200: ConversationOut, 404: ErrorOut})
async def get_handoff(request: web.Request) -> web.Response:
    doc = await _get(request)
    desk = request.config_dict[NOTIFIER].handoffs
    transcript = await desk.handoffs.recent_chat(doc["wa_id"], TRANSCRIPT)
    return reply(ConversationOut(handoff=handoff_out(doc, desk.clock()),
                                 transcript=_messages(transcript)))


@requires("staff", "admin")
@endpoint("Take a conversation (you answer this patient)", tags=TAGS,
          responses={200: HandoffOut, 404: ErrorOut, 409: ErrorOut})
async def take_handoff(request: web.Request) -> web.Response:
    doc = await _get(request)
    _open(doc)
    desk = request.config_dict[NOTIFIER].handoffs
    taken = await desk.take(doc["id"], principal_of(request).user_id)
    if taken is None:
        raise ApiError(409, "conflict", "this conversation is back with the bot already")
    return reply(handoff_out(taken, desk.clock()))


@requires("staff", "admin")
@endpoint("Reply to the patient (sent on WhatsApp through the outbox)", tags=TAGS,
          body=ReplyIn, responses={202: ReplyOut, 404: ErrorOut, 409: ErrorOut})
async def reply_handoff(request: web.Request) -> web.Response:
    doc = await _get(request)
    _open(doc)
    body = body_of(request, ReplyIn)
    desk = request.config_dict[NOTIFIER].handoffs
    entry = await desk.reply(doc, body.text, principal_of(request).user_id)
    sent = await desk.store.outbox.get(entry["_id"])
    return reply(ReplyOut(id=entry["_id"], status=str((sent or entry).get("status"))),
                 status=202)


@requires("staff", "admin")
@endpoint("Resolve: the conversation goes back to the bot", tags=TAGS, body=ResolveIn,
          responses={200: HandoffOut, 404: ErrorOut, 409: ErrorOut})
async def resolve_handoff(request: web.Request) -> web.Response:
    doc = await _get(request)
    _open(doc)
    body = body_of(request, ResolveIn)
    desk = request.config_dict[NOTIFIER].handoffs
    closed = await desk.resolve(doc["id"], Resolution.staff, by=principal_of(request).user_id,
                                note=body.note)
    if closed is None:
        raise ApiError(409, "conflict", "this conversation is back with the bot already")
    return reply(handoff_out(closed, desk.clock()))


ROUTES = [
    web.get("/handoffs", list_handoffs),
    web.get(HANDOFF, get_handoff),
    web.post(HANDOFF + "/take", take_handoff),
    web.post(HANDOFF + "/reply", reply_handoff),
    web.post(HANDOFF + "/resolve", resolve_handoff),
]
