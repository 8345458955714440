"""Pure handoff rules: opening hours, the after-hours note, masking, waiting time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notify.handoff_rules import after_hours_note, mask_number, next_opening, waiting_minutes

# 2026-12-07 is a Monday. WIB = UTC+7.
MON_10_WIB = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
MON_21_WIB = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
SAT_23_WIB = datetime(2026, 12, 12, 16, 0, tzinfo=UTC)
SUN_13_WIB = datetime(2026, 12, 13, 6, 0, tzinfo=UTC)
TUE_06_WIB = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)


def test_open_hours_have_no_next_opening() -> None:
    assert next_opening(MON_10_WIB) is None
    assert after_hours_note(MON_10_WIB, "id") is None


@pytest.mark.parametrize(("now", "expected_local"), [
    (MON_21_WIB, datetime(2026, 12, 8, 8, 0)),     # evening: tomorrow 08:00
    (TUE_06_WIB, datetime(2026, 12, 8, 8, 0)),     # early morning: today 08:00
    (SAT_23_WIB, datetime(2026, 12, 13, 8, 0)),    # Saturday night: Sunday 08:00
    (SUN_13_WIB, datetime(2026, 12, 14, 8, 0)),    # Sunday closes at 12:00: Monday
])
def test_next_opening(now: datetime, expected_local: datetime) -> None:
    opening = next_opening(now)
    assert opening is not None
    assert opening.replace(tzinfo=None) == expected_local


def test_after_hours_note_says_when_in_the_patients_language() -> None:
    assert after_hours_note(MON_21_WIB, "id") == (
        "Saat ini di luar jam kerja klinik. Staf akan membalas besok pukul 08:00 WIB. "
        "Sambil menunggu, saya tetap bisa membantu booking: ketik \"menu\".")
    note = after_hours_note(TUE_06_WIB, "en")
    assert note is not None and "today at 08:00 WIB" in note
    assert "besok pukul 08:00 WITA" in (  # Saturday 23:00 WITA: Sunday opens at 08:00
        after_hours_note(SAT_23_WIB.replace(hour=15), "id", "Asia/Makassar") or "")


def test_mask_and_waiting() -> None:
    assert mask_number("6281234567890") == "•••••••••7890"
    assert mask_number(None) == ""
    assert waiting_minutes(MON_10_WIB, MON_21_WIB) == 660
    assert waiting_minutes(MON_21_WIB, MON_10_WIB) == 0
