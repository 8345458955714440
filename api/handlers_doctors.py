"""Doctor handlers: directory (cached), slots, schedule, agenda, calendar feed, admin CRUD."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import UTC, datetime, time, timedelta

from aiohttp import web

from api import schemas as s
from api.calendar import build_feed
from api.present import doctor_out, schedule_out, slot_out
from app.http.auth import Principal, authenticate, principal_of, requires
from app.http.errors import forbidden, not_found
from app.http.spec import body_of, endpoint, query_of, reply
from app.keys import COORDINATOR, SERVICE, SETTINGS, STORE
from booking.catalog import CITIES, SPECIALTIES
from booking.errors import Conflict, NotFound
from booking.models import Booking, BookingStatus, Doctor, Role, Schedule
from booking.service import DOCTOR_CACHE_NS
from booking.slots import available_slots

log = logging.getLogger(__name__)

TAGS = ("doctors",)
CALENDAR_PAST_DAYS = 30  # how far back the calendar feed reaches


def _require_own_doctor(principal: Principal, doctor_id: str) -> None:
    """Admins: any doctor. Doctors: only themselves."""
    if principal.role == Role.admin:
        return
    if principal.role == Role.doctor and principal.doctor_id == doctor_id:
        return
    raise forbidden("doctors may only see and change their own schedule and agenda")


async def invalidate_doctors(request: web.Request) -> None:
    await request.config_dict[COORDINATOR].cache_bump(DOCTOR_CACHE_NS)


# ---- catalogue ------------------------------------------------------------------------
@endpoint("Specialties and cities with the synonyms the bot knows", tags=TAGS,
          responses={200: s.CatalogOut}, public=True)
async def catalog(request: web.Request) -> web.Response:
    return reply(s.CatalogOut(
        specialties=[s.SpecialtyOut(code=x.code, name_id=x.name_id, name_en=x.name_en,
                                    synonyms=list(x.synonyms)) for x in SPECIALTIES],
        cities=[s.CityOut(name=c.name, timezone=c.timezone, aliases=list(c.aliases))
                for c in CITIES]), headers={"Cache-Control": "public, max-age=3600"})


# ---- directory ------------------------------------------------------------------------
@endpoint("Search doctors", tags=TAGS, query=s.DoctorsQuery,
          responses={200: s.DoctorsPage, 401: s.ErrorOut, 403: s.ErrorOut}, public=True)
async def list_doctors(request: web.Request) -> web.Response:
    query = query_of(request, s.DoctorsQuery)
    if query.include_inactive:   # staff's doctor management: admins only, never cached
        if (await authenticate(request)).role != Role.admin:
            raise forbidden("only admins list deactivated doctors")
        return reply(await _doctors_page(request, query), headers={"Cache-Control": "no-store"})
    settings = request.config_dict[SETTINGS]
    coord = request.config_dict[COORDINATOR]
    ttl = settings.doctors_cache_seconds
    key = None
    if ttl:
        generation = await coord.cache_generation(DOCTOR_CACHE_NS)
        if generation >= 0:  # -1: Redis is down, skip the cache
            digest = hashlib.sha256(query.model_dump_json().encode()).hexdigest()[:32]
            key = f"{DOCTOR_CACHE_NS}:{generation}:{digest}"
            cached = await coord.cache_get(key)
            if cached is not None:
                return web.Response(text=json.dumps(cached), content_type="application/json",
                                    headers={"X-Cache": "hit"})
    page = await _doctors_page(request, query)
    if key is not None:
        await coord.cache_set(key, page.model_dump(mode="json"), ttl)
    return reply(page, headers={"X-Cache": "miss"})


async def _doctors_page(request: web.Request, query: s.DoctorsQuery) -> s.DoctorsPage:
    store = request.config_dict[STORE]
    skip = (query.page - 1) * query.page_size
    if query.available_on is None:
        doctors, total = await store.doctors.find(specialty=query.specialty, city=query.city,
                                                  q=query.q, skip=skip, limit=query.page_size,
                                                  active_only=not query.include_inactive)
    else:
        everyone, _ = await store.doctors.find(specialty=query.specialty, city=query.city,
                                               q=query.q, active_only=not query.include_inactive)
        free = await _free_on(request, everyone, query.available_on)
        total = len(free)
        doctors = free[skip:skip + query.page_size]
    return s.DoctorsPage(items=[doctor_out(d) for d in doctors], total=total, page=query.page,
                         page_size=query.page_size)


async def _free_on(request: web.Request, doctors: list[Doctor], day: s.Date) -> list[Doctor]:
    """Doctors with at least one free slot on that local date (one query for all of them)."""
    if not doctors:
        return []
    service = request.config_dict[SERVICE]
    lo = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1)
    hi = lo + timedelta(days=3)
    ids = [d.id for d in doctors]
    busy = await service.store.bookings.busy_intervals(ids, lo, hi)
    holds = await service.coord.holds(ids)
    now = service.clock()
    out = []
    for doctor in doctors:
        start = datetime.combine(day, time(0), tzinfo=doctor.tz)
        if available_slots(doctor, now=now, start=start, end=start + timedelta(days=1),
                           bookings=busy[doctor.id], holds=holds[doctor.id]):
            out.append(doctor)
    return out


@endpoint("One doctor", tags=TAGS, responses={200: s.DoctorOut, 404: s.ErrorOut}, public=True)
async def get_doctor(request: web.Request) -> web.Response:
    doctor = await request.config_dict[STORE].doctors.get(request.match_info["doctor_id"])
    return reply(doctor_out(doctor))


@endpoint("Free slots of a doctor", tags=TAGS, query=s.SlotsQuery,
          responses={200: s.SlotsOut, 404: s.ErrorOut}, public=True)
async def get_slots(request: web.Request) -> web.Response:
    query = query_of(request, s.SlotsQuery)
    service = request.config_dict[SERVICE]
    doctor = await service.doctor(request.match_info["doctor_id"])
    first = query.date or query.from_
    last = query.date or query.to
    assert first is not None and last is not None
    tz = doctor.tz
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    slots = await service.availability(doctor, start, end) if doctor.active else []
    return reply(s.SlotsOut(doctor_id=doctor.id, timezone=doctor.timezone,
                            slots=[slot_out(slot, tz) for slot in slots]))


# ---- schedule -------------------------------------------------------------------------
@requires("doctor", "admin")
@endpoint("A doctor's weekly schedule", tags=TAGS,
          responses={200: s.ScheduleOut, 404: s.ErrorOut})
async def get_schedule(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    _require_own_doctor(principal_of(request), doctor_id)
    doctor = await request.config_dict[STORE].doctors.get(doctor_id)
    return reply(schedule_out(doctor))


@requires("doctor", "admin")
@endpoint("Replace a doctor's schedule", tags=TAGS, body=s.ScheduleIn, query=s.ScheduleQuery,
          responses={200: s.ScheduleSavedOut, 404: s.ErrorOut, 409: s.ErrorOut})
async def put_schedule(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    _require_own_doctor(principal_of(request), doctor_id)
    body = body_of(request, s.ScheduleIn)
    force = query_of(request, s.ScheduleQuery).force
    saved = await request.config_dict[SERVICE].replace_schedule(
        doctor_id, Schedule.model_validate(body.model_dump()), force=force)  # 409 if stranded
    return reply(s.ScheduleSavedOut(schedule=schedule_out(saved.doctor),
                                    affected_bookings=[b.id for b in saved.stranded],
                                    notified=saved.notified))


# ---- agenda and calendar --------------------------------------------------------------
@requires("doctor", "admin")
@endpoint("A doctor's bookings on one local date", tags=TAGS, query=s.AgendaQuery,
          responses={200: s.AgendaOut, 404: s.ErrorOut})
async def get_agenda(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    _require_own_doctor(principal_of(request), doctor_id)
    day = query_of(request, s.AgendaQuery).date
    service = request.config_dict[SERVICE]
    doctor = await service.doctor(doctor_id)
    bookings = await service.agenda(doctor_id, day)
    names = await _patient_names(request, bookings)
    tz = doctor.tz
    items = [s.AgendaItemOut(id=b.id, ref=b.ref, start=b.start.astimezone(tz),
                             end=b.end.astimezone(tz), status=b.status, patient_id=b.patient_id,
                             patient_name=names.get(b.patient_id, ""))
             for b in bookings]
    return reply(s.AgendaOut(doctor_id=doctor_id, date=day, items=items))


async def _patient_names(request: web.Request, bookings: list[Booking]) -> dict[str, str]:
    store = request.config_dict[STORE]
    names: dict[str, str] = {}
    for patient_id in {b.patient_id for b in bookings}:
        try:
            names[patient_id] = (await store.users.get(patient_id)).name
        except NotFound:
            names[patient_id] = ""
    return names


@endpoint("iCalendar feed of a doctor's bookings (subscribe with the secret token)",
          tags=TAGS, query=s.CalendarQuery,
          responses={200: "text/calendar", 404: s.ErrorOut}, public=True)
async def calendar_feed(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    token = query_of(request, s.CalendarQuery).token
    store = request.config_dict[STORE]
    try:
        doctor = await store.doctors.get(doctor_id)
    except NotFound:
        doctor = None
    # One answer for a wrong token and a missing doctor: the feed's existence leaks nothing.
    if doctor is None or not doctor.calendar_token or not hmac.compare_digest(
            doctor.calendar_token.encode(), token.encode()):
        raise not_found("calendar not found")
    now = request.config_dict[SERVICE].clock()
    bookings, _ = await store.bookings.find(
        doctor_id=doctor.id, start_from=now - timedelta(days=CALENDAR_PAST_DAYS),
        start_to=now + timedelta(days=doctor.horizon_days + 1),
        statuses=[BookingStatus.confirmed.value, BookingStatus.completed.value])
    names = await _patient_names(request, bookings)
    body = build_feed(doctor, bookings, names, now=now)
    return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                        headers={"Cache-Control": "private, max-age=300"})


@requires("doctor", "admin")
@endpoint("Create or rotate the calendar feed token (the old one stops working)", tags=TAGS,
          responses={200: s.CalendarTokenOut, 404: s.ErrorOut})
async def rotate_calendar_token(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    _require_own_doctor(principal_of(request), doctor_id)
    store = request.config_dict[STORE]
    doctor = await store.doctors.get(doctor_id)
    token = secrets.token_urlsafe(24)
    await store.doctors.upsert(doctor.model_copy(update={"calendar_token": token}))
    return reply(s.CalendarTokenOut(doctor_id=doctor_id, token=token,
                                    path=f"/doctors/{doctor_id}/calendar.ics?token={token}"))


@requires("doctor", "admin")
@endpoint("Turn the calendar feed off", tags=TAGS, responses={204: None, 404: s.ErrorOut})
async def revoke_calendar_token(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    _require_own_doctor(principal_of(request), doctor_id)
    store = request.config_dict[STORE]
    doctor = await store.doctors.get(doctor_id)
    await store.doctors.upsert(doctor.model_copy(update={"calendar_token": None}))
    return web.Response(status=204)


# ---- admin CRUD -----------------------------------------------------------------------
@requires("admin")
@endpoint("Add a doctor", tags=TAGS, body=s.DoctorIn,
          responses={201: s.DoctorOut, 409: s.ErrorOut})
async def create_doctor(request: web.Request) -> web.Response:
    body = body_of(request, s.DoctorIn)
    doctor = Doctor.model_validate(body.model_dump())
    await request.config_dict[STORE].doctors.upsert(doctor)
    await invalidate_doctors(request)
    return reply(doctor_out(doctor), status=201)


@requires("admin")
@endpoint("Change a doctor's profile", tags=TAGS, body=s.DoctorPatchIn,
          responses={200: s.DoctorOut, 404: s.ErrorOut})
async def patch_doctor(request: web.Request) -> web.Response:
    body = body_of(request, s.DoctorPatchIn)
    store = request.config_dict[STORE]
    doctor = await store.doctors.get(request.match_info["doctor_id"])
    updated = Doctor.model_validate({**doctor.model_dump(), **body.model_dump(exclude_unset=True)})
    await store.doctors.upsert(updated)
    await invalidate_doctors(request)
    return reply(doctor_out(updated))


@requires("admin")
@endpoint("Remove a doctor without upcoming bookings", tags=TAGS,
          responses={204: None, 404: s.ErrorOut, 409: s.ErrorOut})
async def delete_doctor(request: web.Request) -> web.Response:
    doctor_id = request.match_info["doctor_id"]
    store = request.config_dict[STORE]
    service = request.config_dict[SERVICE]
    await store.doctors.get(doctor_id)
    _, upcoming = await store.bookings.find(doctor_id=doctor_id,
                                            statuses=[BookingStatus.confirmed.value],
                                            start_from=service.clock(), limit=1)
    if upcoming:
        raise Conflict("the doctor has upcoming bookings; deactivate instead",
                       upcoming_bookings=upcoming)
    await store.doctors.delete(doctor_id)
    await invalidate_doctors(request)
    return web.Response(status=204)


