"""The 24-hour rule, both ways, decided in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify import window
from notify.window import REOPEN_TEMPLATE, Mode, choose, in_window, template_name

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


def test_chat_grace_waits_only_for_chat_answered_kinds_during_a_chat() -> None:
    made = NOW
    chatting = NOW - timedelta(minutes=1)
    assert window.chat_grace_until("booking_confirmation", made, chatting, NOW) == \
        made + window.CHAT_GRACE
    assert window.chat_grace_until("booking_cancelled", made, chatting,
                                   NOW + timedelta(seconds=19)) == made + window.CHAT_GRACE
    # the grace is over: send
    assert window.chat_grace_until("booking_confirmation", made, chatting,
                                   NOW + window.CHAT_GRACE) is None
    # not in a chat (wrote long before, or never): send at once
    assert window.chat_grace_until("booking_confirmation", made, NOW - timedelta(hours=1),
                                   NOW) is None
    assert window.chat_grace_until("booking_confirmation", made, None, NOW) is None
    # kinds the bot never answers in the chat: send at once
    assert window.chat_grace_until("appointment_reminder", made, chatting, NOW) is None
    assert window.chat_grace_until("doctor_new_booking", made, chatting, NOW) is None
