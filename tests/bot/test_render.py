"""Rendering Rasa replies for WhatsApp: limits, truncation, uniqueness, choices (pure)."""

from __future__ import annotations

import pytest

from bot.render import normalise_choice, render, unique_titles
from notify.whatsapp_messages import (
    BODY_MAX,
    BUTTON_TITLE_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_TITLE_MAX,
    TEXT_MAX,
    Buttons,
    ListMessage,
    Text,
    graphemes,
    split_text,
    truncate,
)


def buttons(*titles: str) -> list[dict[str, str]]:
    return [{"title": t, "payload": f"/choose{{\"i\":{i}}}"} for i, t in enumerate(titles)]


def test_plain_text_stays_one_message() -> None:
    out = render([{"text": "Halo! Ada yang bisa kami bantu?"}])
    assert out.messages == [Text("Halo! Ada yang bisa kami bantu?")]
    assert out.choices == {}


def test_long_text_is_split_at_paragraphs_within_the_limit() -> None:
    para = ("Kalimat panjang tentang jadwal dokter. " * 40).strip()
    text = "\n\n".join([para] * 5)
    parts = split_text(text)
    assert len(parts) > 1
    assert all(0 < len(p) <= TEXT_MAX for p in parts)
    assert " ".join(p.replace("\n\n", " ") for p in parts).split() == text.split()
    assert all(p.endswith(".") for p in parts)  # cut between paragraphs, not inside


def test_one_huge_word_is_cut_without_losing_characters() -> None:
    text = "x" * (TEXT_MAX * 2 + 10)
    parts = split_text(text)
    assert [len(p) for p in parts] == [TEXT_MAX, TEXT_MAX, 10]


@pytest.mark.parametrize("count,kind", [(1, Buttons), (3, Buttons), (4, ListMessage),
                                        (10, ListMessage)])
def test_choice_count_picks_buttons_or_list(count: int, kind: type) -> None:
    out = render([{"text": "Pilih:", "buttons": buttons(*[f"Opsi {i}" for i in range(count)])}])
    assert len(out.messages) == 1 and isinstance(out.messages[0], kind)


def test_more_than_ten_choices_become_numbered_text_answerable_by_number() -> None:
    titles = [f"dr. Dokter Nomor {i}" for i in range(1, 13)]
    out = render([{"text": "Dokter yang tersedia:", "buttons": buttons(*titles)}])
    assert all(isinstance(m, Text) for m in out.messages)
    text = out.messages[0].text  # type: ignore[union-attr]
    assert "1. dr. Dokter Nomor 1" in text and "12. dr. Dokter Nomor 12" in text
    assert out.choices["12"] == '/choose{"i":11}'
    assert out.choices[normalise_choice("dr. Dokter Nomor 3")] == '/choose{"i":2}'


def test_long_button_titles_are_truncated_at_words_and_stay_unique() -> None:
    out = render([{"text": "Jam berapa?", "buttons": buttons(
        "Senin pagi jam sembilan tepat", "Senin pagi jam sembilan lewat", "Nanti saja")}])
    msg = out.messages[0]
    assert isinstance(msg, Buttons)
    assert all(len(b) <= BUTTON_TITLE_MAX for b in msg.buttons)
    assert len({b.casefold() for b in msg.buttons}) == 3
    assert msg.buttons[0] == "Senin pagi jam…"
    assert msg.buttons[1].endswith("(2)")
    # every shown title resolves to its own payload
    payloads = [out.choices[normalise_choice(b)] for b in msg.buttons]
    assert payloads == ['/choose{"i":0}', '/choose{"i":1}', '/choose{"i":2}']


def test_list_rows_keep_the_full_title_as_description() -> None:
    long = "dr. Hendra Gunawan, Sp.JP (Kardiologi) — Klinik Sehat Menteng"
    out = render([{"text": "Pilih dokter:", "buttons": buttons(long, "B", "C", "D")}])
    msg = out.messages[0]
    assert isinstance(msg, ListMessage)
    row = msg.rows[0]
    assert len(row.title) <= ROW_TITLE_MAX and row.title.endswith("…")
    assert row.description is not None and len(row.description) <= ROW_DESCRIPTION_MAX
    assert msg.rows[1].description is None
    assert len(msg.button_text) <= 20 and len(msg.section_title) <= 24


def test_body_longer_than_interactive_limit_goes_first_as_text() -> None:
    out = render([{"text": "a " * 700, "buttons": buttons("Ya", "Tidak")}])
    assert isinstance(out.messages[0], Text)
    assert isinstance(out.messages[-1], Buttons)
    assert len(out.messages[-1].body) <= BODY_MAX


@pytest.mark.parametrize("text", [
    "Dokter gigi 👨🏽‍⚕️👩🏻‍⚕️ tersedia",  # ZWJ sequences with skin tones
    "Pilihan 🇮🇩🇮🇩🇮🇩🇮🇩🇮🇩🇮🇩",           # flags (regional indicator pairs)
    "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
])
@pytest.mark.parametrize("limit", [5, 10, 11, 12, 20, 24])
def test_truncation_never_splits_an_emoji(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut) <= limit
    body = cut.removesuffix("…")
    whole = graphemes(text)
    # the kept part is a prefix made of whole graphemes of the original
    assert graphemes(body) == whole[:len(graphemes(body))]


def test_truncation_prefers_word_boundaries() -> None:
    assert truncate("Konsultasi dokter spesialis anak", 20) == "Konsultasi dokter…"
    assert truncate("pendek", 20) == "pendek"


def test_unique_titles_after_truncation_case_insensitive() -> None:
    titles = ["Jadwal Senin pagi A", "jadwal senin pagi B", "Jadwal Senin pagi C"]
    shown = unique_titles(titles, 12)
    assert len({normalise_choice(s) for s in shown}) == 3
    assert all(len(s) <= 12 for s in shown)


def test_choices_map_numbers_titles_and_payloads() -> None:
    out = render([{"text": "Spesialis?", "buttons": buttons("Umum", "Anak", "Gigi")}])
    assert out.choices["2"] == '/choose{"i":1}'
    assert out.choices["anak"] == '/choose{"i":1}'
    assert normalise_choice("  ANAK! ") == "anak"


def test_english_defaults_for_empty_body() -> None:
    out = render([{"buttons": buttons("Yes", "No")}], "en")
    assert isinstance(out.messages[0], Buttons)
    assert out.messages[0].body == "Please choose:"
