"""Deterministic Indonesian/English date and time parser for chat messages (pure).

`parse_when(text, now, tz)` reads expressions patients type ("besok sore", "lusa jam 9",
"senin depan", "tanggal 12", "12/4", "jam 3 sore", "15.30", "10-an", "tomorrow
afternoon", "next Monday 9am") and resolves them in the clinic's time zone `tz`
relative to `now`. It never guesses from unrelated numbers: a bare "2" is not a time.

Conventions (documented because chat language is ambiguous):
- "<weekday>" and "<weekday> ini" = the nearest such day, today included;
  "<weekday> depan" / "next <weekday>" = that day in the next calendar week (Mon-Sun).
- "minggu" is Sunday, except "minggu depan/ini/lalu" (next/this/last week, without
  "hari" before it) and "N minggu lagi" / "seminggu lagi" (weeks).
- "jam H" without pagi/siang/sore/malam: H from 1 to 6 is afternoon (clinic hours).
- pagi 05-11, siang 11-15, sore 15-18, malam 18-24; English morning/afternoon/evening/night.
- "jam 10-an" = around 10 (a window 09:30-11:00); "setengah 10" = 09:30; "9 pagi", "2 siang".
- "akhir pekan"/"weekend" = Saturday-Sunday; "pekan depan" = "minggu depan"; "bulan depan" =
  next month; "nanti sore", "sore ini", "tonight" = today; "besok lusa" = the day after tomorrow.
- "after 3pm"/"setelah jam 3" and "sebelum jam 11" are windows open on one side.
- Greetings ("selamat pagi", "good morning") say nothing about the time wanted.
- dateparser is only the fallback for absolute dates the rules do not cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS: dict[str, int] = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6,
    "ahad": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6, "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3,
    "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6,
}
MONTHS: dict[str, int] = {
    "januari": 1, "jan": 1, "january": 1, "februari": 2, "feb": 2, "pebruari": 2,
    "february": 2, "maret": 3, "mar": 3, "march": 3, "april": 4, "apr": 4, "mei": 5,
    "may": 5, "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7, "agustus": 8,
    "agu": 8, "agt": 8, "ags": 8, "aug": 8, "august": 8, "september": 9, "sep": 9,
    "sept": 9, "oktober": 10, "okt": 10, "oct": 10, "october": 10, "november": 11,
    "nov": 11, "nopember": 11, "desember": 12, "des": 12, "dec": 12, "december": 12,
}
# Parts of the day as [start, end) windows; 23:59 closes the evening.
PARTS: dict[str, tuple[time, time]] = {
    "pagi": (time(5), time(11)), "siang": (time(11), time(15)),
    "sore": (time(15), time(18)), "malam": (time(18), time(23, 59)),
    "morning": (time(5), time(12)), "afternoon": (time(12), time(17)),
    "evening": (time(17), time(21)), "night": (time(18), time(23, 59)),
}
_AM_PARTS = {"pagi", "morning"}
_PM_PARTS = {"siang", "sore", "malam", "afternoon", "evening", "night"}

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_PART_RE = "|".join(PARTS)
# Forms of address that follow a greeting ("pagi dok", "siang kak", "malam min")
_ADDRESS = (r"dok|dokter|dr|kak|ka|kakak|min|mimin|admin|sus|suster|pak|bu|bapak|ibu|gan|sis|"
            r"bro|mas|mbak|mba|semua|all|everyone|team|tim|doc")


@dataclass(frozen=True, slots=True)
class When:
    """What a message says about when: a day (or span of days), a clock time or a window."""

    day: date | None = None
    span_days: int = 1                       # 7 for "minggu depan" (a whole week)
    at: time | None = None                   # an exact clock time
    window: tuple[time, time] | None = None  # part of the day, or "around H" for "H-an"

    @property
    def empty(self) -> bool:
        return self.day is None and self.at is None and self.window is None

    @property
    def has_time(self) -> bool:
        return self.at is not None or self.window is not None

    def start_at(self, tz: ZoneInfo | str) -> datetime | None:
        """The exact instant (day + clock time) in `tz`, when both are known."""
        if self.day is None or self.at is None:
            return None
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return datetime.combine(self.day, self.at, tzinfo=zone)

    def accepts(self, local_start: datetime) -> bool:
        """Does a slot starting at this local time fit what the patient said?"""
        if self.day is not None and not (
                self.day <= local_start.date() < self.day + timedelta(days=self.span_days)):
            return False
        clock = local_start.time().replace(tzinfo=None)
        if self.window is not None and not self.window[0] <= clock < self.window[1]:
            return False
        if self.at is not None and self.window is None:
            return clock == self.at
        return True


# A booking code ("AF7-9XQ", "k7m4qx") next to a date: its digits are not a date ("7-9")
_REF_LIKE = re.compile(r"\b(?=[a-z0-9-]*[a-z])(?=[a-z0-9-]*\d)[a-z0-9]{3}-?[a-z0-9]{3}\b")


def _normalise(text: str) -> str:
    text = _REF_LIKE.sub(" ", text.lower().replace("’", "'"))
    text = re.sub(r"jum'?at|jumaat|jum at", "jumat", text)
    text = re.sub(r"\b(tgl|tggl|tang)\b\.?", "tanggal", text)
    text = re.sub(r"\bbsk\b|\bbesuk\b|\bbesok2\b", "besok", text)
    text = re.sub(r"\bmgg\b|\bmg\b", "minggu", text)
    text = re.sub(r"\bdpn\b|\bdepn\b", "depan", text)
    text = re.sub(r"\bpkl\b\.?", "pukul", text)
    text = re.sub(r"\btmrw\b|\btmr\b|\btomorow\b|\btommorow\b|\btommorrow\b", "tomorrow", text)
    text = re.sub(r"\bsiang2\b", "siang", text)
    text = re.sub(r"\b(ntar|nnti|entar)\b", "nanti", text)
    text = re.sub(r"\btonight\b", "nanti malam", text)
    text = re.sub(r"\bpekan\s+(depan|ini|lalu)\b", r"minggu \1", text)
    text = re.sub(r"\b(mlm|malem)\b", "malam", text)
    text = re.sub(r"\bsre\b", "sore", text)
    text = re.sub(r"\b(pgi|pg)\b", "pagi", text)
    text = re.sub(r"\b(jm)\b", "jam", text)
    text = re.sub(r"\bsetgh\b|\bstgh\b|\bsetenga\b", "setengah", text)
    text = re.sub(r"\b(in the )?arvo\b", "afternoon", text)
    text = re.sub(r"\bweek-end\b|\bweek end\b", "weekend", text)
    # greetings name a part of the day without asking for it
    text = re.sub(r"\b(selamat|slmt|met|good)\s+(pagi|siang|sore|malam|morning|afternoon|"
                  r"evening|night)\b", " ", text)
    # ... and so does one that opens the message before a comma or a form of address
    # ("pagi dok, ...", "sore kak, besok bisa?", "morning! ..."); "besok pagi dok" keeps it
    text = re.sub(r"^\W*((?:halo|hallo|hai|hi|hello|hey)\s+)?(pagi|siang|sore|malam|morning|"
                  r"afternoon|evening)\b(?=\s*[,.!]+\s*\w|\s+(" + _ADDRESS + r")\b\W*\w)",
                  " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _local_today(now: datetime, zone: ZoneInfo) -> date:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(zone).date()


def _next_weekday(today: date, weekday: int, *, next_week: bool) -> date:
    if next_week:
        monday_next = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday_next + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _future_date(today: date, day: int, month: int | None, year: int | None) -> date | None:
    """Day (and month) without a year: the next such date from today on."""
    try:
        if year is not None:
            return date(year if year > 100 else 2000 + year, month or today.month, day)
        if month is None:
            for offset in range(0, 3):
                m = (today.month - 1 + offset) % 12 + 1
                y = today.year + (today.month - 1 + offset) // 12
                try:
                    candidate = date(y, m, day)
                except ValueError:
                    continue
                if candidate >= today:
                    return candidate
            return None
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


_Day = tuple[date | None, int, tuple[int, int] | None]


def _parse_day(text: str, today: date) -> _Day:
    """(day, span_days, where the day expression is in text) from the relative or absolute
    day expression in text."""
    found = _relative_day(text, today)
    return found if found[0] is not None else _calendar_day(text, today)


def _weekend(m: re.Match[str], today: date) -> _Day:
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)
    if today.weekday() == 6:  # Sunday: this weekend is today
        saturday = today - timedelta(days=1)
    if m.group(1) == "next" or m.group(2) == "depan":
        saturday = (today - timedelta(days=today.weekday())) + timedelta(days=12)
    first = max(saturday, today)
    return first, (saturday + timedelta(days=2) - first).days, m.span()


def _relative_day(text: str, today: date) -> _Day:
    """Days counted from today: "besok", "3 hari lagi", "minggu depan", "akhir pekan"."""
    m = re.search(r"\b(\d{1,2}|se)\s*minggu\s+lagi\b|\bin (\d{1,2}) weeks?\b", text)
    if m:
        n = 1 if m.group(1) == "se" else int(m.group(1) or m.group(2))
        return today + timedelta(days=7 * n), 1, m.span()
    m = re.search(r"\b(?:dalam\s+)?(\d{1,2})\s*hari\s*(?:lagi|kedepan|ke depan)?\b|"
                  r"\bin (\d{1,2}) days?\b", text)
    if m and (m.group(2) or "lagi" in m.group(0) or "dalam" in m.group(0)
              or "depan" in m.group(0)):
        return today + timedelta(days=int(m.group(1) or m.group(2))), 1, m.span()
    m = re.search(r"\b(hari ini|today|tonight|skrg|sekarang|now|nanti|this (?:morning|"
                  r"afternoon|evening)|(?:pagi|siang|sore|malam) ini)\b", text)
    if m:
        return today, 1, m.span()
    m = re.search(r"\b(besok lusa|lusa|day after tomorrow)\b", text)
    if m:
        return today + timedelta(days=2), 1, m.span()
    m = re.search(r"\b(besok|tomorrow)\b", text)
    if m:
        return today + timedelta(days=1), 1, m.span()
    # the weekend: Saturday and Sunday ("akhir pekan", "weekend", "next weekend")
    m = re.search(r"\b(?:(next|this)\s+)?(?:akhir\s+(?:pekan|minggu)|weekend|wiken|"
                  r"wikend)(?:\s+(depan|ini))?\b", text)
    if m:
        return _weekend(m, today)
    # "minggu depan/ini" is a week unless it is "hari minggu ..."
    m = re.search(r"(\bhari\s+)?\bminggu\s+(depan|ini|lalu)\b|\b(next|this) week\b", text)
    if m and not m.group(1):
        which = m.group(2) or ("depan" if m.group(3) == "next" else "ini")
        monday = today - timedelta(days=today.weekday())
        if which == "depan":
            return monday + timedelta(days=7), 7, m.span()
        if which == "ini":
            return today, 7 - today.weekday(), m.span()
    m = re.search(r"\bbulan\s+depan\b|\bnext month\b", text)
    if m:
        first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, (following - first).days, m.span()
    return None, 1, None


def _calendar_day(text: str, today: date) -> _Day:
    """A weekday or a calendar date: "kamis depan", "14/1", "14 Jan", "tgl 14", "the 14th"."""
    m = re.search(rf"\b(next|this)?\s*\b({_WEEKDAY_RE})\b\.?\s*(depan|ini)?", text)
    if m:
        next_week = m.group(1) == "next" or m.group(3) == "depan"
        return _next_weekday(today, WEEKDAYS[m.group(2)], next_week=next_week), 1, m.span()
    m = re.search(r"(?<![\w/.:-])(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2,4}))?(?![\w/.:-])", text)
    if m:
        year = int(m.group(3)) if m.group(3) else None
        return _future_date(today, int(m.group(1)), int(m.group(2)), year), 1, m.span()
    m = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b\.?"
                  rf"(?:\s+(\d{{4}}))?", text)
    if m:
        year = int(m.group(3)) if m.group(3) else None
        return _future_date(today, int(m.group(1)), MONTHS[m.group(2)], year), 1, m.span()
    m = re.search(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?",
                  text)
    if m:
        year = int(m.group(3)) if m.group(3) else None
        return _future_date(today, int(m.group(2)), MONTHS[m.group(1)], year), 1, m.span()
    # "hari 18" is the 18th ("3 hari lagi" and "hari ke-3" are not)
    m = re.search(r"\b(?:tanggal|tg)\s*(\d{1,2})\b|\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b|"
                  r"\bthe\s+(\d{1,2})\b(?!\s*(?:am|pm|[.:]\d|o'?clock|hours?|minutes?))|"
                  r"\bhari\s+(\d{1,2})\b(?!\s*(?:hari|lagi|[.:]\d))", text)
    if m:
        day_of_month = int(m.group(1) or m.group(2) or m.group(3) or m.group(4))
        return _future_date(today, day_of_month, None, None), 1, m.span()
    return None, 1, None


def _apply_part(hour: int, part: str | None) -> int:
    if part in _PM_PARTS:
        if part in ("siang", "afternoon") and hour >= 11:
            return hour % 24
        if part in ("malam", "night") and hour == 12:
            return 0
        return hour + 12 if hour < 12 else hour
    if part in _AM_PARTS:
        return 0 if hour == 12 else hour
    return hour + 12 if 1 <= hour <= 6 else hour  # bare "jam 3": clinic afternoon


def _parse_time(text: str) -> tuple[time | None, tuple[time, time] | None]:
    """(exact clock time, window) from the time expression in text."""
    part_m = re.search(rf"\b({_PART_RE})\b", text)
    part = part_m.group(1) if part_m else None
    m = re.search(r"\b(?:jam|pukul|pk)\s*setengah\s+(\d{1,2})\b|\bsetengah\s+(\d{1,2})\b", text)
    if m:
        hour = _apply_part(int(m.group(1) or m.group(2)) - 1, part)
        return time(hour % 24, 30), None
    m = re.search(r"\bhalf past (\d{1,2})\b", text)
    if m:
        hour = _apply_part(int(m.group(1)), part)
        return time(hour % 24, 30), None
    bounded = _bounded_window(text, part)
    if bounded is not None:
        return None, bounded
    return _clock_time(text, part)


def _bounded_window(text: str, part: str | None) -> tuple[time, time] | None:
    """ "after 3pm", "setelah jam 3", "sebelum jam 11": a window open on one side."""
    m = re.search(r"\b(after|setelah|sesudah|lewat|di ?atas|before|sebelum)\s+(?:jam|pukul|pk)?"
                  r"\s*(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm)?\b", text)
    if m and int(m.group(2)) <= 24 and int(m.group(3) or 0) < 60:
        hour = int(m.group(2))
        if m.group(4):
            hour = hour % 12 + (12 if m.group(4) == "pm" else 0)
        else:
            hour = _apply_part(hour, part) % 24
        bound = time(hour, int(m.group(3) or 0))
        if m.group(1) in ("before", "sebelum"):
            return time(5), bound
        return bound, time(23, 59)
    return None


def _clock_time(text: str, part: str | None) -> tuple[time | None, tuple[time, time] | None]:
    """A clock time: "3pm", "jam 10", "15.30", "10-an", "9 pagi"; else the part of day."""
    m = re.search(r"\b(\d{1,2})(?:[.:](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)", text)
    if m:
        hour, minute = int(m.group(1)) % 12, int(m.group(2) or 0)
        if m.group(3).startswith("p"):
            hour += 12
        return (time(hour, minute), None) if minute < 60 else (None, None)
    if re.search(r"\bnoon\b|\bjam 12 siang\b", text):
        return time(12), None
    m = re.search(r"\b(?:jam|pukul|pk|at)\s*(\d{1,2})(?:[.:](\d{2}))?(\s*-?\s*an\b)?", text)
    if not m:
        m = re.search(r"(?<![\d/.:-])(\d{1,2})[.:](\d{2})(?![\d/.:])()", text)
    if not m:
        m = re.search(r"(?<![\d/.:-])(\d{1,2})()(\s*-\s*an\b|an\b)", text)
    if not m:  # "9 pagi", "2 siang", "7 malam"
        m = re.search(rf"(?<![\d/.:-])\b(\d{{1,2}})(?:[.:](\d{{2}}))?()\s*(?={_PART_RE}\b)",
                      text)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if hour > 24 or minute > 59:
            return None, None
        hour = _apply_part(hour, part) % 24
        if m.group(3):  # "10-an": around ten
            start = datetime.combine(date.min, time(hour)) - timedelta(minutes=30)
            end = datetime.combine(date.min, time(hour)) + timedelta(minutes=60)
            return time(hour, minute), (start.time(), min(end, datetime.combine(
                date.min, time(23, 59))).time())
        return time(hour, minute), None
    if part:
        return None, PARTS[part]
    return None, None


def _fallback_absolute(text: str, now: datetime, zone: ZoneInfo) -> date | None:
    """dateparser, only for absolute dates (ISO, written-out years) the rules missed."""
    if not re.search(rf"\d{{4}}|\b({_MONTH_RE})\b", text):
        return None
    import dateparser

    local_now = now.astimezone(zone).replace(tzinfo=None)
    found = dateparser.parse(text, languages=["id", "en"], settings={
        "DATE_ORDER": "DMY", "PREFER_DATES_FROM": "future", "RELATIVE_BASE": local_now,
        "RETURN_AS_TIMEZONE_AWARE": False, "STRICT_PARSING": False})
    return found.date() if found else None


def parse_when(text: str, now: datetime, tz: ZoneInfo | str = "Asia/Jakarta") -> When:
    """What `text` says about the day and time, resolved in `tz` relative to `now`."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    norm = _normalise(text or "")
    if not norm:
        return When()
    today = _local_today(now, zone)
    day, span, where = _parse_day(norm, today)
    rest = norm if where is None else norm[:where[0]] + " " + norm[where[1]:]
    at, window = _parse_time(rest)
    if window is None and at is None and where is not None:
        at, window = _parse_time(norm)  # "sore ini", "this morning": the part is in the day
    if day is None and at is None and window is None:
        day = _fallback_absolute(norm, now if now.tzinfo else now.replace(tzinfo=UTC), zone)
    return When(day=day, span_days=span, at=at, window=window)
