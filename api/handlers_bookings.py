"""Booking handlers: hold, book (idempotent), list, read, calendar file, cancel, reschedule,
no-show."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from api import schemas as s
from api.calendar import build_booking_ics
from api.present import booking_out, slot_taken_out
from app.http.auth import Principal, principal_of, requires
from app.http.errors import ApiError, forbidden
from app.http.spec import body_of, endpoint, query_of, reply
from app.keys import SERVICE, STORE
from app.metrics import BOOKINGS
from booking.errors import Conflict
from booking.models import Booking, BookingSource, Role
from booking.service import Booked, BookResult, SlotTaken

TAGS = ("bookings",)
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{8,128}$")
BOOKING_409 = (s.SlotTakenOut, s.ErrorOut)


def _idempotency_key(request: web.Request) -> str | None:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    if not IDEMPOTENCY_PATTERN.match(raw):
        raise ApiError(422, "validation_error", "invalid Idempotency-Key header",
                       {"errors": [{"loc": ["header", IDEMPOTENCY_HEADER],
                                    "msg": "8-128 characters of A-Z a-z 0-9 _ - : .",
                                    "type": "pattern"}]})
    return raw


async def _zones(request: web.Request, bookings: list[Booking]) -> dict[str, ZoneInfo]:
    doctors = await request.config_dict[STORE].doctors.get_many(sorted({b.doctor_id
                                                                   for b in bookings}))
    return {doctor_id: d.tz for doctor_id, d in doctors.items()}


async def _one(request: web.Request, booking: Booking, status: int = 200,
               headers: dict[str, str] | None = None) -> web.Response:
    zones = await _zones(request, [booking])
    return reply(booking_out(booking, zones.get(booking.doctor_id)), status=status,
                 headers=headers)


async def _result(request: web.Request, result: BookResult, source: str,
                  status: int) -> web.Response:
    if isinstance(result, Booked):
        BOOKINGS.labels("replayed" if result.replayed else "booked", source).inc()
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return reply(booking_out(result.booking, result.doctor.tz), status=status,
                     headers=headers)
    BOOKINGS.labels("taken", source).inc()
    return reply(slot_taken_out(result), status=409)


@requires("patient")
@endpoint("Hold a slot for a few minutes while the patient confirms (others do not see it)",
          tags=TAGS, body=s.HoldIn,
          responses={201: s.HoldOut, 404: s.ErrorOut, 409: BOOKING_409})
async def hold_slot(request: web.Request) -> web.Response:
    principal = principal_of(request)
    body = body_of(request, s.HoldIn)
    service = request.config_dict[SERVICE]
    result = await service.hold(principal.user_id, body.doctor_id, body.start)
    if isinstance(result, SlotTaken):
        return reply(slot_taken_out(result), status=409)
    doctor = await service.doctor(body.doctor_id)
    tz = doctor.tz
    return reply(s.HoldOut(doctor_id=doctor.id, start=result.start.astimezone(tz),
                           end=(result.start + timedelta(minutes=doctor.slot_minutes)
                                ).astimezone(tz),
                           expires_at=result.expires_at.astimezone(tz)), status=201)


@requires("patient")
@endpoint("Release the patient's hold on a slot (no-op when there is none)", tags=TAGS,
          body=s.HoldIn, responses={204: None, 422: s.ErrorOut})
async def release_hold(request: web.Request) -> web.Response:
    body = body_of(request, s.HoldIn)
    await request.config_dict[SERVICE].release_hold(principal_of(request).user_id,
                                                    body.doctor_id, body.start)
    return web.Response(status=204)


@requires("patient", "admin")
@endpoint("Book a slot", tags=TAGS, body=s.BookingIn,
          responses={201: s.BookingOut, 404: s.ErrorOut, 409: BOOKING_409},
          headers=((IDEMPOTENCY_HEADER,
                    "Retry-safe key (8-128 chars): a retry returns the first booking"),))
async def create_booking(request: web.Request) -> web.Response:
    principal = principal_of(request)
    body = body_of(request, s.BookingIn)
    key = _idempotency_key(request)
    if principal.role == Role.patient:
        if body.patient_id not in (None, principal.user_id):
            raise forbidden("patients book for themselves only")
        patient_id = principal.user_id
    else:
        if body.patient_id is None:
            raise ApiError(422, "validation_error", "admins must give patient_id",
                           {"errors": [{"loc": ["body", "patient_id"], "msg": "required",
                                        "type": "missing"}]})
        patient_id = body.patient_id
        await request.config_dict[STORE].users.get(patient_id)  # NotFound -> 404
    service = request.config_dict[SERVICE]
    scoped = f"{patient_id}:{key}" if key else None  # one client's key never meets another's
    source = BookingSource(body.source)
    try:
        result = await service.book(patient_id, body.doctor_id, body.start, source=source,
                                    idempotency_key=scoped, actor=principal.actor)
    except Conflict:
        if scoped is None:
            raise
        # Two retries raced on one key: the loser replays the winner's booking.
        result = await service.book(patient_id, body.doctor_id, body.start, source=source,
                                    idempotency_key=scoped, actor=principal.actor)
    return await _result(request, result, source.value, 201)


def _scope(principal: Principal, query: s.BookingsQuery) -> dict[str, str | None]:
    """Who sees what: patients their own, doctors their agenda, admins anything (filters)."""
    if principal.role == Role.admin:
        return {"patient_id": query.patient_id, "doctor_id": query.doctor_id}
    if query.patient_id is not None or query.doctor_id is not None:
        raise forbidden("only admins filter by patient or doctor")
    if principal.role == Role.patient:
        return {"patient_id": principal.user_id, "doctor_id": None}
    if principal.doctor_id is None:
        raise forbidden("this doctor account is not linked to a doctor")
    return {"patient_id": None, "doctor_id": principal.doctor_id}


@requires("patient", "doctor", "admin")
@endpoint("List bookings", tags=TAGS, query=s.BookingsQuery, responses={200: s.BookingsPage})
async def list_bookings(request: web.Request) -> web.Response:
    query = query_of(request, s.BookingsQuery)
    scope = _scope(principal_of(request), query)
    start_from = datetime.combine(query.from_, time(0), tzinfo=UTC) if query.from_ else None
    start_to = (datetime.combine(query.to + timedelta(days=1), time(0), tzinfo=UTC)
                if query.to else None)
    bookings, total = await request.config_dict[STORE].bookings.find(
        patient_id=scope["patient_id"], doctor_id=scope["doctor_id"],
        statuses=[query.status.value] if query.status else None,
        start_from=start_from, start_to=start_to,
        skip=(query.page - 1) * query.page_size, limit=query.page_size)
    zones = await _zones(request, bookings)
    return reply(s.BookingsPage(items=[booking_out(b, zones.get(b.doctor_id)) for b in bookings],
                                total=total, page=query.page, page_size=query.page_size))


@requires("patient", "doctor", "admin")
@endpoint("One booking", tags=TAGS, responses={200: s.BookingOut, 404: s.ErrorOut})
async def get_booking(request: web.Request) -> web.Response:
    booking = await request.config_dict[SERVICE].get_booking(
        request.match_info["booking_id"], principal_of(request).actor)
    return await _one(request, booking)


@requires("patient", "doctor", "admin")
@endpoint("One booking as an iCalendar file (add to calendar)", tags=TAGS,
          responses={200: "text/calendar", 404: s.ErrorOut})
async def booking_calendar(request: web.Request) -> web.Response:
    service = request.config_dict[SERVICE]
    booking = await service.get_booking(request.match_info["booking_id"],
                                        principal_of(request).actor)
    doctor = await service.doctor(booking.doctor_id)
    body = build_booking_ics(doctor, booking, now=service.clock())
    return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                        headers={"Cache-Control": "no-store", "Content-Disposition":
                                 f'attachment; filename="{booking.ref}.ics"'})


@requires("patient", "doctor", "admin")
@endpoint("Cancel a booking", tags=TAGS, body=s.CancelIn,
          responses={200: s.BookingOut, 404: s.ErrorOut, 409: s.ErrorOut})
async def cancel_booking(request: web.Request) -> web.Response:
    body = body_of(request, s.CancelIn)
    booking = await request.config_dict[SERVICE].cancel(
        request.match_info["booking_id"], actor=principal_of(request).actor, reason=body.reason)
    return await _one(request, booking)


@requires("patient", "doctor", "admin")
@endpoint("Move a booking to another slot of the same doctor", tags=TAGS, body=s.RescheduleIn,
          responses={200: s.BookingOut, 404: s.ErrorOut, 409: BOOKING_409})
async def reschedule_booking(request: web.Request) -> web.Response:
    body = body_of(request, s.RescheduleIn)
    result = await request.config_dict[SERVICE].reschedule(
        request.match_info["booking_id"], body.start, actor=principal_of(request).actor)
    return await _result(request, result, "reschedule", 200)


@requires("doctor", "admin")
@endpoint("Record that the patient did not come", tags=TAGS,
          responses={200: s.BookingOut, 404: s.ErrorOut, 409: s.ErrorOut})
async def no_show(request: web.Request) -> web.Response:
    booking = await request.config_dict[SERVICE].mark_no_show(
        request.match_info["booking_id"], actor=principal_of(request).actor)
    return await _one(request, booking)
