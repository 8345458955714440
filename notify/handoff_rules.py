"""Pure rules of the human handoff: opening hours (when a person can answer), what the
patient is told, and how a conversation is shown to staff (number masked).

Opening hours are the ones the FAQ answer gives (domain.yml `utter_faq/opening_hours`):
Monday-Saturday 08:00-20:00, Sunday 08:00-12:00, clinic-local time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from booking.formatting import local_when, relative_day

DEFAULT_TIMEZONE = "Asia/Jakarta"
# weekday (0 = Monday) -> (opens, closes), clinic-local; the FAQ's hours.
OPENING_HOURS: dict[int, tuple[time, time]] = {
    **{d: (time(8), time(20)) for d in range(6)}, 6: (time(8), time(12))}
LAST_MESSAGES = 10  # messages kept with a handoff (what staff read first)
# While a person has the conversation these words still reach the bot (it keeps helping
# with bookings while the patient waits, e.g. outside opening hours).
BOT_WORDS = frozenset({"menu", "bot", "booking", "book"})


class Reason(StrEnum):
    requested = "requested"   # the patient asked for a person (intent human_handoff)
    fallback = "fallback"     # the bot did not understand twice in a row
    staff = "staff"           # staff took the chat (from our inbox or by writing in Wati)


class Resolution(StrEnum):
    staff = "staff"           # resolved in our staff inbox
    wati = "wati"             # marked solved in Wati's inbox
    timeout = "timeout"       # nobody resolved it within HANDOFF_TIMEOUT_HOURS


def next_opening(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> datetime | None:
    """None while the clinic is open, else when it next opens (aware, clinic zone)."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        opens, closes = OPENING_HOURS[day.weekday()]
        start = datetime.combine(day, opens, tzinfo=tz)
        end = datetime.combine(day, closes, tzinfo=tz)
        if offset == 0 and start <= local < end:
            return None
        if local < start:
            return start
    raise AssertionError("the clinic opens every week")  # pragma: no cover


_TEXTS = {
    "started": {
        "id": "Baik, percakapan ini saya teruskan ke staf klinik. Staf akan membalas di chat "
              "ini.",
        "en": "OK, I've passed this conversation to the clinic staff. They will reply in "
              "this chat."},
    "after_hours": {
        "id": "Saat ini di luar jam kerja klinik. Staf akan membalas {when}. Sambil menunggu, "
              "saya tetap bisa membantu booking: ketik \"menu\".",
        "en": "The clinic is closed right now. Staff will reply {when}. Meanwhile I can "
              "still help you book: type \"menu\"."},
    "timeout": {
        "id": "Mohon maaf, staf kami belum sempat membalas. Asisten otomatis kembali melayani "
              "Anda: ketik \"menu\" untuk booking, atau minta staf lagi kapan saja 🙏",
        "en": "Sorry, our staff could not reply in time. The assistant is back to help you: "
              "type \"menu\" to book, or ask for staff again any time 🙏"},
}


def say(key: str, lang: str, **params: str) -> str:
    texts = _TEXTS[key]
    return (texts.get(lang) or texts["id"]).format(**params)


def when_text(opening: datetime, now: datetime, timezone: str, lang: str) -> str:
    """'besok pukul 08:00 WIB' / 'tomorrow at 08:00 WIB' / 'Minggu, ... pukul 08:00 WIB'."""
    day, clock = local_when(opening, timezone, lang)
    rel = relative_day(opening, now, timezone)
    names = {("today", "id"): "hari ini", ("tomorrow", "id"): "besok",
             ("today", "en"): "today", ("tomorrow", "en"): "tomorrow"}
    shown = names.get((rel or "", lang if lang == "en" else "id"), day)
    return f"{shown} at {clock}" if lang == "en" else f"{shown} pukul {clock}"


def after_hours_note(now: datetime, lang: str, timezone: str = DEFAULT_TIMEZONE) -> str | None:
    """What to tell a patient handed off outside opening hours; None while open."""
    opening = next_opening(now, timezone)
    if opening is None:
        return None
    return say("after_hours", lang, when=when_text(opening, now, timezone, lang))


def mask_number(number: str | None) -> str:
    """Staff see the last 4 digits only."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    return "•" * max(0, len(digits) - 4) + digits[-4:]


def waiting_minutes(opened_at: datetime, now: datetime) -> int:
    return max(0, int((now - opened_at).total_seconds() // 60))
