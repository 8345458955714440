"""Notification outbox model and the pure rules that turn booking events into entries.

Invariant 3: every outbound notification is persisted here before it is sent;
the dedupe_key (unique in the store) makes one booking event send at most once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from booking.catalog import specialty_label
from booking.models import Booking, BookingStatus, Doctor, Model, User, as_utc, new_id


class OutboxStatus(StrEnum):
    pending = "pending"        # waiting for its first or next attempt
    sending = "sending"        # claimed by a dispatcher (claim expires)
    sent = "sent"              # accepted by Wati
    delivered = "delivered"
    read = "read"
    failed = "failed"          # WhatsApp said it failed; email fallback follows
    emailed = "emailed"        # delivered through the email fallback
    dead = "dead"              # nothing could deliver it: visible to staff, never silent
    skipped = "skipped"        # not sent on purpose: the booking it was about changed


class Kind(StrEnum):
    booking_confirmation = "booking_confirmation"
    booking_cancelled = "booking_cancelled"
    booking_rescheduled = "booking_rescheduled"
    doctor_new_booking = "doctor_new_booking"
    appointment_reminder = "appointment_reminder"
    schedule_changed = "schedule_changed"
    doctor_daily_agenda = "doctor_daily_agenda"
    manual = "manual"
    whatsapp_verification = "whatsapp_verification"  # a code proving the number is theirs
    account_exists = "account_exists"  # someone tried to register with a known address


class OutboxEntry(Model):
    id: str = Field(default_factory=new_id)
    kind: Kind
    dedupe_key: str
    booking_id: str | None = None
    doctor_id: str | None = None    # the booking's doctor: analytics filters reminders by it
    to: str | None = None           # WhatsApp number (E.164 digits)
    email: str | None = None        # fallback address
    language: str = "id"
    template: str | None = None     # approved template, used outside the 24h window
    params: dict[str, str] = Field(default_factory=dict)
    text: str = ""                  # free-form body, used inside the 24h window
    status: OutboxStatus = OutboxStatus.pending
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    last_error: str | None = None
    provider_message_id: str | None = None

    def to_doc(self) -> dict[str, Any]:
        data = self.model_dump(mode="python")
        data["_id"] = data.pop("id")
        return data


DAY_NAMES = {"id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
             "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}
MONTH_NAMES = {"id": ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
                      "September", "Oktober", "November", "Desember"],
               "en": ["January", "February", "March", "April", "May", "June", "July", "August",
                      "September", "October", "November", "December"]}
ZONE_ABBR = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
             "Asia/Jayapura": "WIT"}


def local_when(at: datetime, timezone: str, lang: str = "id") -> tuple[str, str]:
    """('Senin, 12 Januari 2026', '10:00 WIB') in the clinic's zone."""
    from zoneinfo import ZoneInfo

    lang = lang if lang in DAY_NAMES else "id"
    local = at.astimezone(ZoneInfo(timezone))
    day = f"{DAY_NAMES[lang][local.weekday()]}, {local.day} {MONTH_NAMES[lang][local.month - 1]} " \
          f"{local.year}"
    abbr = ZONE_ABBR.get(timezone, local.strftime("%Z"))
    return day, f"{local:%H:%M} {abbr}"


_TEXTS = {
    ("booking_confirmation", "id"):
        "Booking dikonfirmasi ✅\nKode: {ref}\n{doctor} ({specialty})\n{date}, {time}\n{clinic}",
    ("booking_confirmation", "en"):
        "Booking confirmed ✅\nRef: {ref}\n{doctor} ({specialty})\n{date}, {time}\n{clinic}",
    ("booking_cancelled", "id"):
        "Booking {ref} dengan {doctor} pada {date}, {time} sudah dibatalkan.",
    ("booking_cancelled", "en"):
        "Booking {ref} with {doctor} on {date}, {time} has been cancelled.",
    ("booking_rescheduled", "id"):
        "Jadwal booking {ref} dengan {doctor} dipindah ke {date}, {time}.",
    ("booking_rescheduled", "en"):
        "Booking {ref} with {doctor} moved to {date}, {time}.",
    ("doctor_new_booking", "id"):
        "Pasien baru: {patient}, {date}, {time} (kode {ref}).",
    ("doctor_new_booking", "en"):
        "New patient: {patient}, {date}, {time} (ref {ref}).",
    ("appointment_reminder", "id"):
        "Pengingat: besok Anda ada jadwal dengan {doctor} pada {date}, {time} di {clinic} "
        "(kode {ref}). Balas: Hadir / Ubah jadwal / Batal.",
    ("appointment_reminder", "en"):
        "Reminder: you see {doctor} on {date}, {time} at {clinic} (ref {ref}). "
        "Reply: Attend / Reschedule / Cancel.",
    ("schedule_changed", "id"):
        "Mohon maaf, jadwal {doctor} berubah dan booking {ref} pada {date}, {time} "
        "perlu dijadwalkan ulang. Balas pesan ini untuk memilih waktu baru.",
    ("whatsapp_verification", "id"):
        "Kode verifikasi Klinik Sehat: {code}. Berlaku 10 menit. Jangan berikan kode ini "
        "kepada siapa pun.",
    ("whatsapp_verification", "en"):
        "Klinik Sehat verification code: {code}. Valid for 10 minutes. Do not share it.",
    ("account_exists", "id"):
        "Halo {name}, ada yang mencoba mendaftar di Klinik Sehat dengan alamat email ini. "
        "Akun Anda sudah ada: masuk dengan email dan kata sandi Anda. Jika itu bukan Anda, "
        "abaikan pesan ini.",
    ("account_exists", "en"):
        "Hi {name}, someone tried to sign up at Klinik Sehat with this email address. You "
        "already have an account: sign in with your email and password. If it was not you, "
        "ignore this message.",
    ("schedule_changed", "en"):
        "Sorry, {doctor}'s schedule changed and booking {ref} on {date}, {time} needs a new "
        "time. Reply to this message to pick one.",
}


def render(kind: str, lang: str, params: dict[str, str]) -> str:
    template = _TEXTS.get((kind, lang)) or _TEXTS.get((kind, "id")) or "{text}"
    return template.format_map({**{"text": ""}, **params})


def booking_params(booking: Booking, doctor: Doctor, patient: User, lang: str) -> dict[str, str]:
    day, clock = local_when(booking.start, doctor.timezone, lang)
    return {"name": patient.name or "", "patient": patient.name or "", "ref": booking.ref,
            "doctor": doctor.name, "specialty": specialty_label(doctor.specialty, lang),
            "date": day, "time": clock, "clinic": doctor.clinic}


def entries_for(kind: Kind, booking: Booking, doctor: Doctor, patient: User,
                doctor_user: User | None = None) -> list[OutboxEntry]:
    """The outbox entries one booking event produces; dedupe keys make replays harmless."""
    if kind == Kind.doctor_new_booking:
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
