"""Pure helpers of the actions: language detection and resolving typed answers to choices."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions.choices import buttons, ordinal, parse_value, resolve, slot_value
from actions.formatting import short_doctor
from actions.patients import clean_name
from actions.scheduling import search_label
from booking.language import detect_language, next_language


@pytest.mark.parametrize(("text", "expected"), [
    ("I want to book a dentist tomorrow", "en"),
    ("can you help me", "en"),
    ("mau booking dokter gigi besok", "id"),
    ("sy mau cancel ya kak", "id"),
    ("book dokter anak di jogja", "id"),
    ("ok", None),
    ("dr. Sari", None),
    ("/inform{\"choice\":\"d:x\"}", None),
    ("", None),
])
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_language_is_kept_per_conversation() -> None:
    assert next_language(None, "ok") == "id"
    assert next_language("en", "ok") == "en"
    assert next_language("en", "besok jam 10 ya") == "id"


OFFERED = [{"title": "09:00", "value": "s:doc|2026-12-08T02:00Z"},
           {"title": "09:30", "value": "s:doc|2026-12-08T02:30Z"},
           {"title": "dr. Sari Wulandari", "value": "d:doc-sari"}]


@pytest.mark.parametrize(("text", "expected"), [
    ("2", "s:doc|2026-12-08T02:30Z"),
    ("nomor 1", "s:doc|2026-12-08T02:00Z"),
    ("yang kedua aja", "s:doc|2026-12-08T02:30Z"),
    ("the first one", "s:doc|2026-12-08T02:00Z"),
    ("09:30", "s:doc|2026-12-08T02:30Z"),
    ("sari", "d:doc-sari"),
    ("7", None),
    ("gak tau", None),
])
def test_resolve_typed_answers(text: str, expected: str | None) -> None:
    assert resolve(text, None, OFFERED) == expected


def test_tapped_payload_wins_and_values_parse() -> None:
    assert resolve("whatever", "d:doc-x", OFFERED) == "d:doc-x"
    start = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert parse_value(slot_value("doc-1", start)) == ("slot", ("doc-1", start))
    assert parse_value("day:2026-12-08") == ("day", "2026-12-08")
    assert parse_value("b:abc") == ("booking", "abc")
    assert parse_value("junk") is None and parse_value("s:broken") is None
    assert ordinal("dua") is None and ordinal("yang dua") == 2


def test_button_titles_fit_whatsapp_limits() -> None:
    three = buttons([{"title": "Selasa, 8 Desember 2026 09:00", "value": "x"}] * 3)
    assert all(len(b["title"]) <= 20 for b in three)
    many = buttons([{"title": "Selasa, 8 Desember 2026 09:00", "value": "x"}] * 12)
    assert len(many) == 10 and all(len(b["title"]) <= 24 for b in many)
    assert three[0]["payload"] == '/inform{"choice":"x"}'


def test_short_names_and_patient_names() -> None:
    assert short_doctor("dr. Sondang Simanjuntak, Sp.PD") == "dr. Sondang S."
    assert short_doctor("drg. Ratna Dewi") == "drg. Ratna Dewi"
    assert clean_name("nama saya budi santoso") == "Budi Santoso"
    assert clean_name("my name is John Tan") == "John Tan"
    assert clean_name("12345") == "" and clean_name("?") == ""


def test_search_label_names_only_what_was_searched() -> None:
    assert search_label("id", "dentistry", "Bandung", "dr. Sari") == \
        "dr. Sari, Dokter Gigi, Bandung"
    assert search_label("en", "dentistry", None) == "Dentistry"
    assert search_label("id", None, "Makassar") == "Makassar"
    assert search_label("id", None, None) == ""
