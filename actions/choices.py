"""Choices offered as buttons, and resolving the patient's answer to one of them (pure).

A choice value names its kind: "d:<doctor_id>", "day:<YYYY-MM-DD>",
"s:<doctor_id>|<YYYY-MM-DDTHH:MMZ>" (a slot start in UTC) or "b:<booking_id>".
Buttons carry it in the payload (`/inform{"choice": "..."}`); the list of what was
offered is kept in the `offered` slot so a typed answer ("yang kedua", "2", "jam 10",
"dr. Sari", the button title) resolves too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypedDict

from notify.whatsapp_messages import BUTTON_TITLE_MAX, LIST_ROWS_MAX, ROW_TITLE_MAX

MAX_BUTTONS = LIST_ROWS_MAX       # more choices than a WhatsApp list holds are not offered
TITLE_MAX_SMALL = BUTTON_TITLE_MAX  # WhatsApp reply buttons (up to 3)
TITLE_MAX_LIST = ROW_TITLE_MAX      # WhatsApp list rows


class Choice(TypedDict):
    title: str
    value: str


def doctor_value(doctor_id: str) -> str:
    return f"d:{doctor_id}"


def day_value(day: str) -> str:
    return f"day:{day}"


def slot_value(doctor_id: str, start: datetime) -> str:
    return f"s:{doctor_id}|{start.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def booking_value(booking_id: str) -> str:
    return f"b:{booking_id}"


def parse_value(value: str | None) -> tuple[str, Any] | None:
    """('doctor', id) | ('day', 'YYYY-MM-DD') | ('slot', (doctor_id, start)) | ('booking', id)."""
    if not value or ":" not in value:
        return None
    kind, _, rest = value.partition(":")
    if kind == "d" and rest:
        return "doctor", rest
    if kind == "day" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", rest):
        return "day", rest
    if kind == "b" and rest:
        return "booking", rest
    if kind == "s" and "|" in rest:
        doctor_id, _, stamp = rest.partition("|")
        try:
            start = datetime.strptime(stamp, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        return "slot", (doctor_id, start)
    return None


def shorten(title: str, limit: int) -> str:
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def buttons(choices: Sequence[Choice], intent: str = "inform") -> list[dict[str, str]]:
    """Rasa buttons; titles fit WhatsApp (20 chars for up to 3 buttons, 24 for a list)."""
    limit = TITLE_MAX_SMALL if len(choices) <= 3 else TITLE_MAX_LIST
    return [{"title": shorten(c["title"], limit),
             "payload": f"/{intent}" + json.dumps({"choice": c["value"]}, separators=(",", ":"))}
            for c in choices[:MAX_BUTTONS]]


_ORDINALS = {
    "pertama": 1, "satu": 1, "first": 1, "one": 1, "kedua": 2, "dua": 2, "second": 2,
    "two": 2, "ketiga": 3, "tiga": 3, "third": 3, "three": 3, "keempat": 4, "empat": 4,
    "fourth": 4, "four": 4, "kelima": 5, "lima": 5, "fifth": 5, "five": 5, "keenam": 6,
    "enam": 6, "sixth": 6, "ketujuh": 7, "tujuh": 7, "kedelapan": 8, "delapan": 8,
    "kesembilan": 9, "sembilan": 9, "kesepuluh": 10, "sepuluh": 10,
}


def ordinal(text: str) -> int | None:
    """1-based position named in text: "2", "nomor 2", "no. 2", "yang kedua", "option 3"."""
    norm = text.lower().strip()
    m = re.fullmatch(r"(?:(?:yang|yg|pilih|pilihan|nomor|nomer|no\.?|option|number|#)\s*)*"
                     r"(\d{1,2})(?:\s*(?:aja|saja|ya|dong|deh|kak|please))*[.!]?", norm)
    if m:
        return int(m.group(1))
    words = re.findall(r"[a-z]+", norm)
    for word in words:
        if word in _ORDINALS and (len(words) <= 4):
            if word in ("satu", "dua", "tiga", "empat", "lima", "one", "two", "three") and not \
                    any(w in ("yang", "yg", "nomor", "nomer", "pilih", "option", "number", "no")
                        for w in words):
                continue
            return _ORDINALS[word]
    return None


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def resolve(text: str, entity_choice: str | None, offered: Sequence[Choice] | None
            ) -> str | None:
    """The offered value the patient picked: tapped payload, position, or typed title."""
    offered = list(offered or [])
    if entity_choice:
        return entity_choice
    if not offered or not text:
        return None
    pos = ordinal(text)
    if pos is not None and 1 <= pos <= len(offered):
        return offered[pos - 1]["value"]
    typed = _norm(text)
    if not typed:
        return None
    for choice in offered:
        if _norm(choice["title"]) == typed:
            return choice["value"]
    hits = [c for c in offered if typed in _norm(c["title"]) and len(typed) >= 3]
    if len(hits) == 1:
        return hits[0]["value"]
    return None
