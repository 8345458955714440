"""Finding doctors and free times for the dialogue (thin: all rules live in booking/)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from actions.base import Message
from actions.choices import Choice, day_value, doctor_value, slot_value
from actions.formatting import day_short, first_name, short_doctor, slot_title
from booking.catalog import city_name, specialty_code, specialty_label
from booking.dates import When, parse_when
from booking.fuzzy import find_city, find_specialty
from booking.models import Doctor
from booking.service import BookingService
from booking.slots import Interval

MAX_DOCTORS = 10
MAX_DAYS = 5
MAX_SLOTS = 10
EARLIEST_WORDS = re.compile(r"paling (cepat|cepet|awal|pagi)|secepatnya|terdekat|earliest|"
                            r"asap|as soon as|soonest|kapan aja|kapan saja|bebas", re.I)


def doctor_query(name: str) -> str:
    """'dr. Sari W.' -> 'Sari': the distinctive part to search names with."""
    base = re.sub(r"^(dr|drg|dok|dokter|doctor|doc)\.?\s+", "", name.strip(), flags=re.I)
    base = base.split(",")[0]
    words = [w for w in re.findall(r"[^\W\d_]+", base) if len(w) > 1]
    return words[0] if words else ""


def said_specialty(msg: Message) -> str | None:
    """The specialty the message names: its entities first (the first that resolves),
    then the typed text against the catalogue (typos, shorthand)."""
    for value in msg.values("specialty"):
        found = specialty_code(value) or find_specialty(value)
        if found:
            return found
    return find_specialty(msg.typed) if msg.typed else None


def said_city(msg: Message) -> str | None:
    """The city the message names, as said_specialty."""
    for value in msg.values("city"):
        found = city_name(value) or find_city(value)
        if found:
            return found
    return find_city(msg.typed) if msg.typed else None


async def said_doctor(service: BookingService, msg: Message) -> str | None:
    """One of our doctors' names in the message: a doctor_name entity value (DIET may split
    "dr" from "Budi Santoso"), else a title followed by a name in the text."""
    for value in msg.values("doctor_name"):
        found = await real_name(service, value)
        if found:
            return found
    return await name_in_text(service, msg.typed) if msg.typed else None


async def real_name(service: BookingService, name: str | None) -> str | None:
    """The doctor name the NLU read, when it names one of our doctors; else None ("Dec",
    "dr tht" and "kamis" are not names)."""
    if not name:
        return None
    query = doctor_query(name)
    if len(query) < 3 or specialty_code(query) or city_name(query) or \
            not parse_when(name, service.clock()).empty:
        return None
    return name if await find_doctors(service, name=name) else None


_TITLED = re.compile(r"\b(drg|dr|dokter|dok|doctor|doc)\.?\s+([^\W\d_]{3,}(?:\s+[^\W\d_]{3,})?)",
                    re.I)


async def name_in_text(service: BookingService, text: str) -> str | None:
    """A doctor's name in a message the NLU found none in ("mau booking dr. Budi Santoso
    besok"): a title followed by one of our doctors' names."""
    for m in _TITLED.finditer(text or ""):
        found = await real_name(service, m.group(0))
        if found:
            return found
    return None


async def find_doctors(service: BookingService, *, specialty: str | None = None,
                       city: str | None = None, name: str | None = None) -> list[Doctor]:
    spec = specialty_code(specialty) if specialty else None
    town = city_name(city) if city else None
    query = doctor_query(name) if name else None
    doctors, _ = await service.store.doctors.find(specialty=spec, city=town, q=query or None)
    if name and query and len(doctors) > 1:  # "dr. Sari Wulandari": narrow with the rest
        full = [d for d in doctors if name.lower().replace("dr.", "").strip() in d.name.lower()]
        doctors = full or doctors
    return list(doctors)


def search_label(lang: str, specialty: str | None, city: str | None,
                 name: str | None = None) -> str:
    """What the patient searched for, as `utter_no_doctor` names it: "dr. Sari, Dokter Gigi,
    Bandung" (only the parts given)."""
    parts = (name, specialty_label(specialty, lang) if specialty else None, city)
    return ", ".join(x for x in parts if x)


def encode_pref(when: When) -> str | None:
    """The time part of a When as a slot value: 'HH:MM' or 'HH:MM-HH:MM'."""
    if when.window is not None:
        return f"{when.window[0]:%H:%M}-{when.window[1]:%H:%M}"
    if when.at is not None:
        return f"{when.at:%H:%M}"
    return None


