"""The outbox backlog gauge (klinik_outbox_backlog) that production alerts on: entries overdue
by more than a minute, failed ones awaiting the fallback, and claims left by a dead dispatcher;
not entries due later, nor sent or dead ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from app.keys import SERVICE, STORE
from app.metrics import REGISTRY
from booking.service import BookingService
from booking.store import MongoStore, Store
from scheduler.setup import measure_backlog
from tests.conftest import Clock


def entry(n: int, status: str, **fields: Any) -> dict[str, Any]:
    return {"_id": f"e{n}", "kind": "booking_confirmed", "dedupe_key": f"k{n}", "to": "62811",
            "status": status, "attempts": 0, **fields}


async def test_backlog_counts_only_what_is_overdue(sync_store: MongoStore, store: Store,
                                                   service: BookingService,
                                                   clock: Clock) -> None:
    now = clock()
    sync_store.outbox.insert_many([
        entry(1, "pending", next_attempt_at=now - timedelta(minutes=5)),    # overdue
        entry(2, "pending", next_attempt_at=now - timedelta(seconds=20)),   # within the grace
        entry(3, "pending", next_attempt_at=now + timedelta(minutes=30)),   # a later retry
        entry(4, "failed", next_attempt_at=now),                            # awaits the e-mail
        entry(5, "sending", claim_expires_at=now - timedelta(minutes=3)),   # dispatcher died
        entry(6, "sending", claim_expires_at=now + timedelta(minutes=3)),   # being sent now
        entry(7, "sent"), entry(8, "dead"), entry(9, "emailed"),
    ])
    app = web.Application()
    app[STORE] = store
    app[SERVICE] = service
    assert await measure_backlog(app) == 3
    assert REGISTRY.get_sample_value("klinik_outbox_backlog") == 3
    sync_store.outbox.update_one({"_id": "e1"}, {"$set": {"status": "sent"}})
    clock.advance(minutes=1)  # e2 is now overdue too
    assert await measure_backlog(app) == 3
    assert REGISTRY.get_sample_value("klinik_outbox_backlog") == 3
    sync_store.outbox.delete_many({})
    assert await measure_backlog(app) == 0
    assert REGISTRY.get_sample_value("klinik_outbox_backlog") == 0
