"""Pure PII masking for messages that leave the database for human review.

Phone numbers, e-mail addresses, long ID numbers (BPJS, NIK), booking references and
names are replaced by placeholders. Names come from two sources: the names we know
(the senders' user and contact names, minus doctors' names, which are legitimate
`doctor_name` entities) and introductions such as "nama saya ..." / "my name is ...".
Annotated text (`[jakarta](city)`) keeps its markup: only the visible text is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from booking.refs import normalise_ref

PHONE = "<PHONE>"
EMAIL = "<EMAIL>"
NUMBER = "<NUMBER>"
REF = "<REF>"
NAME = "<NAME>"
PLACEHOLDERS = (PHONE, EMAIL, NUMBER, REF, NAME)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A run of digits with the separators people type in phone numbers.
_DIGITS = re.compile(r"(?<![\w])\+?\d[\d\s().-]{5,}\d(?![\w])")
_REF = re.compile(r"(?<![\w-])([A-Za-z0-9]{3}[-_. ]?[A-Za-z0-9]{3})(?![\w-])")
_ANNOTATION = re.compile(r"(\[)([^\[\]]*)(\](?:\([^)]*\)|\{[^}]*\}))")
_WORD = re.compile(r"[^\W\d_][\w'.-]*", re.UNICODE)

# After these, the next words are a name whatever their case.
_STRONG_INTRO = re.compile(
    r"\b(?:nama\s+(?:saya|aku|sy|ku|pasien|pasiennya|lengkap)|namaku|namanya|nama\s*:|"
    r"atas\s+nama|a\.\s?n\.?|an\.|my\s+name\s+is|my\s+name's|name\s*:|patient\s+name\s*:?)"
    r"[\s:,-]*", re.IGNORECASE)
# After these, only Capitalised words are taken as a name ("saya Budi" but not "saya mau").
_WEAK_INTRO = re.compile(r"\b(?:saya|aku|sy|ini|dengan|i\s+am|i'm|this\s+is|im)\s+",
                         re.IGNORECASE)
_MAX_NAME_WORDS = 3
# Words that end a name after an introduction (the rest of the sentence).
STOP_WORDS = frozenset("""
dan mau ingin pengen dari umur usia yang yg untuk utk buat ke di tinggal lahir tgl tanggal
no nomor hp wa email mau minta tolong bisa boleh kak dok min ya ok oke sudah udah lagi
and i want would like to from age born phone number please need at in for with the a
dokter dr drg klinik rs booking pasien sakit besok hari jam doctor clinic appointment
""".split())
_HONORIFICS = frozenset("pak bu ibu bapak mas mbak kak sdr sdri tn ny nn mr mrs ms miss".split())


@dataclass(frozen=True)
class PiiContext:
    """What we know about the people in the messages being masked."""

    names: frozenset[str] = field(default_factory=frozenset)          # tokens to mask
    keep: frozenset[str] = field(default_factory=frozenset)           # doctors' name tokens
    known_refs: frozenset[str] = field(default_factory=frozenset)     # canonical refs

    @classmethod
    def build(cls, person_names: Iterable[str], doctor_names: Iterable[str] = (),
              refs: Iterable[str] = ()) -> PiiContext:
        keep = frozenset(t for n in doctor_names for t in name_tokens(n))
        names = frozenset(t for n in person_names for t in name_tokens(n)) - keep
        known = frozenset(r for r in (normalise_ref(x) for x in refs) if r)
        return cls(names, keep, known)


def name_tokens(name: str) -> list[str]:
    """Lowercase tokens of a person's name worth masking (>= 3 letters, not a title)."""
    out = []
    for token in _WORD.findall(name or ""):
        t = token.strip(".'-").lower()
        if len(t) >= 3 and t not in _HONORIFICS and t not in STOP_WORDS and t not in (
                "dr", "drg", "dokter", "doctor", "spesialis"):
            out.append(t)
    return out


