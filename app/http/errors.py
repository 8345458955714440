"""The one place that turns errors into HTTP responses: `{"error", "message", "details"}`.

Domain errors (booking.errors), request validation errors (pydantic) and the
API's own refusals (ApiError) all end up here with an explicit status each.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from booking import errors as domain

log = logging.getLogger(__name__)

# Explicit status per domain error (most specific first: isinstance order matters).
DOMAIN_STATUS: tuple[tuple[type[domain.BookingError], int], ...] = (
    (domain.NotFound, 404),
    (domain.InvalidPhoneNumber, 422),
    (domain.InvalidInput, 422),
    (domain.SlotUnavailable, 409),
    (domain.PatientOverlap, 409),
    (domain.TooManyBookings, 409),
    (domain.CutoffPassed, 409),
    (domain.InvalidTransition, 409),
    (domain.Conflict, 409),
    (domain.Forbidden, 403),
    (domain.StoreUnavailable, 503),
)


class ApiError(Exception):
    """A refusal decided by the API layer (auth, rate limit, request shape)."""

    def __init__(self, status: int, error: str, message: str,
                 details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def unauthorized(message: str = "authentication required") -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str = "this role may not do this") -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(message: str = "not found", **details: Any) -> ApiError:
    return ApiError(404, "not_found", message, details)


def error_body(error: str, message: str, details: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {"error": error, "message": message, "details": details or {}, **extra}


def error_response(status: int, error: str, message: str,
                   details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, **extra: Any) -> web.Response:
    body = json.dumps(error_body(error, message, details, **extra), default=str)
    return web.Response(status=status, text=body, content_type="application/json",
                        headers=headers)


def validation_details(exc: ValidationError) -> dict[str, Any]:
    """Where and why, never the input itself (it may be a password)."""
    return {"errors": [{"loc": [str(p) for p in err["loc"]], "msg": err["msg"],
                        "type": err["type"]} for err in exc.errors(include_url=False,
                                                                   include_input=False)]}


def response_for(exc: BaseException) -> web.Response | None:
    """The response for a known error type; None for anything else (the caller logs a 500)."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.error, exc.message, exc.details, exc.headers)
    if isinstance(exc, ValidationError):
        return error_response(422, "validation_error", "the request is invalid",
                              validation_details(exc))
    if isinstance(exc, domain.BookingError):
        for cls, status in DOMAIN_STATUS:
            if isinstance(exc, cls):
                return error_response(status, exc.code, exc.message, exc.details)
        return error_response(400, exc.code, exc.message, exc.details)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return error_response(413, "payload_too_large", "the request body is too large")
    return None


def router_error(exc: web.HTTPException) -> web.Response:
    """Router-made 404/405 in the common shape."""
    if exc.status == 405:
        return error_response(405, "method_not_allowed", "method not allowed",
                              headers={"Allow": exc.headers.get("Allow", "")})
    return error_response(exc.status, "not_found" if exc.status == 404 else "http_error",
                          exc.reason)


def internal_error() -> web.Response:
    return error_response(500, "internal_error", "something went wrong on our side")
