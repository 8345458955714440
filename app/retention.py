"""Retention job (scheduler role): chat logs, webhook payloads, outbox bodies and handoff
transcripts are kept only for the configured periods (CHAT_RETENTION_DAYS,
INBOX_RETENTION_DAYS, OUTBOX_BODY_RETENTION_DAYS, HANDOFF_RETENTION_DAYS; 0 keeps them).
Runs daily at 02:30 WIB; what it removes is in
booking/store_retention.py and docs/data-protection.md."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiohttp import web

from app.keys import SERVICE, SETTINGS, STORE
from app.periodic import DailyJob, add_daily_job
from app.settings import Settings
from booking.store import Store

log = logging.getLogger(__name__)

HOUR_UTC, MINUTE = 19, 30  # 02:30 WIB: the quietest hour of the clinics


async def apply_retention(settings: Settings, store: Store, now: datetime) -> dict[str, int]:
    done: dict[str, int] = {}
    if settings.chat_retention_days:
        done["chat_logs"] = await store.retention.purge_chat_logs(
            now - timedelta(days=settings.chat_retention_days))
    if settings.inbox_retention_days:
        done["inbox"] = await store.retention.purge_inbox(
            now - timedelta(days=settings.inbox_retention_days))
    if settings.outbox_body_retention_days:
        done["outbox_bodies"] = await store.retention.purge_outbox_bodies(
            now - timedelta(days=settings.outbox_body_retention_days), now)
    if settings.handoff_retention_days:
        done["handoff_transcripts"] = await store.retention.purge_handoff_transcripts(
            now - timedelta(days=settings.handoff_retention_days), now)
    return done


async def run(app: web.Application) -> dict[str, int]:
    done = await apply_retention(app[SETTINGS], app[STORE], app[SERVICE].clock())
    log.info("retention applied: %s", done)
    return done


def setup(app: web.Application) -> None:
    add_daily_job(app, DailyJob("retention", run, hour_utc=HOUR_UTC, minute=MINUTE))
