"""Fixtures of the notification tests: the Wati sandbox and a local SMTP server (shared with
the gateway tests)."""

from __future__ import annotations

from tests.bot.conftest import redis_ns, sandbox, smtp  # noqa: F401 - fixtures
