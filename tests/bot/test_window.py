"""The 24-hour rule, both ways, decided in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.window import REOPEN_TEMPLATE, Mode, choose, in_window, template_name

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("age,inside", [
    (timedelta(seconds=5), True),
    (timedelta(hours=23), True),
    (timedelta(hours=23, minutes=57), True),
    (timedelta(hours=23, minutes=59), False),   # the safety margin closes it a bit early
    (timedelta(hours=24), False),
    (timedelta(days=3), False),
])
def test_window_both_ways(age: timedelta, inside: bool) -> None:
    assert in_window(NOW - age, NOW) is inside
    decision = choose(NOW - age, NOW, template="booking_confirmation")
    assert decision.mode == (Mode.session if inside else Mode.template)
    assert decision.template == (None if inside else "booking_confirmation")


def test_never_wrote_means_template() -> None:
    decision = choose(None, NOW, template="appointment_reminder", language="en")
    assert decision.mode == Mode.template
    assert decision.template == "appointment_reminder_en"


def test_free_form_outside_window_uses_the_reopen_template() -> None:
    assert choose(None, NOW, template=None).template == REOPEN_TEMPLATE
    assert template_name("not_approved", "id") == REOPEN_TEMPLATE
