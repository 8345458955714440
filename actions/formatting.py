"""Texts that actions fill into domain responses (pure): doctor lines, slot titles, money."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking.catalog import specialty_label
from booking.formatting import DAY_NAMES, MONTH_NAMES, ZONE_ABBR, local_when
from booking.models import Booking, Doctor

SHORT_DAYS = {"id": ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"],
              "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}
SHORT_MONTHS = {"id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt",
                       "Nov", "Des"],
                "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                       "Nov", "Dec"]}


def lang_of(language: str | None) -> str:
    return "en" if language == "en" else "id"


def rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


def zone_abbr(tz: str) -> str:
    return ZONE_ABBR.get(tz, tz)


def local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


def day_long(day: date, lang: str) -> str:
    lang = lang_of(lang)
    return f"{DAY_NAMES[lang][day.weekday()]}, {day.day} {MONTH_NAMES[lang][day.month - 1]} " \
           f"{day.year}"


def day_short(day: date, lang: str, today: date | None = None) -> str:
    """'Besok (Sel 8 Des)', 'Rab 9 Des'."""
    lang = lang_of(lang)
    base = f"{SHORT_DAYS[lang][day.weekday()]} {day.day} {SHORT_MONTHS[lang][day.month - 1]}"
    if today is not None:
        delta = (day - today).days
        words = {"id": {0: "Hari ini", 1: "Besok", 2: "Lusa"},
                 "en": {0: "Today", 1: "Tomorrow"}}[lang]
        if delta in words:
            return f"{words[delta]} ({base})"
    return base


def short_doctor(name: str) -> str:
    """'dr. Sondang Simanjuntak, Sp.PD' -> 'dr. Sondang S.' (button titles ≤ 20)."""
    base = " ".join(name.split(",")[0].split())
    parts = base.split()
    # abbreviate family names from the last one while the title is too long for a button
    for i in range(len(parts) - 1, 1, -1):
        if len(" ".join(parts)) <= 20:
            break
        parts[i] = parts[i][0] + "."
    return " ".join(parts)


def first_name(name: str) -> str:
    base = re.sub(r"^(dr\.?|drg\.?)\s+", "", name.split(",")[0].strip(), flags=re.I)
    return base.split()[0] if base else name


def slot_title(start: datetime, doctor: Doctor, lang: str, *, with_day: bool,
               with_doctor: bool) -> str:
    at = local(start, doctor.timezone)
    parts = []
    if with_day:
        lang = lang_of(lang)
        parts.append(f"{SHORT_DAYS[lang][at.weekday()]} {at.day}/{at.month}")
    parts.append(f"{at:%H:%M}")
    if with_doctor:
        parts.append(first_name(doctor.name))
    return " ".join(parts)


def doctor_line(index: int, doctor: Doctor, lang: str, next_free: datetime | None = None
                ) -> str:
    lang = lang_of(lang)
    line = (f"{index}. {doctor.name} ({specialty_label(doctor.specialty, lang)}), "
            f"{doctor.clinic}, {doctor.city}, {rupiah(doctor.fee)}")
    if next_free is not None:
        day, clock = local_when(next_free, doctor.timezone, lang)
        label = "terdekat" if lang == "id" else "next free"
        line += f"; {label}: {day}, {clock}"
    return line


def booking_line(index: int, booking: Booking, doctor: Doctor, lang: str) -> str:
    day, clock = local_when(booking.start, doctor.timezone, lang_of(lang))
    return f"{index}. {booking.ref}: {doctor.name}, {day}, {clock}, {doctor.clinic}"


def booking_title(booking: Booking, doctor: Doctor, lang: str) -> str:
    at = local(booking.start, doctor.timezone)
    lang = lang_of(lang)
    return f"{booking.ref} {at.day}/{at.month} {at:%H:%M}"
