"""Rasa replies → WhatsApp messages within Wati's limits (pure: no I/O).

Up to 3 choices become reply buttons, up to 10 a list, more a numbered text the
patient answers with a number. Wati's buttons and rows carry no ids, so every
rendering also returns `choices`: what the patient may tap or type → the Rasa
payload it stands for (kept per sender by bot/choices.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from notify.whatsapp_messages import (
    BODY_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    ELLIPSIS,
    LIST_BUTTON_MAX,
    LIST_ROWS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_TITLE_MAX,
    SECTION_TITLE_MAX,
    Buttons,
    ListMessage,
    Outgoing,
    Row,
    Text,
    split_text,
    truncate,
)

_WORDS = {
    "id": {"choose": "Silakan pilih:", "button": "Lihat pilihan", "section": "Pilihan",
           "numbered": "Balas dengan nomor pilihan Anda."},
    "en": {"choose": "Please choose:", "button": "See options", "section": "Options",
           "numbered": "Reply with the number of your choice."},
}


@dataclass(slots=True)
class Rendered:
    messages: list[Outgoing] = field(default_factory=list)
    choices: dict[str, str] = field(default_factory=dict)  # normalised key → payload


def normalise_choice(text: str) -> str:
    """How a typed or tapped title is looked up: case-, space- and punctuation-insensitive."""
    text = unicodedata.normalize("NFKC", text or "").casefold().strip()
    text = text.replace(ELLIPSIS, "")
    text = re.sub(r"\s+", " ", text)
    return text.strip(" .,!?;:)(").strip()


def unique_titles(titles: list[str], limit: int) -> list[str]:
    """Truncate each title to `limit`; titles that collide get a number, still within it."""
    out: list[str] = []
    seen: set[str] = set()
    for title in titles:
        shown = truncate(title, limit) or "-"
        n = 2
        while normalise_choice(shown) in seen:
            suffix = f" ({n})"
            shown = truncate(title, limit - len(suffix)) + suffix
            n += 1
        seen.add(normalise_choice(shown))
        out.append(shown)
    return out


def _buttons_of(reply: dict[str, Any]) -> list[dict[str, str]]:
    raw = reply.get("buttons") or reply.get("quick_replies") or []
    out = []
    for b in raw if isinstance(raw, list) else []:
        if isinstance(b, dict) and (b.get("title") or b.get("payload")):
            title = str(b.get("title") or b.get("payload"))
            out.append({"title": title, "payload": str(b.get("payload") or title)})
    return out


def _text_of(reply: dict[str, Any]) -> str:
    text = reply.get("text") or ""
    custom = reply.get("custom")
    if not text and isinstance(custom, dict) and isinstance(custom.get("text"), str):
        text = custom["text"]
    if reply.get("image"):
        text = f"{text}\n{reply['image']}".strip()
    return str(text)


def render(replies: list[dict[str, Any]], lang: str = "id") -> Rendered:
    words = _WORDS.get(lang, _WORDS["id"])
    out = Rendered()
    for reply in replies:
        text = _text_of(reply)
        buttons = _buttons_of(reply)
        if not buttons:
            out.messages.extend(Text(part) for part in split_text(text))
            continue
        if len(buttons) > LIST_ROWS_MAX:
            _numbered(out, text, buttons, words)
            continue
        body = text
        if len(text) > BODY_MAX:  # the body cannot hold it: send the text first, then the choice
            out.messages.extend(Text(part) for part in split_text(text))
            body = words["choose"]
        body = body.strip() or words["choose"]
        titles = [b["title"] for b in buttons]
        if len(buttons) <= BUTTONS_MAX:
            shown = unique_titles(titles, BUTTON_TITLE_MAX)
            out.messages.append(Buttons(body=body, buttons=tuple(shown)))
        else:
            shown = unique_titles(titles, ROW_TITLE_MAX)
            rows = tuple(
                Row(s, truncate(t, ROW_DESCRIPTION_MAX) if s != t.strip() else None)
                for s, t in zip(shown, titles, strict=True))
            out.messages.append(ListMessage(
                body=body, button_text=truncate(words["button"], LIST_BUTTON_MAX),
                section_title=truncate(words["section"], SECTION_TITLE_MAX), rows=rows))
        _remember(out, buttons, shown)
    return out


def _numbered(out: Rendered, text: str, buttons: list[dict[str, str]],
              words: dict[str, str]) -> None:
    lines = [f"{i}. {b['title'].strip()}" for i, b in enumerate(buttons, 1)]
    full = "\n\n".join(p for p in (text.strip(), "\n".join(lines), words["numbered"]) if p)
    out.messages.extend(Text(part) for part in split_text(full))
    _remember(out, buttons, [b["title"] for b in buttons])


def _remember(out: Rendered, buttons: list[dict[str, str]], shown: list[str]) -> None:
    for i, (button, title) in enumerate(zip(buttons, shown, strict=True), 1):
        out.choices[str(i)] = button["payload"]
        out.choices.setdefault(normalise_choice(title), button["payload"])
        out.choices.setdefault(normalise_choice(button["title"]), button["payload"])
