"""What to send for which event: the pure rules that turn booking events, reminders, the
morning agenda and account events into outbox entries (documents in, documents out).

Template params stay the ones the approved Wati templates declare; the free-form text
(used inside the 24-hour window) is built here. Doctors see patients by first name only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.catalog import specialty_label
from booking.formatting import local_when, relative_day
from booking.models import Booking, BookingStatus, Doctor, User, as_utc, new_id
from booking.notices import Notice
from notify.outbox import Kind, OutboxEntry
from notify.texts import REMINDER_REPLIES, render


def booking_params(booking: Booking, doctor: Doctor, patient: User, lang: str) -> dict[str, str]:
    day, clock = local_when(booking.start, doctor.timezone, lang)
    return {"name": patient.name or "", "patient": patient.name or "", "ref": booking.ref,
            "doctor": doctor.name, "specialty": specialty_label(doctor.specialty, lang),
            "date": day, "time": clock, "clinic": doctor.clinic}


# What the doctor is told: every change of their bookings, by the patient or by staff.
DOCTOR_KINDS = frozenset({Kind.doctor_new_booking, Kind.doctor_booking_cancelled,
                          Kind.doctor_booking_rescheduled, Kind.doctor_no_show})


def entries_for(kind: Kind, booking: Booking, doctor: Doctor, patient: User,
                doctor_user: User | None = None) -> list[OutboxEntry]:
    """The outbox entries one booking event produces; dedupe keys make replays harmless."""
    if kind in DOCTOR_KINDS:
        to = doctor.whatsapp or (doctor_user.whatsapp if doctor_user else None)
        email = doctor.email or (doctor_user.email if doctor_user else None)
        lang = doctor_user.language if doctor_user else "id"
        # Doctors see patient names minimally: first name only.
        params = booking_params(booking, doctor, patient, lang)
        params["patient"] = (patient.name or "Pasien").split()[0]
    else:
        to, email, lang = patient.whatsapp, patient.email, patient.language
        params = booking_params(booking, doctor, patient, lang)
    if not to and not email:
        return []
    return [OutboxEntry(kind=kind, dedupe_key=f"{kind.value}:{booking.id}", booking_id=booking.id,
                        doctor_id=booking.doctor_id, to=to, email=email, language=lang,
                        template=kind.value, params=params,
                        text=render(kind.value, lang, params))]


def verification_entry(user_id: str, number: str, code: str, lang: str) -> OutboxEntry:
    """The code goes to the number being proven and nowhere else (no e-mail fallback: an
    e-mail would prove nothing about the number)."""
    params = {"code": code}
    return OutboxEntry(kind=Kind.whatsapp_verification,
                       dedupe_key=f"{Kind.whatsapp_verification.value}:{user_id}:{new_id()}",
                       to=number, email=None, language=lang,
                       template=Kind.whatsapp_verification.value, params=params,
                       text=render(Kind.whatsapp_verification.value, lang, params))


def account_exists_entry(owner: User) -> OutboxEntry:
    """Tell the owner of an address that someone tried to register with it (e-mail only:
    the registration answer itself says nothing, so addresses cannot be enumerated)."""
    params = {"name": owner.name or ""}
    return OutboxEntry(kind=Kind.account_exists,
                       dedupe_key=f"{Kind.account_exists.value}:{owner.id}:{new_id()}",
                       to=None, email=owner.email, language=owner.language,
                       params=params, text=render(Kind.account_exists.value, owner.language,
                                                  params))


def data_export_entry(user: User, link: str, hours: int, lang: str) -> OutboxEntry:
    """The export link asked for on WhatsApp goes to the account's e-mail only (a link to
    health data is not put in the chat, where anyone holding the phone reads it)."""
    params = {"name": user.name or "", "link": link, "hours": str(hours)}
    return OutboxEntry(kind=Kind.data_export,
                       dedupe_key=f"{Kind.data_export.value}:{user.id}:{new_id()}",
                       to=None, email=user.email, language=lang, params=params,
                       text=render(Kind.data_export.value, lang, params))


def reminder_obsolete(booking: dict[str, Any] | None, now: datetime) -> str | None:
    """Why a reminder must not go out any more, checked by the dispatcher just before sending:
    its booking was cancelled or moved, or the appointment has begun, since the reminder was
    queued (a retry with backoff can wait that long). None: send it."""
    if booking is None:
        return "booking not found"
    status = booking.get("status")
    if status != BookingStatus.confirmed.value:
        return f"booking {status}"
    if as_utc(booking["start"]) <= now:
        return "appointment has started"
    return None


def reminder_dedupe_key(booking_id: str, kind: str) -> str:
    return f"{Kind.appointment_reminder.value}:{booking_id}:{kind}"


_WHEN = {("today", "id"): "hari ini ", ("tomorrow", "id"): "besok ",
         ("today", "en"): "today ", ("tomorrow", "en"): "tomorrow "}

_REMINDER = {
    "id": "Pengingat: {when}Anda ada jadwal dengan {doctor} pada {date}, {time} di {clinic} "
          "(kode {ref}). Balas: {replies}.",
    "en": "Reminder: {when}you see {doctor} on {date}, {time} at {clinic} (ref {ref}). "
          "Reply: {replies}.",
}


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


# The replies a waitlist offer takes (the gateway maps them back; buttons inside the window).
WAITLIST_REPLIES = {"id": ("Ambil", "Lewati"), "en": ("Take it", "Skip")}


class WaitlistMessages:
    """notify/'s side of booking.waitlist.OfferMessages: the outbox document of an offer."""

    def offer_entry(self, offer: dict[str, Any], doctor: Doctor, patient: User,
                    minutes: int) -> dict[str, Any] | None:
        if not patient.whatsapp and not patient.email:
            return None
        lang = "en" if offer.get("language") == "en" else "id"
        day, clock = local_when(offer["start"], doctor.timezone, lang)
        params = {"name": patient.name or "", "doctor": doctor.name, "date": day,
                  "time": clock, "clinic": doctor.clinic, "minutes": str(minutes)}
        entry = OutboxEntry(kind=Kind.waitlist_offer,
                            dedupe_key=f"{Kind.waitlist_offer.value}:{offer['id']}",
                            doctor_id=doctor.id, to=patient.whatsapp, email=patient.email,
                            language=lang, params=params,
                            text=render(Kind.waitlist_offer.value, lang, params),
                            created_at=offer["created_at"],
                            next_attempt_at=offer["created_at"])
        doc = entry.to_doc()
        doc["offer_id"] = offer["id"]
        doc["quick_replies"] = list(WAITLIST_REPLIES[lang])
        return doc


