"""WhatsApp messages as Wati sends them, and WhatsApp's limits: the one place for the
message types (text, reply buttons, list), the length and count limits (the bot's replies,
the actions' choices and the notifications all obey them), and cutting text to fit without
breaking a word or an emoji."""

from __future__ import annotations

from dataclasses import dataclass

import regex

# Wati / WhatsApp limits (see shared/reference/wati-api.md §4).
TEXT_MAX = 4096
BODY_MAX = 1024
HEADER_MAX = 60
FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
LIST_ROWS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Buttons:
    body: str
    buttons: tuple[str, ...]
    header: str | None = None
    footer: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ListMessage:
    body: str
    button_text: str
    section_title: str
    rows: tuple[Row, ...]
    header: str | None = None
    footer: str | None = None


Outgoing = Text | Buttons | ListMessage


def graphemes(text: str) -> list[str]:
    """User-perceived characters: an emoji with skin tone or ZWJ sequence stays whole."""
    return regex.findall(r"\X", text)


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """At most `limit` characters; cut at a word boundary (or a grapheme when one word is too
    long), never inside an emoji, and marked with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return _take(text, limit)
    head = _take(text, room)
    # Prefer ending at a word boundary when that keeps a fair part of the text.
    nxt = text[len(head):len(head) + 1]
    if nxt and not nxt.isspace():
        cut = max(head.rfind(" "), head.rfind("\n"))
        if cut >= room // 2:
            head = head[:cut]
    head = head.rstrip(" \n\t,;:-–—(")
    return head + ellipsis


def _take(text: str, limit: int) -> str:
    """The longest prefix of whole graphemes within `limit` characters."""
    out: list[str] = []
    size = 0
    for g in graphemes(text):
        if size + len(g) > limit:
            break
        out.append(g)
        size += len(g)
    return "".join(out)


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Split a long text into parts ≤ limit at paragraphs, then lines, sentences, words."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for sep in ("\n\n", "\n", ". ", " "):
        cut = text.rfind(sep, 0, limit + 1 - (len(sep) if sep == ". " else 0))
        if cut > limit // 4:
            end = cut + (1 if sep == ". " else 0)
            return [text[:end].strip(), *split_text(text[end:], limit)]
    head = _take(text, limit)
    return [head, *split_text(text[len(head):], limit)]


def chat_text(message: Outgoing) -> str:
    """A plain-text version of an outgoing message, for the chat log."""
    if isinstance(message, Text):
        return message.text
    if isinstance(message, Buttons):
        return message.body + "\n" + " | ".join(f"[{b}]" for b in message.buttons)
    rows = "\n".join(f"- {r.title}" for r in message.rows)
    return f"{message.body}\n{rows}"


def message_type(message: Outgoing) -> str:
    return {Text: "text", Buttons: "buttons", ListMessage: "list"}[type(message)]
