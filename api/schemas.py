"""Request and response models of the REST API (pydantic 2).

Requests forbid unknown fields, and every field has a plain type, so a Mongo
operator object (`{"$ne": null}`) in place of a string is a 422, never a query.
The OpenAPI document is generated from these models.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.http.schemas import ErrorOut, In, Out
from booking.catalog import city_name, specialty_code
from booking.errors import InvalidPhoneNumber
from booking.models import BookingSource, BookingStatus, Role
from booking.phone import normalise_whatsapp

EMAIL_PATTERN = r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?" \
                r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
MAX_SLOT_RANGE_DAYS = 31

Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                                         pattern=EMAIL_PATTERN)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Text = Annotated[str, StringConstraints(max_length=500)]
Language = Literal["id", "en"]


def _whatsapp(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_whatsapp(value)
    except InvalidPhoneNumber as exc:
        raise ValueError(exc.message) from exc


def _specialty_code(value: str | None) -> str | None:
    """Code, name or synonym -> the canonical code (one table: booking.catalog)."""
    if value is None:
        return None
    code = specialty_code(value)
    if code is None:
        raise ValueError("unknown specialty")
    return code


def _city_name(value: str | None) -> str | None:
    if value is None:
        return None
    name = city_name(value)
    if name is None:
        raise ValueError("unknown city")
    return name


WhatsApp = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=32)]


# ---- errors -------------------------------------------------------------------------
class AlternativeOut(Out):
    doctor_id: str
    doctor_name: str
    start: datetime
    end: datetime


class SlotTakenOut(ErrorOut):
    alternatives: list[AlternativeOut]


# ---- auth ---------------------------------------------------------------------------
class RegisterIn(In):
    name: Name
    email: Email
    whatsapp: WhatsApp
    password: Password
    language: Language = "id"

    _wa = field_validator("whatsapp")(_whatsapp)


class LoginIn(In):
    email: Email
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class RefreshIn(In):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class AcceptedOut(Out):
    status: Literal["accepted"] = "accepted"
    message: str = ""


class PasswordChangeIn(In):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    new_password: Password


class VerifyStartIn(In):
    """Empty: the code goes to the number given at registration (or a new one here)."""

    whatsapp: WhatsApp | None = None

    _wa = field_validator("whatsapp")(_whatsapp)


class VerifyStartOut(Out):
    status: Literal["sent"] = "sent"
    expires_in: int
    to: str = Field(description="The number the code went to, masked but for 4 digits.")


class VerifyConfirmIn(In):
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]


class TokenOut(Out):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    role: Role
    user_id: str


class UserOut(Out):
    id: str
    name: str
    email: str | None
    whatsapp: str | None
    whatsapp_verified: bool
    role: Role
    doctor_id: str | None
    language: str
    created_at: datetime


# ---- doctors ------------------------------------------------------------------------
class PageQuery(In):
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=100)


class DoctorsQuery(PageQuery):
    specialty: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = Field(
        None, description="Specialty code, name or synonym (e.g. `pediatrics`, `dokter anak`).")
    city: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = Field(
        None, description="City name or alias (e.g. `Jakarta`, `jogja`).")
    q: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = Field(
        None, description="Part of the doctor's name.")
    available_on: Date | None = Field(None, description="Only doctors with a free slot that day.")
    include_inactive: bool = Field(False, description="Admins only: deactivated doctors too "
                                                      "(never cached).")

    _specialty = field_validator("specialty")(_specialty_code)
    _city = field_validator("city")(_city_name)


class DoctorOut(Out):
    id: str
    name: str
    specialty: str
    specialty_name: str
    city: str
    clinic: str
    address: str
    timezone: str
    fee: int
    languages: list[str]
    slot_minutes: int
    active: bool
    photo_url: str | None = Field(
        None, description="The doctor's photo, a path on this API (/photos/...); null = none.")


class DoctorsPage(Out):
    items: list[DoctorOut]
    total: int
    page: int
    page_size: int


class SlotsQuery(In):
    date: Date | None = Field(None, description="One local date of the clinic.")
    from_: Date | None = Field(None, alias="from", description="First local date (inclusive).")
    to: Date | None = Field(None, description="Last local date (inclusive).")

    @model_validator(mode="after")
    def _one_form(self) -> SlotsQuery:
        if self.date is not None:
            if self.from_ is not None or self.to is not None:
                raise ValueError("give either date or from/to")
            return self
        if self.from_ is None or self.to is None:
            raise ValueError("give date, or both from and to")
        if self.to < self.from_:
            raise ValueError("to is before from")
        if (self.to - self.from_).days >= MAX_SLOT_RANGE_DAYS:
            raise ValueError(f"at most {MAX_SLOT_RANGE_DAYS} days at once")
        return self


class SlotOut(Out):
    start: datetime
    end: datetime


class SlotsOut(Out):
    doctor_id: str
    timezone: str
    slots: list[SlotOut]


class TimeRangeIn(In):
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> TimeRangeIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class WeeklyRuleIn(TimeRangeIn):
    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")


class BreakIn(TimeRangeIn):
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=list, max_length=7, description="Empty: every day.")


class DateOverrideIn(In):
    date: Date
    ranges: list[TimeRangeIn] = Field(default_factory=list, max_length=10,
                                      description="Working hours that date; empty: a day off.")


class ScheduleFields(In):
    timezone: Literal["Asia/Jakarta", "Asia/Pontianak", "Asia/Makassar", "Asia/Jayapura"] = \
        "Asia/Jakarta"
    slot_minutes: int = Field(30, ge=5, le=240)
    buffer_minutes: int = Field(0, ge=0, le=120)
    min_notice_minutes: int = Field(60, ge=0, le=7 * 24 * 60)
    horizon_days: int = Field(30, ge=1, le=365)
    weekly: list[WeeklyRuleIn] = Field(default_factory=list, max_length=70)
    breaks: list[BreakIn] = Field(default_factory=list, max_length=50)
    overrides: list[DateOverrideIn] = Field(default_factory=list, max_length=400)
    days_off: list[Date] = Field(default_factory=list, max_length=400)


class ScheduleIn(ScheduleFields):
    """The whole weekly plan; replaces the current one."""


class ScheduleQuery(In):
    force: bool = Field(False, description="Apply even if it strands existing bookings "
                                           "(their patients are notified).")


class TimeRangeOut(Out):
    start: time
    end: time


class WeeklyRuleOut(TimeRangeOut):
    weekday: int


class BreakOut(TimeRangeOut):
    weekdays: list[int]


class DateOverrideOut(Out):
    date: Date
    ranges: list[TimeRangeOut]


class ScheduleOut(Out):
    doctor_id: str
    timezone: str
    slot_minutes: int
    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int
    weekly: list[WeeklyRuleOut]
    breaks: list[BreakOut]
    overrides: list[DateOverrideOut]
    days_off: list[Date]


class ScheduleSavedOut(Out):
    schedule: ScheduleOut
    affected_bookings: list[str]
    notified: int


def _default_languages() -> list[Language]:
    return ["id"]


class DoctorIn(ScheduleFields):
    name: Name
    specialty: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    city: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    clinic: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    address: Annotated[str, StringConstraints(max_length=300)] = ""
    fee: int = Field(0, ge=0, le=100_000_000)
    languages: list[Language] = Field(default_factory=_default_languages, max_length=2)
    whatsapp: WhatsApp | None = None
    email: Email | None = None
    user_id: Id | None = None
    active: bool = True

    _specialty = field_validator("specialty")(_specialty_code)
    _city = field_validator("city")(_city_name)
    _wa = field_validator("whatsapp")(_whatsapp)


class DoctorPatchIn(In):
    name: Name | None = None
    specialty: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    city: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    clinic: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    address: Annotated[str, StringConstraints(max_length=300)] | None = None
    fee: int | None = Field(None, ge=0, le=100_000_000)
    languages: list[Language] | None = Field(None, max_length=2)
    whatsapp: WhatsApp | None = None
    email: Email | None = None
    user_id: Id | None = None
    active: bool | None = None

    _specialty = field_validator("specialty")(_specialty_code)
    _city = field_validator("city")(_city_name)
    _wa = field_validator("whatsapp")(_whatsapp)


class AgendaQuery(In):
    date: Date


class AgendaItemOut(Out):
    id: str
    ref: str
    start: datetime
    end: datetime
    status: BookingStatus
    patient_id: str
    patient_name: str


class AgendaOut(Out):
    doctor_id: str
    date: Date
    items: list[AgendaItemOut]


class CalendarQuery(In):
    token: Annotated[str, StringConstraints(min_length=8, max_length=128)]


class CalendarTokenOut(Out):
    doctor_id: str
    token: str
    path: str


# ---- bookings -----------------------------------------------------------------------
class BookingIn(In):
    doctor_id: Id
    start: AwareDatetime = Field(description="Slot start with its UTC offset.")
    patient_id: Id | None = Field(None, description="Admins only: book for this patient.")
    source: Literal["web", "mobile"] = "web"


class CancelIn(In):
    reason: Text = ""


class RescheduleIn(In):
    start: AwareDatetime


class BookingOut(Out):
    id: str
    ref: str
    doctor_id: str
    patient_id: str
    start: datetime
    end: datetime
    status: BookingStatus
    source: BookingSource
    cancel_reason: str | None
    rescheduled_from: str | None
    rescheduled_to: str | None
    created_at: datetime


class HoldIn(In):
    doctor_id: Id
    start: AwareDatetime = Field(description="Slot start with its UTC offset.")


class HoldOut(Out):
    doctor_id: str
    start: datetime
    end: datetime
    expires_at: datetime


class BookingsQuery(PageQuery):
    status: BookingStatus | None = None
    doctor_id: Id | None = Field(None, description="Admins only.")
    patient_id: Id | None = Field(None, description="Admins only.")
    from_: Date | None = Field(None, alias="from", description="First UTC date (inclusive).")
    to: Date | None = Field(None, description="Last UTC date (inclusive).")


class BookingsPage(Out):
    items: list[BookingOut]
    total: int
    page: int
    page_size: int


# ---- catalogue ----------------------------------------------------------------------
class SpecialtyOut(Out):
    code: str
    name_id: str
    name_en: str
    synonyms: list[str]


class CityOut(Out):
    name: str
    timezone: str
    aliases: list[str]


class CatalogOut(Out):
    specialties: list[SpecialtyOut]
    cities: list[CityOut]


# ---- admin: users -------------------------------------------------------------------
class UserCreateIn(In):
    name: Name
    email: Email | None = None
    whatsapp: WhatsApp | None = None
    role: Role = Role.patient
    password: Password | None = None
    doctor_id: Id | None = None
    language: Language = "id"

    _wa = field_validator("whatsapp")(_whatsapp)

    @model_validator(mode="after")
    def _contact(self) -> UserCreateIn:
        if not self.email and not self.whatsapp:
            raise ValueError("give an email or a WhatsApp number")
        if self.password and not self.email:
            raise ValueError("a password needs an email to log in with")
        return self


class UserPatchIn(In):
    name: Name | None = None
    email: Email | None = None
    whatsapp: WhatsApp | None = None
    role: Role | None = None
    password: Password | None = None
    doctor_id: Id | None = None
    language: Language | None = None

    _wa = field_validator("whatsapp")(_whatsapp)


class UsersQuery(PageQuery):
    role: Role | None = None


class UsersPage(Out):
    items: list[UserOut]
    total: int
    page: int
    page_size: int


# ---- operations ---------------------------------------------------------------------
class HealthOut(Out):
    status: Literal["ok"]


class ComponentOut(Out):
    ok: bool
    required: bool
    detail: str


class ReadyOut(Out):
    status: Literal["ready", "not_ready"]
    components: dict[str, ComponentOut]


# ---- data subject rights (api/handlers_privacy.py) ------------------------------------
class DataExportOut(Out):
    """Everything held about one user (UU PDP right of access), decrypted."""

    exported_at: datetime
    profile: dict[str, Any]
    bookings: list[dict[str, Any]]
    chat_messages: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    whatsapp_contact: list[dict[str, Any]]


class ErasureQuery(In):
    confirm: Literal["true"] = Field(description="Must be true: erasure cannot be undone.")


class ExportLinkQuery(In):
    token: str = Field(min_length=16, max_length=4096,
                       description="The token of the download link sent by e-mail.")


class ErasureOut(Out):
    erased: bool
    cancelled_bookings: int = Field(description="Future bookings cancelled (doctor told).")
    counts: dict[str, int]


class AuditOut(Out):
    id: str
    action: str
    actor_id: str
    actor_role: str
    subject_id: str
    at: datetime
    detail: dict[str, int]
    channel: str = "api"  # where the request came from: api or whatsapp


class AuditPage(Out):
    items: list[AuditOut]
