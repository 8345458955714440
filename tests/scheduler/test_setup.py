"""The scheduler role in the app: APScheduler starts with the app, sweeps at once (catch-up),
runs the dispatcher it is given, and stops cleanly with the app."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.main import create_app
from booking.locks import Coordinator
from booking.models import User
from booking.store import MongoStore
from scheduler.jobs import Jobs
from scheduler.setup import DISPATCHER, JOBS, SCHEDULER
from tests.conftest import REDIS_TEST_URL, make_doctor
from tests.scheduler.conftest import make_booking, reminder_docs, scheduler_settings
from tests.scheduler.test_other_jobs import FakeDispatcher


async def _until(check: object, timeout: float = 10.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if check():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.02)
    return False


async def test_scheduler_starts_sweeps_dispatches_and_stops(
        sync_store: MongoStore, coordinator: Coordinator) -> None:
    now = datetime.now(UTC)
    # a reminder missed while the scheduler was down (due an hour ago)
    sync_store.upsert_doctor(make_doctor())
    sync_store.insert_user(User(id="pat-0", name="Pasien", whatsapp="6281200000000"))
    missed = make_booking(sync_store, start=now + timedelta(hours=23),
                          created=now - timedelta(hours=48))
    settings = scheduler_settings(redis_url=REDIS_TEST_URL, redis_namespace=coordinator.ns,
                                  outbox_dispatch_seconds=1, reminder_sweep_seconds=1)
    app = create_app(settings, store=sync_store)
    fake = FakeDispatcher([0] * 100)

    app[DISPATCHER] = fake
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        scheduler = app[SCHEDULER]
        jobs = app[JOBS]
        assert isinstance(scheduler, AsyncIOScheduler) and scheduler.running
        assert isinstance(jobs, Jobs)
        assert {j.id for j in scheduler.get_jobs()} >= {"sweep_reminders", "dispatch_outbox",
                                                         "complete_past", "flush_pending_outbox"}
        # the first sweep runs at start-up: the missed reminder goes out, marked late
        assert await _until(lambda: len(reminder_docs(sync_store)) == 1)
        doc = reminder_docs(sync_store)[0]
        assert doc["booking_id"] == missed.id and doc["reminder"]["late"] is True
        # a booking made now, due in a moment: a later periodic sweep sends it on time
        due_soon = make_booking(sync_store, start=datetime.now(UTC) + timedelta(
            hours=24, seconds=1), created=datetime.now(UTC) - timedelta(seconds=1),
            patient_id="pat-0")
        assert await _until(lambda: len(reminder_docs(sync_store)) == 2)
        doc = next(d for d in reminder_docs(sync_store) if d["booking_id"] == due_soon.id)
        assert doc["reminder"]["late"] is False
        assert await _until(lambda: len(fake.calls) >= 1)   # the dispatcher runs every second
        assert "reminder_sweep_24h" in sync_store.bookings.index_information()
    finally:
        await runner.cleanup()
    await asyncio.sleep(0)
    assert not scheduler.running
    assert jobs.stopping and not jobs._running
    assert fake.closed == 1  # the dispatcher's resources are released with the scheduler
    calls = len(fake.calls)
    await asyncio.sleep(1.2)
    assert len(fake.calls) == calls  # nothing runs after the stop


async def test_daily_bigquery_export_is_scheduled_only_when_configured(
        sync_store: MongoStore, coordinator: Coordinator) -> None:
    for project, expected in ((None, False), ("klinik-analytics", True)):
        settings = scheduler_settings(redis_url=REDIS_TEST_URL, redis_namespace=coordinator.ns,
                                      bigquery_project=project)
        app = create_app(settings, store=sync_store)

        app[DISPATCHER] = FakeDispatcher([0] * 10)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            job = app[SCHEDULER].get_job("bigquery_export")
            assert (job is not None) is expected
            if job is not None:
                assert str(job.trigger) == "cron[hour='19', minute='0']"
        finally:
            await runner.cleanup()
