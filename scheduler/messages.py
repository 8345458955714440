"""Outbox entries the scheduler writes: appointment reminders and the doctor's daily agenda.

Pure: bookings, doctors and users in, outbox documents out. Indonesian first, English
for users whose language is English. Template params stay the ones the approved Wati
templates declare; the free-form text (used inside the 24-hour window) is built here.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from booking.models import Booking, Doctor, User
from booking.notifications import Kind, OutboxEntry, entries_for, local_when
from scheduler.rules import relative_day

# The quick replies of the appointment_reminder template; the gateway maps them back.
REMINDER_REPLIES = {"id": ("Hadir", "Ubah jadwal", "Batal"),
                    "en": ("Attend", "Reschedule", "Cancel")}

_WHEN = {("today", "id"): "hari ini ", ("tomorrow", "id"): "besok ",
         ("today", "en"): "today ", ("tomorrow", "en"): "tomorrow "}

_REMINDER = {
    "id": "Pengingat: {when}Anda ada jadwal dengan {doctor} pada {date}, {time} di {clinic} "
          "(kode {ref}). Balas: {replies}.",
    "en": "Reminder: {when}you see {doctor} on {date}, {time} at {clinic} (ref {ref}). "
          "Reply: {replies}.",
}


def reminder_dedupe_key(booking_id: str, kind: str) -> str:
    return f"{Kind.appointment_reminder.value}:{booking_id}:{kind}"


def reminder_entry(booking: Booking, doctor: Doctor, patient: User, *, kind: str,
                   now: datetime, late: bool) -> dict[str, Any] | None:
    """The outbox document of reminder `kind` of one booking; None if the patient has no
    WhatsApp number and no email (nothing could deliver it)."""
    entries = entries_for(Kind.appointment_reminder, booking, doctor, patient)
    if not entries:
        return None
    entry = entries[0]
    lang = entry.language if entry.language in _REMINDER else "id"
    rel = relative_day(booking.start, now, doctor.timezone)
    text = _REMINDER[lang].format(when=_WHEN.get((rel or "", lang), ""),
                                  replies=" / ".join(REMINDER_REPLIES[lang]), **entry.params)
    doc = entry.model_copy(update={"dedupe_key": reminder_dedupe_key(booking.id, kind),
                                   "text": text, "created_at": now,
                                   "next_attempt_at": now}).to_doc()
    # Extra fields for the dispatcher and analytics (the OutboxEntry model ignores them).
    doc["reminder"] = {"kind": kind, "late": late}
    doc["quick_replies"] = list(REMINDER_REPLIES[lang])
    return doc


_AGENDA_HEAD = {"id": "Agenda hari ini, {date}: {count} pasien.",
                "en": "Today's agenda, {date}: {count} patients."}


def agenda_entry(doctor: Doctor, doctor_user: User | None, day: date,
                 bookings: list[Booking], patients: dict[str, User], *, now: datetime
                 ) -> dict[str, Any] | None:
    """The morning agenda of one doctor for `day` (clinic time); None without a contact.

    Patients appear by first name only (doctors see names minimally, as in notifications).
    """
    to = doctor.whatsapp or (doctor_user.whatsapp if doctor_user else None)
    email = doctor.email or (doctor_user.email if doctor_user else None)
    if not to and not email:
        return None
    lang = doctor_user.language if doctor_user and doctor_user.language in _AGENDA_HEAD else "id"
    ordered = sorted(bookings, key=lambda b: b.start)
    noon = datetime.combine(day, time(12), tzinfo=ZoneInfo(doctor.timezone))
    day_label = local_when(noon, doctor.timezone, lang)[0]
    lines = []
    for booking in ordered:
        patient = patients.get(booking.patient_id)
        first = ((patient.name if patient else "") or ("Pasien" if lang == "id" else "Patient"))
        lines.append(f"{local_when(booking.start, doctor.timezone, lang)[1]} "
                     f"{first.split()[0]} ({booking.ref})")
    head = _AGENDA_HEAD[lang].format(date=day_label, count=len(ordered))
    params = {"name": doctor.name, "doctor": doctor.name, "date": day_label,
              "count": str(len(ordered)), "agenda": "; ".join(lines)}
    entry = OutboxEntry(kind=Kind.doctor_daily_agenda,
                        dedupe_key=f"{Kind.doctor_daily_agenda.value}:{doctor.id}:{day}",
                        to=to, email=email, language=lang,
                        template=Kind.doctor_daily_agenda.value, params=params,
                        text="\n".join([head, *lines]), created_at=now, next_attempt_at=now)
    return entry.to_doc()
