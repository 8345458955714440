"""The notifier of one process: the Wati client (one HTTP session), the channels in the order
NOTIFY_CHANNELS gives, the dispatcher over the outbox, and the handoff desk. Opened after the
core (store, Redis) and before the roles that send (bot, scheduler, api); closed after them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from aiohttp import web

from app.keys import COORDINATOR, SANDBOX, SETTINGS, STORE
from app.settings import Settings
from booking.store import Store
from notify.channels import Channel, EmailChannel, WhatsAppChannel
from notify.dispatcher import OutboxDispatcher
from notify.email import Mailer
from notify.handoff import HandoffDesk
from notify.outbox import RetryPolicy
from notify.parked import ParkedStatuses
from notify.whatsapp import WatiClient

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Notifier:
    session: aiohttp.ClientSession  # shared by the Wati client and the bot's Rasa bridge
    wati: WatiClient
    dispatcher: OutboxDispatcher
    handoffs: HandoffDesk           # conversations handed to a person (bot, api, scheduler)


NOTIFIER = web.AppKey("notifier", Notifier)


def wati_url(settings: Settings, sandbox_url: str | None) -> str:
    """WATI_API_URL; on the embedded default the local sandbox (started by this process, or
    by the bot process on its fixed port)."""
    return settings.wati_api_url or sandbox_url or \
        f"http://127.0.0.1:{settings.wati_sandbox_port}"


def build_channels(settings: Settings, wati: WatiClient, store: Store) -> list[Channel]:
    by_name: dict[str, Channel] = {
        "whatsapp": WhatsAppChannel(wati, store.outbox, store.chat),
        "email": EmailChannel(Mailer.from_settings(settings)),
    }
    return [by_name[name] for name in settings.notify_channel_names]


async def notify_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, store, coordinator = app[SETTINGS], app[STORE], app[COORDINATOR]
    await store.outbox.ensure_indexes()
    await store.handoffs.ensure_indexes()
    sandbox = app.get(SANDBOX)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    wati = WatiClient(session, wati_url(settings, sandbox.url if sandbox else None),
                      settings.wati_api_token.get_secret_value(),
                      version=settings.wati_api_version)
    dispatcher = OutboxDispatcher(
        store.outbox, build_channels(settings, wati, store),
        parked=ParkedStatuses(coordinator.redis, coordinator.ns),
        policy=RetryPolicy(max_attempts=settings.outbox_max_attempts))
    handoffs = HandoffDesk(store, wati, operator_email=settings.handoff_operator_email,
                           timeout=timedelta(hours=settings.handoff_timeout_hours),
                           dispatcher=dispatcher)
    app[NOTIFIER] = Notifier(session, wati, dispatcher, handoffs)
    try:
        yield
    finally:
        await session.close()
