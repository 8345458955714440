"""The route table of the REST API (and nothing else)."""

from __future__ import annotations

from aiohttp import web

from api import handlers_auth as auth
from api import handlers_bookings as bookings
from api import handlers_doctors as doctors
from api import handlers_handoffs as handoffs
from api import handlers_ops as ops
from api import handlers_photos as photos
from api import handlers_privacy as privacy
from api import handlers_users as users
from api import handlers_waitlist as waitlist
from api import staff_page as staff

DOCTOR = "/doctors/{doctor_id}"
BOOKING = "/bookings/{booking_id}"
USER = "/users/{user_id}"

ROUTES = [
    web.post("/auth/register", auth.register),
    web.post("/auth/login", auth.login),
    web.post("/auth/refresh", auth.refresh),
    web.post("/auth/logout", auth.logout),
    web.post("/auth/logout-all", auth.logout_all),
    web.post("/auth/password", auth.change_password),
    web.post("/auth/whatsapp/verify", auth.whatsapp_verify),
    web.post("/auth/whatsapp/confirm", auth.whatsapp_confirm),
    web.get("/auth/me", auth.me),
    web.get("/catalog", doctors.catalog),
    web.get("/doctors", doctors.list_doctors),
    web.post("/doctors", doctors.create_doctor),
    web.get(DOCTOR, doctors.get_doctor),
    web.patch(DOCTOR, doctors.patch_doctor),
    web.delete(DOCTOR, doctors.delete_doctor),
    web.get(DOCTOR + "/slots", doctors.get_slots),
    web.get(DOCTOR + "/schedule", doctors.get_schedule),
    web.put(DOCTOR + "/schedule", doctors.put_schedule),
    web.get(DOCTOR + "/agenda", doctors.get_agenda),
    web.get(DOCTOR + "/calendar.ics", doctors.calendar_feed),
    web.post(DOCTOR + "/calendar-token", doctors.rotate_calendar_token),
    web.delete(DOCTOR + "/calendar-token", doctors.revoke_calendar_token),
    web.put(DOCTOR + "/photo", photos.put_photo),
    web.delete(DOCTOR + "/photo", photos.delete_photo),
    web.get(photos.PHOTO_ROUTE, photos.get_photo),
    web.post("/holds", bookings.hold_slot),
    web.post("/holds/release", bookings.release_hold),
    web.post("/bookings", bookings.create_booking),
    web.get("/bookings", bookings.list_bookings),
    web.get(BOOKING, bookings.get_booking),
    web.get(BOOKING + "/calendar.ics", bookings.booking_calendar),
    web.post(BOOKING + "/cancel", bookings.cancel_booking),
    web.post(BOOKING + "/reschedule", bookings.reschedule_booking),
    web.post(BOOKING + "/no-show", bookings.no_show),
    web.get("/users", users.list_users),
    web.post("/users", users.create_user),
    web.get(USER, users.get_user),
    web.patch(USER, users.patch_user),
    web.delete(USER, users.delete_user),
    *handoffs.ROUTES,
    *waitlist.ROUTES,
    *staff.ROUTES,
    web.get("/me/data", privacy.export_me),
    web.get("/me/data/download", privacy.export_by_link),
    web.delete("/me", privacy.erase_me),
    web.get(USER + "/data", privacy.export_user),
    web.delete(USER + "/personal-data", privacy.erase_user),
    web.get(USER + "/audit", privacy.user_audit),
    web.get("/ready", ops.ready),
    web.get("/openapi.json", ops.openapi_json),
    web.get("/docs", ops.docs),
]
