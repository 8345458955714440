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
    "doctor_new_booking", "schedule_changed", "whatsapp_verification", REOPEN_TEMPLATE,
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


# A booking, cancellation or move made in the chat is confirmed at once by the bot's own
# reply (which carries the booking code). The outbox entry for the same event is the
# guarantee: it waits CHAT_GRACE for that reply and is then recorded as sent by it, so the
# patient does not read the same confirmation twice; if no reply went out, it is sent.
CHAT_ANSWERED_KINDS = frozenset({"booking_confirmation", "booking_rescheduled",
                                 "booking_cancelled"})
CHAT_GRACE = timedelta(seconds=20)
# The patient counts as chatting when they wrote this shortly before the event.
ACTIVE_CHAT = timedelta(minutes=10)


def chat_grace_until(kind: str, created_at: datetime, last_inbound_at: datetime | None,
                     now: datetime, *, grace: timedelta = CHAT_GRACE) -> datetime | None:
    """Until when an entry waits for the chat reply that may stand in for it; None: send now
    (not a chat-answered kind, no chat in progress when it was made, or the grace is over)."""
    if kind not in CHAT_ANSWERED_KINDS or last_inbound_at is None:
        return None
    if last_inbound_at < created_at - ACTIVE_CHAT:
        return None
    until = created_at + grace
    return until if now < until else None
