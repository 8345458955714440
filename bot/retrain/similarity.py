"""Pure text normalisation and similarity for de-duplicating and grouping messages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from typing import TypeVar

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"<([A-Z]+)>")
_NON_WORD = re.compile(r"[^\w]+")
_REPEAT = re.compile(r"(\w)\1+")
# Informal variants that mean the same thing in chat; normalising them merges near-duplicates.
_WORD_VARIANTS = {"gak": "ga", "nggak": "ga", "ngga": "ga", "enggak": "ga", "gk": "ga",
                  "ngak": "ga", "tdk": "tidak", "yg": "yang", "sy": "saya", "aku": "saya",
                  "utk": "untuk", "dgn": "dengan", "bs": "bisa", "gimana": "bagaimana",
                  "gmn": "bagaimana"}


def canonical(text: str) -> str:
    """Light normalisation for exact-duplicate checks: case, Unicode, punctuation, spaces.

    'Mau booking, dok!' == 'mau booking dok'; 'aku' and 'saya' stay different words.
    """
    text = unicodedata.normalize("NFKC", text or "").lower()
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def normalise(text: str) -> str:
    """Lowercase, unify Unicode, drop punctuation, squeeze repeated letters, unify slang.

    'Haloooo  kak!!' -> 'halo kak'; placeholders such as <PHONE> survive unchanged.
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = _PLACEHOLDER.sub(lambda m: f" {m.group(1)}PLACEHOLDER ", text)
    words = _NON_WORD.sub(" ", text.lower()).replace("_", " ").split()
    words = [_REPEAT.sub(r"\1", _WORD_VARIANTS.get(w, w)) for w in words]
    return " ".join(_WORD_VARIANTS.get(w, w) for w in words)


def char_ngrams(text: str, n: int = 3) -> set[str]:
    padded = f" {text} "
    if len(padded) <= n:
        return {padded}
    return {padded[i:i + n] for i in range(len(padded) - n + 1)}


def similarity(a: str, b: str) -> float:
    """0..1 on normalised texts: the larger of char-trigram Dice and difflib's ratio.

    Trigrams forgive word order and small insertions; difflib forgives typos in short
    messages where few trigrams are shared.
    """
    na, nb = normalise(a), normalise(b)
    if na == nb:
        return 1.0
    if not na or not nb:
        return 0.0
    ga, gb = char_ngrams(na), char_ngrams(nb)
    dice = 2 * len(ga & gb) / (len(ga) + len(gb))
    return max(dice, SequenceMatcher(None, na, nb).ratio())


def group_near_duplicates(items: Sequence[T], text_of: Callable[[T], str],
                          threshold: float = 0.8) -> list[list[T]]:
    """Greedy single pass: exact duplicates (after normalisation) first, then each distinct
    text joins the first group whose representative is at least `threshold` similar.

    Deterministic for a given input order; the first member of a group is its representative.
    """
    by_norm: dict[str, list[T]] = {}
    for item in items:
        by_norm.setdefault(normalise(text_of(item)), []).append(item)
    # Most frequent texts first, so they become the representatives.
    distinct = sorted(by_norm.items(), key=lambda kv: -len(kv[1]))
    groups: list[tuple[str, list[T]]] = []
    for norm, members in distinct:
        for rep, group in groups:
            if similarity(rep, norm) >= threshold:
                group.extend(members)
                break
        else:
            groups.append((norm, list(members)))
    return [g for _, g in groups]
