"""iCalendar: a doctor's feed and one booking for the patient's calendar (pure: no I/O).
Patient names minimal in the doctor's feed: first name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from icalendar import Calendar, Event

from booking.models import Booking, BookingStatus, Doctor

PRODID = "-//Klinik WA//Doctor agenda//ID"
UID_DOMAIN = "klinik-wa"


def first_name(name: str | None) -> str:
    parts = (name or "").split()
    return parts[0] if parts else "Pasien"


def build_feed(doctor: Doctor, bookings: Iterable[Booking], patient_names: Mapping[str, str],
               *, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{doctor.name} - {doctor.clinic}")
    cal.add("x-wr-timezone", doctor.timezone)
    for booking in bookings:
        event = Event()
        event.add("uid", f"{booking.id}@{UID_DOMAIN}")
        event.add("dtstamp", now)
        event.add("dtstart", booking.start)
        event.add("dtend", booking.end)
        event.add("summary", f"{first_name(patient_names.get(booking.patient_id))} "
                             f"({booking.ref})")
        event.add("location", doctor.clinic)
        event.add("status", "CONFIRMED" if booking.status == BookingStatus.confirmed
                  else "CANCELLED")
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def build_booking_ics(doctor: Doctor, booking: Booking, *, now: datetime) -> bytes:
    """The patient's own appointment, to add to their calendar."""
    cal = Calendar()
    cal.add("prodid", "-//Klinik WA//Booking//ID")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.id}@{UID_DOMAIN}")
    event.add("dtstamp", now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("summary", f"{doctor.name} - {doctor.clinic}")
    event.add("location", ", ".join(p for p in (doctor.clinic, doctor.address) if p))
    event.add("description", f"Kode booking / booking code: {booking.ref}")
    event.add("status", "CONFIRMED" if booking.status == BookingStatus.confirmed
              else "CANCELLED")
    cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
