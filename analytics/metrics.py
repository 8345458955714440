"""Every metric defined once: its name, a one-line description and how it is computed.

The API returns the title and description next to each value and the dashboard
shows them under each chart, so staff and analysts read the same definition.
Populations used below:
- new bookings: bookings *created* in the range (clinic time zone), not counting the
  replacement a reschedule creates (that is the same appointment moving, not new demand);
- appointments: bookings whose *start* is in the range, except those in status
  `rescheduled` (superseded by their replacement, which counts instead).
Percentiles and medians use the nearest-rank method (value at rank ceil(p * n)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# Which filters a metric honours: "bookings" metrics follow the city/specialty/doctor
# filters; "clinic" metrics (chat, reminders) are network-wide.
SCOPE_BOOKINGS = "bookings"
SCOPE_CLINIC = "clinic"


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    title: str
    description: str   # one line, shown by the API and the dashboard
    computation: str   # how it is computed (for analysts and the code reviewer)
    unit: str
    scope: str


METRICS: tuple[Metric, ...] = (
    Metric("bookings_per_day", "Bookings per day",
           "New bookings per day, by source (WhatsApp, web, mobile, admin).",
           "bookings with created_at in range and no rescheduled_from, grouped by local "
           "date of created_at and source", "bookings", SCOPE_BOOKINGS),
    Metric("bookings_per_week", "Bookings per week",
           "New bookings per ISO week (Monday start), by source.",
           "the daily series summed per ISO week of the local date", "bookings", SCOPE_BOOKINGS),
    Metric("cancellation_rate", "Cancellation rate",
           "Share of appointments in the range that were cancelled, overall, per doctor "
           "and per specialty.",
           "cancelled / appointments (start in range, status != rescheduled)", "ratio",
           SCOPE_BOOKINGS),
    Metric("reschedule_rate", "Reschedule rate",
           "Share of appointments in the range that were moved at least once.",
           "appointments with rescheduled_from set / appointments", "ratio", SCOPE_BOOKINGS),
    Metric("no_show_rate", "No-show rate",
           "Share of past appointments where the patient did not come.",
           "no_show / (completed + no_show), appointments in range", "ratio", SCOPE_BOOKINGS),
    Metric("median_lead_time", "Median lead time",
           "Median time from booking to appointment, in hours.",
           "nearest-rank median of (start - created_at) over new bookings in range", "hours",
           SCOPE_BOOKINGS),
    Metric("busiest_weekdays", "Busiest weekdays",
           "Appointments (not cancelled) by weekday of the visit, clinic time.",
           "appointments with status confirmed/completed/no_show, by local weekday of start",
           "appointments", SCOPE_BOOKINGS),
    Metric("busiest_hours", "Busiest hours",
           "Appointments (not cancelled) by hour of the visit, clinic time.",
           "appointments with status confirmed/completed/no_show, by local hour of start",
           "appointments", SCOPE_BOOKINGS),
    Metric("messages_per_day", "WhatsApp messages per day",
           "WhatsApp messages received from patients and sent by the bot, per day.",
           "chat_logs with at in range, by local date of at and direction", "messages",
           SCOPE_CLINIC),
    Metric("bot_response_time", "Bot response time",
           "Time from receiving a patient's message to Wati accepting the reply (p50, p95).",
           "nearest-rank p50/p95 of latency_ms (whole ms) over outbound chat_logs in range",
           "ms",
           SCOPE_CLINIC),
    Metric("nlu_fallback_rate", "NLU fallback rate",
           "Share of patient messages the assistant did not understand.",
           "inbound chat_logs with fallback=true or intent nlu_fallback / inbound chat_logs",
           "ratio", SCOPE_CLINIC),
    Metric("top_intents", "Top intents",
           "What patients ask for most: the ten most frequent intents of their messages.",
           "inbound chat_logs in range grouped by intent; share = count / inbound with an "
           "intent", "messages", SCOPE_CLINIC),
    Metric("conversion", "Chat to booking conversion",
           "Share of patients who chatted in the range and booked in the range.",
           "distinct inbound wa_id (chatted); of those, users (users.whatsapp = wa_id) with a "
           "new booking in range (booked); booked / chatted", "ratio", SCOPE_BOOKINGS),
    Metric("reminder_outcomes", "Reminder outcomes",
           "Appointment reminders by their current delivery status.",
           "outbox entries of kind appointment_reminder created in range, by status "
           "(sending counts as pending); filtered by the doctor_id the entry carries",
           "reminders", SCOPE_BOOKINGS),
    Metric("waitlist", "Waitlist",
           "Patients waiting for an earlier slot; freed slots offered, taken, minutes saved.",
           "waitlist entries active now (waiting); waitlist_offers created in range (offers), "
           "of those taken, and the sum of their minutes_saved (the patient's later booking "
           "minus the slot taken; 0 for a new booking)", "offers", SCOPE_BOOKINGS),
    Metric("per_doctor", "Per doctor",
           "Appointments, cancellations, reschedules and no-shows per doctor.",
           "the appointment rates above grouped by doctor_id", "appointments", SCOPE_BOOKINGS),
)
METRIC_BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}

SOURCES = ("whatsapp", "web", "mobile", "admin")
REMINDER_STATUSES = ("pending", "sent", "delivered", "read", "failed", "emailed", "dead",
                     "skipped")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP_INTENTS = 10


def definitions() -> dict[str, dict[str, str]]:
    return {m.name: {"title": m.title, "description": m.description,
                     "computation": m.computation, "unit": m.unit, "scope": m.scope}
            for m in METRICS}


def rate(part: int, whole: int) -> float | None:
    """A ratio rounded to 4 places; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def nearest_rank(n: int, p: float) -> int:
    """0-based index of the p-th percentile (0 < p <= 1) in n sorted values."""
    if n <= 0:
        raise ValueError("no values")
    return max(1, math.ceil(p * n)) - 1


def wrap(name: str, value: Any) -> dict[str, Any]:
    """The API shape of one metric: its definition next to its value."""
    m = METRIC_BY_NAME[name]
    return {"title": m.title, "description": m.description, "unit": m.unit, "scope": m.scope,
            "value": value}
