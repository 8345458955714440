"""The attack catalogue runs against the same real loopback apps as the API and gateway tests
(mongomock store, real Redis namespace per test, local Wati sandbox, stand-in Rasa);
docs/security.md lists the threat each test proves closed."""

from __future__ import annotations

from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    api,
    namespace,
    password_hash,
    settings_overrides,
)
from tests.bot.conftest import (  # noqa: F401 - fixtures shared with the gateway tests
    bot_app,
    fake_rasa,
    redis_ns,
    sandbox,
    smtp,
)