def decode_pref(pref: str | None) -> When:
    if not pref:
        return When()
    parts = [time.fromisoformat(p) for p in pref.split("-")]
    if len(parts) == 2:
        return When(window=(parts[0], parts[1]))
    return When(at=parts[0])


@dataclass(frozen=True, slots=True)
class DayPref:
    """The day the patient asked for before a doctor was chosen (the `date_pref` slot)."""

    day: date
    span: int = 1
    tried: bool = False  # already tried with this doctor: offer days from it, do not pick


def encode_day(day: date, span: int = 1, *, tried: bool = False) -> str:
    return f"from:{day.isoformat()}" if tried else f"{day.isoformat()}+{max(span, 1)}"


def decode_day(value: str | None) -> DayPref | None:
    if not value:
        return None
    try:
        if value.startswith("from:"):
            return DayPref(date.fromisoformat(value[5:]), 1, tried=True)
        day, _, span = value.partition("+")
        return DayPref(date.fromisoformat(day), int(span or 1))
    except ValueError:
        return None


def local_today(service: BookingService, doctor: Doctor) -> date:
    return service.clock().astimezone(doctor.tz).date()


async def free_days(service: BookingService, doctor: Doctor, patient_id: str | None,
                    *, limit: int = MAX_DAYS, from_day: date | None = None) -> list[date]:
    """The next days (from `from_day` on, when given) on which the doctor has a free slot."""
    after = datetime.combine(from_day, time(0), tzinfo=doctor.tz).astimezone(UTC) \
        if from_day else None
    slots = await service.earliest([doctor], after=after, limit=200, patient_id=patient_id)
    days: list[date] = []
    for _, slot in slots:
        day = slot.start.astimezone(doctor.tz).date()
        if day not in days:
            days.append(day)
        if len(days) >= limit:
            break
    return days


def day_choices(days: list[date], doctor: Doctor, lang: str, today: date) -> list[Choice]:
    return [Choice(title=day_short(d, lang, today), value=day_value(d.isoformat())) for d in days]


async def slots_on(service: BookingService, doctor: Doctor, day: date, patient_id: str | None,
                   pref: When | None = None) -> list[Interval]:
    """Free slots on a local day, narrowed to the patient's window when that leaves any."""
    slots = await service.day_slots(doctor, day, patient_id=patient_id)
    if pref is not None and pref.window is not None:
        narrowed = [s for s in slots if pref.accepts(s.start.astimezone(doctor.tz))]
        return narrowed or slots
    if pref is not None and pref.at is not None:  # "jam 2" taken: the times around it
        wanted = datetime.combine(day, pref.at, tzinfo=doctor.tz)
        near = [s for s in slots if abs(s.start - wanted) <= timedelta(hours=2)]
        return near or slots
    return slots


def slot_choices(slots: list[Interval], doctor: Doctor, lang: str) -> list[Choice]:
    return [Choice(title=slot_title(s.start, doctor, lang, with_day=False, with_doctor=False),
                   value=slot_value(doctor.id, s.start)) for s in slots[:MAX_SLOTS]]


def alternative_choices(alts: list[tuple[Doctor, Interval]], lang: str) -> list[Choice]:
    """Slots across days (and maybe doctors): titles carry the day, and the doctor if mixed."""
    mixed = len({d.id for d, _ in alts}) > 1
    return [Choice(title=slot_title(s.start, d, lang, with_day=True, with_doctor=mixed),
                   value=slot_value(d.id, s.start)) for d, s in alts[:MAX_SLOTS]]


def doctor_choices(doctors: list[Doctor]) -> list[Choice]:
    return [Choice(title=short_doctor(d.name), value=doctor_value(d.id))
            for d in doctors[:MAX_DOCTORS]]


def matching_slot(slots: list[Interval], doctor: Doctor, when: When) -> Interval | None:
    """The free slot at exactly the time the patient named (e.g. 'yang jam 10')."""
    if when.at is None:
        return None
    for slot in slots:
        local = slot.start.astimezone(doctor.tz)
        if local.time().replace(tzinfo=None) == when.at:
            return slot
    return None


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    return start, start + timedelta(days=1)


def names_of(doctors: list[Doctor]) -> str:
    return ", ".join(first_name(d.name) for d in doctors)
