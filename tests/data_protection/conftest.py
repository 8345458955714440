"""Data-protection tests: the fixtures of the API and bot suites (a real loopback app over
mongomock, or MONGODB_URL when set, and the run's Redis), and a raw scan of what is stored."""

from __future__ import annotations

import json
from typing import Any

from booking.store import MongoStore
from tests.api.conftest import api, namespace, password_hash, settings_overrides  # noqa: F401
from tests.bot.conftest import bot_app, fake_rasa, redis_ns, sandbox, smtp  # noqa: F401


def raw_dump(ms: MongoStore) -> str:
    """Every stored document of every collection, as the database holds it (no decryption)."""
    parts: list[str] = []
    for name in sorted(ms.raw_db.list_collection_names()):
        for doc in ms.raw_db[name].find():
            parts.append(f"{name}: {json.dumps(doc, default=str, ensure_ascii=False)}")
    return "\n".join(parts)


def leaks(ms: MongoStore, secrets: list[str]) -> list[str]:
    """The secrets found in the raw documents (with the line that holds them)."""
    dump = raw_dump(ms)
    found = []
    for secret in secrets:
        for line in dump.splitlines():
            if secret.lower() in line.lower():
                found.append(f"{secret!r} in {line[:200]}")
                break
    return found


def phone_forms(number: str) -> list[str]:
    """A number as it may be stored: E.164 digits, with +, and the local 08... form."""
    return [number, "+" + number, "0" + number.removeprefix("62")]


def any_value(doc: dict[str, Any], key: str) -> Any:
    return doc.get(key)
