"""Dates and times as patients read them, in the clinic's zone: the one formatter of the
WhatsApp replies, the notifications and the reminders (Indonesian first, English)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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
    lang = lang if lang in DAY_NAMES else "id"
    local = at.astimezone(ZoneInfo(timezone))
    day = f"{DAY_NAMES[lang][local.weekday()]}, {local.day} {MONTH_NAMES[lang][local.month - 1]} " \
          f"{local.year}"
    abbr = ZONE_ABBR.get(timezone, local.strftime("%Z"))
    return day, f"{local:%H:%M} {abbr}"


def relative_day(start: datetime, now: datetime, timezone: str) -> str | None:
    """'today' or 'tomorrow' in the clinic's zone, else None (the message then names the date)."""
    tz = ZoneInfo(timezone)
    days = (start.astimezone(tz).date() - now.astimezone(tz).date()).days
    return {0: "today", 1: "tomorrow"}.get(days)
