"""Daily jobs that packages other than the scheduler own (the BigQuery export), registered
during role set-up and run by the scheduler role: the process layer wires them, so the
scheduler imports no other role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True, slots=True)
class DailyJob:
    name: str
    run: Callable[[web.Application], Awaitable[Any]]
    hour_utc: int
    minute: int = 0


DAILY_JOBS = web.AppKey("daily_jobs", list[DailyJob])


def add_daily_job(app: web.Application, job: DailyJob) -> None:
    app.setdefault(DAILY_JOBS, []).append(job)
