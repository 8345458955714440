"""Fixtures of the scale-out tests: the gateway's sandbox and Redis namespace, the real Rasa
model (tests/rasa/server.py)."""

from __future__ import annotations

from tests.bot.conftest import redis_ns, sandbox  # noqa: F401 - fixtures
from tests.rasa.server import rasa_model  # noqa: F401 - fixture
