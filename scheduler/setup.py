"""Scheduler role: an APScheduler 3 AsyncIOScheduler started with the app, stopped with it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.keys import COMPONENTS, SERVICE, SETTINGS, STORE
from app.metrics import OUTBOX_BACKLOG
from scheduler.jobs import DispatchJob, Jobs

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"     # COMPONENTS entry: the AsyncIOScheduler
JOBS = "scheduler_jobs"     # COMPONENTS entry: the Jobs (tests and tools call them directly)
# COMPONENTS entry a deployment (or a test) may set before start-up to plug in another outbox
# dispatcher: an async factory(app) -> object with run_once(*, limit) -> int.
DISPATCHER_FACTORY = "outbox_dispatcher_factory"


BACKLOG_SECONDS = 60        # how often the outbox backlog gauge is measured
BACKLOG_GRACE = timedelta(minutes=1)


async def measure_backlog(app: web.Application) -> int:
    """Set klinik_outbox_backlog (alerted on in production): entries overdue by a minute."""
    from booking.store_chat import count_overdue

    now = app[SERVICE].clock()
    count: int = await app[STORE].run(count_overdue, app[STORE].sync, now - BACKLOG_GRACE)
    OUTBOX_BACKLOG.set(count)
    return count


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(scheduler_ctx)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Runs after the core context (store, service) is open; stops before it closes."""
    settings = app[SETTINGS]
    dispatch = await DispatchJob.build(
        app, base=timedelta(seconds=settings.outbox_dispatch_seconds),
        factory=app[COMPONENTS].get(DISPATCHER_FACTORY))
    jobs = Jobs(settings, app[STORE], app[SERVICE], dispatch=dispatch)
    await jobs.prepare()
    scheduler = AsyncIOScheduler(timezone=UTC)
    names = jobs.register(scheduler)
    if settings.bigquery_project:
        from analytics.bigquery_export import export_job

        # daily, 02:00 WIB: after the clinics close, before the analysts start
        scheduler.add_job(export_job, "cron", hour=19, minute=0, args=[app],
                          id="bigquery_export", coalesce=True, replace_existing=True)
        names.append("bigquery_export")
    scheduler.add_job(measure_backlog, "interval", seconds=BACKLOG_SECONDS, args=[app],
                      id="outbox_backlog", coalesce=True, replace_existing=True)
    names.append("outbox_backlog")
    scheduler.start()
    app[COMPONENTS][SCHEDULER] = scheduler
    app[COMPONENTS][JOBS] = jobs
    log.info("scheduler started: %s", ", ".join(names))
    try:
        yield
    finally:
        await jobs.stop()
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # let the scheduler's own shutdown callback run on this loop
        log.info("scheduler stopped")
