"""booking.yesno: natural yes/no answers at the confirm steps, and corrections."""

from __future__ import annotations

import pytest

from booking.yesno import is_correction, yes_no


@pytest.mark.parametrize(("text", "intent", "verb", "expected"), [
    ("iya batalkan", "cancel_appointment", "cancel", True),
    ("ya batalin aja", "cancel_appointment", "cancel", True),
    ("yes cancel it", "cancel_appointment", "cancel", True),
    ("cancel", "cancel_appointment", "cancel", True),
    ("jangan dibatalkan", "cancel_appointment", "cancel", False),
    ("ga jadi batal", "deny", "cancel", False),
    ("jangan", "deny", "cancel", False),
    ("ya pindahkan aja", "reschedule_appointment", "reschedule", True),
    ("oke pindah", "inform", "reschedule", True),
    ("ga usah dipindah", "deny", "reschedule", False),
    ("oke booking", "book_appointment", "book", True),
    ("sip", "affirm", "book", True),
    ("boleh", "nlu_fallback", "book", True),
    ("gas", "nlu_fallback", "book", True),
    ("lanjut", "inform", "book", True),
    ("yes go ahead", "affirm", "book", True),
    ("confirm", "inform", "book", True),
    ("Iya, betul!", "affirm", "book", True),
    ("gapapa lanjut aja", "affirm", "book", True),
    ("jangan", "deny", "book", False),
    ("nggak jadi", "deny", "book", False),
    ("ga usah", "deny", "book", False),
    ("cancel that", "cancel_appointment", "book", False),
    ("batal", "deny", "book", False),
    ("no thanks", "deny", "book", False),
    ("don't book it", "book_appointment", "book", False),
    ("/affirm", "affirm", "book", True),
    ("/deny", "deny", "book", False),
    ("klinik buka jam berapa", "faq", "book", None),
    ("hmm", "nlu_fallback", "book", None),
])
def test_yes_no(text: str, intent: str, verb: str, expected: bool | None) -> None:
    assert yes_no(text, intent, verb) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("ganti dokter lain aja", True),
    ("dokter yang lain dong", True),
    ("another doctor please", True),
    ("hari lain aja", True),
    ("jam lain", True),
    ("ya", False),
    ("oke booking", False),
])
def test_is_correction(text: str, expected: bool) -> None:
    assert is_correction(text) is expected
