"""The one error mapping: each domain error type has its explicit status and code."""

from __future__ import annotations

import json

import pytest

from app.http.errors import response_for
from app.logsafety import redact
from booking import errors


@pytest.mark.parametrize("exc,status,code", [
    (errors.NotFound("doctor not found", doctor_id="d1"), 404, "not_found"),
    (errors.InvalidInput("bad"), 422, "invalid_input"),
    (errors.InvalidPhoneNumber("bad"), 422, "invalid_phone"),
    (errors.SlotUnavailable("too soon"), 409, "slot_unavailable"),
    (errors.PatientOverlap(), 409, "patient_overlap"),
    (errors.CutoffPassed(), 409, "cutoff_passed"),
    (errors.InvalidTransition(), 409, "invalid_transition"),
    (errors.Conflict(), 409, "conflict"),
    (errors.Forbidden(), 403, "forbidden"),
    (errors.StoreUnavailable(), 503, "store_unavailable"),
])
def test_domain_errors_map_to_explicit_statuses(exc: errors.BookingError, status: int,
                                                code: str) -> None:
    response = response_for(exc)
    assert response is not None and response.status == status
    assert response.text is not None
    body = json.loads(response.text)
    assert body["error"] == code and set(body) == {"error", "message", "details"}
    assert body["message"] == exc.message


def test_unknown_errors_are_left_to_the_catch_all() -> None:
    assert response_for(RuntimeError("boom")) is None


def test_access_log_redacts_url_secrets() -> None:
    assert redact("/doctors/d1/calendar.ics?token=abc123&x=1") == \
        "/doctors/d1/calendar.ics?token=***&x=1"
    assert redact("/x?a=1&access_token=eyJ") == "/x?a=1&access_token=***"
