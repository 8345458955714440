"""The notices the booking core decides on, and the port through which they become outbox
entries. The core records which notices a change needs in the same write as the change
(`Booking.outbox_pending`); turning a notice into messages (who, which channel, what text)
is notify/'s job, handed to the service as a `Notices` (notify.rules.BookingNotices)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from booking.models import Booking, Doctor, User


class Notice(StrEnum):
    booking_confirmation = "booking_confirmation"
    booking_cancelled = "booking_cancelled"
    booking_rescheduled = "booking_rescheduled"
    doctor_new_booking = "doctor_new_booking"
    doctor_booking_cancelled = "doctor_booking_cancelled"
    doctor_booking_rescheduled = "doctor_booking_rescheduled"
    doctor_no_show = "doctor_no_show"
    schedule_changed = "schedule_changed"


class Notices(Protocol):
    def entries(self, notice: Notice, booking: Booking, doctor: Doctor, patient: User,
                doctor_user: User | None = None, *, occasion: str | None = None
                ) -> list[dict[str, Any]]:
        """Outbox documents for one notice; `occasion` separates repeated notices of one
        booking (each schedule change is told once)."""
        ...
