"""Schemathesis against /openapi.json on a real loopback server: no 5xx, responses conform.

The server runs in its own thread and event loop (schemathesis makes blocking HTTP calls).
Every operation is exercised with a few generated requests, as an admin (who may call all)
and as a patient (most staff routes answer 403, which must be documented too).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.http.auth import issue_tokens
from app.main import create_app
from booking.store import MongoStore
from tests.api.conftest import Seed, make_settings, seed_store

EXAMPLES_PER_OPERATION = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


class LiveServer:
    """The app on 127.0.0.1 (free port) in a background thread with its own loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.started.set()
        self.loop.run_forever()

    def __enter__(self) -> LiveServer:
        self.thread.start()
        assert self.started.wait(10), "server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def live(sync_store: MongoStore, password_hash: str, redis_namespace: str
         ) -> Iterator[tuple[str, Seed, Headers]]:
    settings = make_settings(redis_namespace)
    with LiveServer(create_app(settings, store=sync_store)) as server:
        seed = seed_store(sync_store, password_hash)
        ids = {"admin": seed.admin.id, "patient": seed.patient.id}

        def headers(role: str) -> dict[str, str]:
            # Fresh per operation, from the stored user: generated calls to
            # /auth/logout-all and /auth/password void every earlier token.
            user = sync_store.get_user(ids[role])
            return {"Authorization": "Bearer " + issue_tokens(settings, user)["access_token"]}

        yield f"http://127.0.0.1:{server.port}", seed, headers
    from tests.conftest import drop_namespace

    asyncio.run(drop_namespace(redis_namespace))


@pytest.mark.parametrize("role", ["admin", "patient"])
def test_every_operation_conforms_to_the_document(
        live: tuple[str, Seed, Headers], role: str) -> None:
    base_url, _, headers_for = live
    raw: dict[str, Any] = requests.get(base_url + "/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(raw)
    session = requests.Session()
    exercised = []
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        exercised.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  derandomize=True, suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call_and_validate(base_url=base_url, session=session,
                                              headers=headers_for(role), checks=CHECKS)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failures
            failures.append(f"{operation.label}: {exc}")
    session.close()
    assert not failures, "\n\n".join(failures)
    print("responses by status:", dict(sorted(statuses.items())))  # noqa: T201
    # The run reached handlers (not only validation): successes and refusals both occurred.
    assert sum(n for code, n in statuses.items() if code < 300) >= 10
    assert statuses.get(422, 0) >= 5
    assert statuses.get(404 if role == "admin" else 403, 0) >= 5
    assert "POST /bookings" in exercised and "GET /doctors/{doctor_id}/slots" in exercised
