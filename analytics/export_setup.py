"""In a scheduler process: the daily BigQuery export, when BIGQUERY_PROJECT is set."""

from __future__ import annotations

from aiohttp import web

from analytics.bigquery_export import export_job
from app.keys import SETTINGS
from app.periodic import DailyJob, add_daily_job


def setup(app: web.Application) -> None:
    if app[SETTINGS].bigquery_project:
        # 19:00 UTC = 02:00 WIB: after the clinics close, before the analysts start
        add_daily_job(app, DailyJob("bigquery_export", export_job, hour_utc=19))
