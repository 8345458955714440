"""The outbox: what is persisted before anything is sent (invariant 3), its statuses, the
kinds of notification, and the retry policy.

The dedupe_key (unique in the store) makes one event send at most once."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from booking.models import Model, new_id
from booking.store_outbox import OutboxStatus


class Kind(StrEnum):
    booking_confirmation = "booking_confirmation"
    booking_cancelled = "booking_cancelled"
    booking_rescheduled = "booking_rescheduled"
    doctor_new_booking = "doctor_new_booking"
    doctor_booking_cancelled = "doctor_booking_cancelled"      # the doctor hears of every
    doctor_booking_rescheduled = "doctor_booking_rescheduled"  # change, patient's or staff's
    doctor_no_show = "doctor_no_show"
    appointment_reminder = "appointment_reminder"
    schedule_changed = "schedule_changed"
    doctor_daily_agenda = "doctor_daily_agenda"
    manual = "manual"
    whatsapp_verification = "whatsapp_verification"  # a code proving the number is theirs
    account_exists = "account_exists"  # someone tried to register with a known address
    waitlist_offer = "waitlist_offer"  # an earlier slot freed up for a waiting patient
    handoff_reply = "handoff_reply"  # staff's reply from the staff inbox
    handoff_note = "handoff_note"    # the handoff ended without staff (timeout)
    data_export = "data_export"      # the download link of "data saya" (e-mail only)


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


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5          # WhatsApp attempts before the email fallback
    base_s: float = 30.0           # first retry after ~30 s, then 60, 120, ... (jittered)
    max_s: float = 3600.0
    claim_s: float = 120.0         # a crashed dispatcher's claim is taken over after this

    def backoff(self, attempts: int, retry_after: float | None = None) -> timedelta:
        delay = min(self.max_s, self.base_s * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.8, 1.2)  # noqa: S311 (jitter)
        return timedelta(seconds=max(delay, retry_after or 0.0))
