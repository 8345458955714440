"""Domain models (pydantic 2).

Instants are timezone-aware UTC; wall-clock rules are in the doctor's zone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from booking.catalog import SPECIALTY_BY_CODE
from booking.phone import normalise_whatsapp


def new_id() -> str:
    return uuid.uuid4().hex


def as_utc(value: datetime) -> datetime:
    """Aware datetime in UTC; naive values are taken as UTC (that is how Mongo returns them)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def check_timezone(name: str) -> str:
    """The name if it is a known IANA zone; a validation error naming it otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc
    return name


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TimeRange(Model):
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class WeeklyRule(TimeRange):
    """Working hours (or a break) on one weekday: 0 = Monday ... 6 = Sunday."""

    weekday: int = Field(ge=0, le=6)


class Break(TimeRange):
    """A break; `weekdays` empty means every day."""

    weekdays: list[int] = Field(default_factory=list)

    @field_validator("weekdays")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in v):
            raise ValueError("weekdays are 0 (Monday) .. 6 (Sunday)")
        return sorted(set(v))


class DateOverride(Model):
    """Replaces the weekly hours on one date; no ranges means a day off."""

    date: date
    ranges: list[TimeRange] = Field(default_factory=list)


class Schedule(Model):
    """Everything slot computation needs about a doctor."""

    timezone: str = "Asia/Jakarta"
    slot_minutes: int = Field(default=30, ge=5, le=240)
    buffer_minutes: int = Field(default=0, ge=0, le=120)
    min_notice_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    horizon_days: int = Field(default=30, ge=1, le=365)
    weekly: list[WeeklyRule] = Field(default_factory=list)
    breaks: list[Break] = Field(default_factory=list)
    overrides: list[DateOverride] = Field(default_factory=list)
    days_off: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return check_timezone(v)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Doctor(Schedule):
    id: str = Field(default_factory=new_id)
    name: str = Field(min_length=2, max_length=120)
    specialty: str
    city: str
    clinic: str
    address: str = ""
    fee: int = Field(default=0, ge=0)  # IDR
    languages: list[str] = Field(default_factory=lambda: ["id"])
    whatsapp: str | None = None
    email: str | None = None
    user_id: str | None = None
    active: bool = True
    calendar_token: str | None = None
    photo_url: str | None = None  # set by an admin upload (booking/photos.py), never by a body

    @field_validator("specialty")
    @classmethod
    def _specialty(cls, v: str) -> str:
        if v not in SPECIALTY_BY_CODE:
            raise ValueError(f"unknown specialty code {v!r}")
        return v

    @field_validator("whatsapp")
    @classmethod
    def _wa(cls, v: str | None) -> str | None:
        return normalise_whatsapp(v) if v else None

    def schedule(self) -> Schedule:
        return Schedule.model_validate(self.model_dump(include=set(Schedule.model_fields)))


class Role(StrEnum):
    patient = "patient"
    doctor = "doctor"
    admin = "admin"
    staff = "staff"      # clinic staff: the handoff inbox (conversations taken from the bot)


class User(Model):
    id: str = Field(default_factory=new_id)
    name: str = ""
    email: str | None = None
    # A number the user proved they read: WhatsApp conversations and bookings attach to the
    # account by it (unique). Numbers typed on the web wait in whatsapp_pending until a code
    # sent there comes back, so nobody can claim somebody else's WhatsApp history.
    whatsapp: str | None = None
    whatsapp_pending: str | None = None
    role: Role = Role.patient
    password_hash: str | None = None
    doctor_id: str | None = None
    language: str = "id"
    # Raised by "log out everywhere" and password changes: older tokens are void.
    token_version: int = 0
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("whatsapp", "whatsapp_pending")
    @classmethod
    def _wa(cls, v: str | None) -> str | None:
        return normalise_whatsapp(v) if v else None

    @property
    def whatsapp_only(self) -> bool:
        """Registered by writing on WhatsApp: no web login of its own."""
        return self.role == Role.patient and not self.email and not self.password_hash

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        return v.strip().lower() if v else None


class BookingStatus(StrEnum):
    confirmed = "confirmed"
    cancelled = "cancelled"
    rescheduled = "rescheduled"
    completed = "completed"
    no_show = "no_show"


ACTIVE_STATUSES = (BookingStatus.confirmed,)
# Allowed transitions of the lifecycle; anything else is InvalidTransition.
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.confirmed: frozenset({BookingStatus.cancelled, BookingStatus.rescheduled,
                                        BookingStatus.completed, BookingStatus.no_show}),
    BookingStatus.cancelled: frozenset(),
    BookingStatus.rescheduled: frozenset(),
    BookingStatus.completed: frozenset({BookingStatus.no_show}),
    BookingStatus.no_show: frozenset(),
}


class BookingSource(StrEnum):
    whatsapp = "whatsapp"
    web = "web"
    mobile = "mobile"
    admin = "admin"


class HistoryEntry(Model):
    at: datetime
    action: str
    actor: str
    status: BookingStatus
    note: str = ""
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return as_utc(v)


class Booking(Model):
    id: str = Field(default_factory=new_id)
    ref: str
    patient_id: str
    doctor_id: str
    start: datetime
    end: datetime
    status: BookingStatus = BookingStatus.confirmed
    source: BookingSource = BookingSource.whatsapp
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry] = Field(default_factory=list)
    slot_key: str | None = None
    rescheduled_from: str | None = None
    rescheduled_to: str | None = None
    cancel_reason: str | None = None
    patient_confirmed_at: datetime | None = None
    idempotency_key: str | None = None
    # reminder state: kinds already claimed ("24h", "2h"), owned by the scheduler
    reminders: dict[str, Any] = Field(default_factory=dict)
    # Notifications decided in the same write as the change (a one-document
    # transactional outbox); cleared once copied into the outbox collection.
    outbox_pending: list[str] = Field(default_factory=list)

    @field_validator("start", "end", "created_at", "updated_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return as_utc(v)

    @field_validator("patient_confirmed_at")
    @classmethod
    def _utc_opt(cls, v: datetime | None) -> datetime | None:
        return as_utc(v) if v else None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def slot_key(doctor_id: str, start: datetime) -> str:
    """Unique per (doctor, start) while a booking is active: the DB's double-booking guard."""
    return f"{doctor_id}|{as_utc(start).strftime('%Y-%m-%dT%H:%MZ')}"