# Changes told to a doctor wait this long, so several within a few minutes go as one message
# (the dispatcher sends a batch together: notify/dispatcher.py).
DOCTOR_BATCH_KINDS = frozenset({Kind.doctor_booking_cancelled, Kind.doctor_booking_rescheduled,
                                Kind.doctor_no_show})
DOCTOR_BATCH_DELAY = timedelta(minutes=3)
_BATCH_HEAD = {"id": "Perubahan jadwal ({count}):", "en": "Schedule changes ({count}):"}


def batch_text(texts: list[str], lang: str) -> str:
    """One message for several changes told to a doctor."""
    head = _BATCH_HEAD["en" if lang == "en" else "id"].format(count=len(texts))
    return "\n".join([head, *(f"• {t}" for t in texts)])


class BookingNotices:
    """notify/'s side of booking.notices.Notices: the outbox documents of one notice."""

    def entries(self, notice: Notice, booking: Booking, doctor: Doctor, patient: User,
                doctor_user: User | None = None, *, occasion: str | None = None
                ) -> list[dict[str, Any]]:
        kind = Kind(notice.value)
        docs = []
        for entry in entries_for(kind, booking, doctor, patient, doctor_user):
            if occasion:
                entry = entry.model_copy(
                    update={"dedupe_key": f"{kind.value}:{booking.id}:{occasion}"})
            doc = entry.to_doc()
            if kind in DOCTOR_BATCH_KINDS:
                doc["batch"] = f"doctor:{doctor.id}"
                # from the change's own time (the service's clock)
                doc["next_attempt_at"] = as_utc(booking.updated_at) + DOCTOR_BATCH_DELAY
            docs.append(doc)
        return docs
