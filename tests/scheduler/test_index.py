"""The reminder sweep's query is served by an index the store declares: it exists, its keys are
the query's equality, state and range fields in that order; on a real MongoDB explain() shows an
index scan of it (no collection scan)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from booking import store_reminders
from booking.models import User
from booking.store import MongoStore
from scheduler.jobs import Jobs
from tests.scheduler.conftest import START, make_booking

H = timedelta(hours=1)


def _fields(query: dict[str, Any]) -> dict[str, Any]:
    """Field -> condition of a query whose top level is a plain AND of fields."""
    assert not any(key.startswith("$") for key in query), "top-level operators defeat the index"
    return dict(query)


def _stages(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for key in ("inputStage", "queryPlan"):
        if key in plan:
            found += _stages(plan[key])
    for child in plan.get("inputStages", []):
        found += _stages(child)
    return found


@pytest.mark.parametrize("second", [None, 120])
async def test_sweep_index_exists_and_matches_the_query(make_jobs: Any, sync_store: MongoStore,
                                                        second: int | None) -> None:
    jobs: Jobs = make_jobs(second_reminder_minutes=second)
    await jobs.prepare()
    info = sync_store.bookings.index_information()
    for kind in jobs.reminders.kinds:
        name = store_reminders.index_name(kind)
        assert name in info, f"index {name} not declared"
        keys = [field for field, _ in info[name]["key"]]
        query = _fields(store_reminders.sweep_query(kind, after=START - 24 * H, until=START,
                                                    now=START - 24 * H))
        # the index is: equality first, then the state ($in), then the range (start)
        assert keys == ["status", f"reminders.{kind}.state", "start"]
        assert isinstance(query["status"], str)                         # equality
        assert set(query[keys[1]]) == {"$in"}                           # a few point ranges
        assert set(query["start"]) == {"$gt", "$lte"}                  # the range
        # the only field the index does not bound is the claim expiry (in-flight claims only)
        assert set(query) - set(keys) == {f"reminders.{kind}.claim_until"}
    assert [k for k in jobs.reminders.kinds] == (["24h", "2h"] if second else ["24h"])


async def test_sweep_query_plan_on_real_mongodb(make_jobs: Any, sync_store: MongoStore,
                                                doctor: object, patients: list[User]) -> None:
    jobs: Jobs = make_jobs()
    await jobs.prepare()
    for i in range(50):
        make_booking(sync_store, start=START + timedelta(minutes=i), created=START - 72 * H)
    now = START - 23 * H
    due = store_reminders.find_due(sync_store, "24h", after=now - 24 * H, until=now + 24 * H,
                                   now=now, limit=1000)
    assert len(due) == 50   # the query itself finds exactly what it should, on both stores
    if sync_store.is_mock:
        # mongomock has no planner: the index declaration is what the test above checks
        assert "reminder_sweep_24h" in sync_store.bookings.index_information()
        return
    plan = store_reminders.explain_due(sync_store, "24h", after=now - 24 * H,
                                       until=now + 24 * H, now=now)
    stages = _stages(plan["queryPlanner"]["winningPlan"])
    names = [s.get("stage") for s in stages]
    assert "COLLSCAN" not in names
    scans = [s for s in stages if s.get("stage") == "IXSCAN"]
    assert scans and all(s["indexName"] == "reminder_sweep_24h" for s in scans)
    bounds = scans[0]["indexBounds"]
    assert set(bounds) == {"status", "reminders.24h.state", "start"}
    assert bounds["status"] == ['["confirmed", "confirmed"]']
