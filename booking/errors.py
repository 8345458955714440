"""One tree of typed booking errors.

Driver errors are mapped to these at the store/lock boundary.
"""

from __future__ import annotations

from typing import Any


class BookingError(Exception):
    """Base of every domain error; `code` is the stable machine-readable name."""

    code = "booking_error"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details


class NotFound(BookingError):
    """The requested object does not exist."""

    code = "not_found"


class InvalidInput(BookingError):
    """The input is malformed or out of range."""

    code = "invalid_input"


class InvalidPhoneNumber(InvalidInput):
    """The WhatsApp number is not a valid phone number."""

    code = "invalid_phone"


class SlotUnavailable(BookingError):
    """The time is not a bookable slot of this doctor (outside hours, past, beyond the horizon)."""

    code = "slot_unavailable"


class PatientOverlap(BookingError):
    """The patient already has an active booking overlapping this time."""

    code = "patient_overlap"


class TooManyBookings(BookingError):
    """The patient already holds as many upcoming bookings as one patient may."""

    code = "too_many_bookings"


class CutoffPassed(BookingError):
    """Too close to the appointment to cancel or reschedule it online."""

    code = "cutoff_passed"


class InvalidTransition(BookingError):
    """The booking's status does not allow this change."""

    code = "invalid_transition"


class Forbidden(BookingError):
    """The actor may not do this to this object."""

    code = "forbidden"


class Conflict(BookingError):
    """The change conflicts with existing data (e.g. a duplicate email, stranded bookings)."""

    code = "conflict"


class ScheduleConflict(Conflict):
    """A new schedule would strand existing bookings (details: which)."""

    code = "schedule_conflict"


class StoreUnavailable(BookingError):
    """The database could not be reached."""

    code = "store_unavailable"
