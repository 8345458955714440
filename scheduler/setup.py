"""Scheduler role: an APScheduler 3 AsyncIOScheduler started with the app, stopped with it.

It runs the periodic jobs of scheduler/jobs.py, the outbox dispatch of this process's
notifier, and the daily jobs other packages register with `app.periodic.add_daily_job`
(wired by app/roles.py, so the scheduler imports no other role)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, timedelta

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.keys import SERVICE, SETTINGS, STORE, WAITLIST
from app.metrics import OUTBOX_BACKLOG
from app.periodic import DAILY_JOBS
from notify.runtime import NOTIFIER
from scheduler.jobs import Dispatcher, DispatchJob, Jobs

log = logging.getLogger(__name__)

SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
JOBS = web.AppKey("scheduler_jobs", Jobs)  # tests and tools call the jobs directly
# Another outbox dispatcher for this scheduler, set before start-up (tests, tools); default:
# the process's notifier.
DISPATCHER = web.AppKey("scheduler_dispatcher", Dispatcher)


BACKLOG_SECONDS = 60        # how often the outbox backlog gauge is measured
BACKLOG_GRACE = timedelta(minutes=1)


async def measure_backlog(app: web.Application) -> int:
    """Set klinik_outbox_backlog (alerted on in production): entries overdue by a minute."""
    now = app[SERVICE].clock()
    count = await app[STORE].outbox.count_overdue(now - BACKLOG_GRACE)
    OUTBOX_BACKLOG.set(count)
    return count


HANDOFF_SWEEP_SECONDS = 60  # timeouts of handoffs and the klinik_handoffs_open gauge


async def sweep_handoffs(app: web.Application) -> int:
    """Give back to the bot the handoffs whose HANDOFF_TIMEOUT_HOURS passed (the patient is
    told), and set klinik_handoffs_open (alerted on in production)."""
    desk = app[NOTIFIER].handoffs
    expired = await desk.expire_due()
    await desk.measure()
    return expired


WAITLIST_SWEEP_SECONDS = 30  # expired waitlist offers pass to the next patient


async def sweep_waitlist(app: web.Application) -> int:
    return await app[WAITLIST].expire_due()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(scheduler_ctx)


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Runs after the core and the notifier are open; stops before they close."""
    settings = app[SETTINGS]
    dispatcher = app.get(DISPATCHER) or app[NOTIFIER].dispatcher
    dispatch = DispatchJob(dispatcher, base=timedelta(seconds=settings.outbox_dispatch_seconds))
    jobs = Jobs(settings, app[STORE], app[SERVICE], dispatch=dispatch)
    await jobs.prepare()
    scheduler = AsyncIOScheduler(timezone=UTC)
    names = jobs.register(scheduler)
    for job in app.get(DAILY_JOBS, []):
        scheduler.add_job(job.run, "cron", hour=job.hour_utc, minute=job.minute, args=[app],
                          id=job.name, coalesce=True, replace_existing=True)
        names.append(job.name)
    scheduler.add_job(measure_backlog, "interval", seconds=BACKLOG_SECONDS, args=[app],
                      id="outbox_backlog", coalesce=True, replace_existing=True)
    names.append("outbox_backlog")
    scheduler.add_job(sweep_handoffs, "interval", seconds=HANDOFF_SWEEP_SECONDS, args=[app],
                      id="handoff_sweep", coalesce=True, replace_existing=True)
    names.append("handoff_sweep")
    scheduler.add_job(sweep_waitlist, "interval", seconds=WAITLIST_SWEEP_SECONDS, args=[app],
                      id="waitlist_sweep", coalesce=True, replace_existing=True)
    names.append("waitlist_sweep")
    scheduler.start()
    app[SCHEDULER] = scheduler
    app[JOBS] = jobs
    log.info("scheduler started: %s", ", ".join(names))
    try:
        yield
    finally:
        await jobs.stop()
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # let the scheduler's own shutdown callback run on this loop
        log.info("scheduler stopped")
