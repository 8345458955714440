"""Where actions find the booking service.

The rasa_sdk executor instantiates actions with no arguments, so actions take an
optional service in `__init__` (tests pass one) and otherwise use the current one:
set per request by the actions endpoint (a context variable, so two apps in one
process never mix), or installed once by `python -m actions`.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from booking.service import BookingService

_current: ContextVar[BookingService | None] = ContextVar("booking_service", default=None)
_installed: BookingService | None = None


def install(service: BookingService | None) -> None:
    """Process-wide default (the standalone action server)."""
    global _installed
    _installed = service


def use(service: BookingService) -> Token[BookingService | None]:
    """The service for the current task (one action call); undo with `reset(token)`."""
    return _current.set(service)


def reset(token: Token[BookingService | None]) -> None:
    _current.reset(token)


def current() -> BookingService:
    service = _current.get() or _installed
    if service is None:
        raise RuntimeError("no booking service: the app has not started")
    return service