def _mask_digits(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 8:
        return raw
    # Indonesian mobiles and international numbers: 08.., 628.., 8.., +..
    if raw.startswith("+") or (10 <= len(digits) <= 15 and digits[:1] in "068"):
        return PHONE
    if len(digits) >= 9 and not re.search(r"[\s().-]", raw.strip()):
        return NUMBER
    return raw


def _mask_ref(match: re.Match[str], known: frozenset[str]) -> str:
    """A booking reference: a known one, or the ref shape with a digit (letters-only and
    space-separated words are too often ordinary words: 'jam 4pm', 'cek ada')."""
    raw = match.group(1)
    ref = normalise_ref(raw)
    if ref is None:
        return raw
    if ref in known:
        return REF
    if raw.isdigit():
        return raw
    if " " in raw:
        left, right = raw.split(" ", 1)
        both = all(any(ch.isdigit() for ch in half) for half in (left, right))
        return REF if both else raw
    return REF if any(ch.isdigit() for ch in raw) else raw


def _take_name(text: str, start: int, *, capitalised_only: bool) -> tuple[int, int] | None:
    """Span of up to three name words starting at `start` (honorifics skipped)."""
    pos, first, last, count = start, None, None, 0
    while count < _MAX_NAME_WORDS:
        m = _WORD.match(text, pos)
        if not m:
            break
        word = m.group(0).rstrip(".,")
        low = word.lower().strip("'.-")
        if low in _HONORIFICS and first is None:
            pos = _skip_space(text, m.end())
            continue
        if low in STOP_WORDS or word.startswith("<"):
            break
        if capitalised_only and not word[:1].isupper():
            break
        if first is None:
            first = m.start()
        last = m.start() + len(word)
        count += 1
        nxt = _skip_space(text, m.end())
        if nxt == m.end() or text[m.end():nxt].strip():  # punctuation ends the name
            break
        pos = nxt
    return (first, last) if first is not None and last is not None else None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _mask_intro_names(text: str) -> str:
    spans: list[tuple[int, int]] = []
    for pattern, caps in ((_STRONG_INTRO, False), (_WEAK_INTRO, True)):
        for m in pattern.finditer(text):
            span = _take_name(text, m.end(), capitalised_only=caps)
            if span:
                spans.append(span)
    for a, b in sorted(set(spans), reverse=True):
        if not any(a2 <= a and b <= b2 and (a2, b2) != (a, b) for a2, b2 in spans):
            text = text[:a] + NAME + text[b:]
    return text


def _mask_known_names(text: str, ctx: PiiContext) -> str:
    if not ctx.names:
        return text

    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        core = word.strip(".'-").lower()
        return NAME if core in ctx.names and core not in ctx.keep else word

    return _WORD.sub(repl, text)


_NAME_RUN = re.compile(re.escape(NAME) + r"(?:\s+" + re.escape(NAME) + r")+")


def mask_plain(text: str, ctx: PiiContext = PiiContext()) -> str:
    """Mask PII in plain text (no annotation markup)."""
    text = _EMAIL.sub(EMAIL, text)
    text = _DIGITS.sub(_mask_digits, text)
    text = _REF.sub(lambda m: _mask_ref(m, ctx.known_refs), text)
    text = _mask_intro_names(text)
    text = _mask_known_names(text, ctx)
    return _NAME_RUN.sub(NAME, text)


def mask(text: str, ctx: PiiContext = PiiContext()) -> str:
    """Mask PII in text that may hold Rasa annotations; the markup itself is kept."""
    out, pos = [], 0
    for m in _ANNOTATION.finditer(text):
        out.append(mask_plain(text[pos:m.start()], ctx))
        out.append(m.group(1) + mask_plain(m.group(2), ctx) + m.group(3))
        pos = m.end()
    out.append(mask_plain(text[pos:], ctx))
    return "".join(out)
