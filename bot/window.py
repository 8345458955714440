"""The WhatsApp 24-hour rule, in one place (pure).

Free-form messages (text, buttons, lists) only within 24 hours of the patient's
last message; outside it, an approved template. Every sender in bot/ asks `choose`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

WINDOW = timedelta(hours=24)
# Close the window a little early: a message accepted at 23:59:59 may reach WhatsApp after
# the window closed and fail; a template just before the end costs nothing.
SAFETY_MARGIN = timedelta(minutes=2)
# The generic template that reopens a conversation when a free-form message is due outside
# the window (e.g. a manual message from staff).
REOPEN_TEMPLATE = "reopen_conversation"
# Approved templates (WhatsApp Manager / Wati dashboard); English variants end in "_en".
APPROVED_TEMPLATES = frozenset({
    "booking_confirmation", "appointment_reminder", "booking_cancelled", "booking_rescheduled",
    "doctor_new_booking", "schedule_changed", REOPEN_TEMPLATE,
})


class Mode(StrEnum):
    session = "session"      # free-form text / interactive
    template = "template"    # approved template with parameters


@dataclass(frozen=True, slots=True)
class Decision:
    mode: Mode
    template: str | None = None  # the template name when mode is template


def in_window(last_inbound_at: datetime | None, now: datetime, *,
              margin: timedelta = SAFETY_MARGIN) -> bool:
    if last_inbound_at is None:
        return False
    return now - last_inbound_at < WINDOW - margin


def template_name(base: str | None, language: str) -> str:
    name = base if base in APPROVED_TEMPLATES else REOPEN_TEMPLATE
    return f"{name}_en" if language == "en" else name


def choose(last_inbound_at: datetime | None, now: datetime, *, template: str | None,
           language: str = "id") -> Decision:
    """Session inside the window, else the entry's approved template (or the reopen one)."""
    if in_window(last_inbound_at, now):
        return Decision(Mode.session)
    return Decision(Mode.template, template_name(template, language))
