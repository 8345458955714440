"""Bot role: the Wati webhook, the gateway's workers (Rasa bridge, replies) and manual
sends. Replies and notifications leave through the process's notifier (notify/)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from app.http.auth import EXPORT_LINK_HOURS, issue_export_token
from app.keys import COORDINATOR, SANDBOX, SERVICE, SETTINGS, STORE, WAITLIST
from app.settings import Settings
from booking.models import User
from booking.privacy import PrivacyService
from booking.store import Store
from booking.store_chat import ChatStore
from booking.token_revocations import Revocations
from bot.choices import Choices
from bot.gateway import Gateway
from bot.inbox import Inbox
from bot.manual_send import SEND_PATH, ManualSend, admin_only
from bot.privacy import ExportMailer, WhatsAppPrivacy
from bot.rasa_bridge import RasaBridge
from bot.retrain.inbox import InboxFeeder, inbox_key
from bot.webhook import WEBHOOK_PATH, WebhookHandler
from notify.dispatcher import OutboxDispatcher
from notify.parked import ParkedStatuses
from notify.rules import data_export_entry
from notify.runtime import NOTIFIER
from notify.whatsapp import WatiClient
from sandbox import WatiSandbox

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BotRuntime:
    session: aiohttp.ClientSession
    chat: ChatStore
    wati: WatiClient
    rasa: RasaBridge
    gateway: Gateway
    inbox: Inbox
    dispatcher: OutboxDispatcher
    webhook: WebhookHandler
    manual: ManualSend
    sandbox: WatiSandbox | None = None  # the local Wati stand-in on the embedded default


RUNTIME = web.AppKey("bot_runtime", BotRuntime)


def runtime(app: web.Application) -> BotRuntime:
    return app[RUNTIME]


async def _webhook(request: web.Request) -> web.StreamResponse:
    return await runtime(request.app).webhook(request)


async def _manual(request: web.Request) -> web.StreamResponse:
    return await runtime(request.app).manual(request)


def setup(app: web.Application) -> None:
    app.router.add_post(WEBHOOK_PATH, _webhook)
    app.router.add_post(SEND_PATH, admin_only(_manual))
    app.cleanup_ctx.append(bot_ctx)


def export_mailer(settings: Settings, store: Store) -> ExportMailer:
    """"data saya" on WhatsApp: the download link goes to the account's e-mail (outbox)."""
    async def mail(user: User, lang: str) -> int | None:
        if not user.email:
            return None
        link = (f"{settings.public_base}/me/data/download?token="
                f"{issue_export_token(settings, user, EXPORT_LINK_HOURS)}")
        await store.outbox.enqueue([data_export_entry(user, link, EXPORT_LINK_HOURS,
                                                      lang).to_doc()])
        return EXPORT_LINK_HOURS
    return mail


async def bot_ctx(app: web.Application) -> AsyncIterator[None]:
    settings, store, coordinator = app[SETTINGS], app[STORE], app[COORDINATOR]
    notifier = app[NOTIFIER]
    chat = store.chat
    await chat.ensure_indexes()
    rasa = RasaBridge(notifier.session, settings.rasa_replica_urls,
                      settings.rasa_token.get_secret_value())
    redis = coordinator.redis  # a bounded blocking pool (booking.locks.redis_client)
    rights = PrivacyService(store, app[SERVICE], Revocations(redis, coordinator.ns),
                            settings.access_token_minutes * 60 + 120)
    privacy = WhatsAppPrivacy(store, rights, redis, coordinator.ns,
                              chat_retention_days=settings.chat_retention_days,
                              privacy_url=f"{settings.public_base}/privacy",
                              web_url=f"{settings.public_base}/app/",
                              mail_export=export_mailer(settings, store))
    gateway = Gateway(store=store, service=app[SERVICE], wati=notifier.wati, rasa=rasa,
                      choices=Choices(redis, coordinator.ns),
                      parked=ParkedStatuses(redis, coordinator.ns),
                      nlu_inbox=InboxFeeder(store, inbox_key(settings)),
                      handoffs=notifier.handoffs, waitlist=app[WAITLIST], privacy=privacy)
    inbox = Inbox(chat, redis, coordinator.ns, gateway.handle)
    app[RUNTIME] = BotRuntime(
        session=notifier.session, chat=chat, wati=notifier.wati, rasa=rasa, gateway=gateway,
        inbox=inbox, dispatcher=notifier.dispatcher,
        webhook=WebhookHandler(inbox, settings.wati_webhook_token.get_secret_value()),
        manual=ManualSend(store, notifier.dispatcher), sandbox=app.get(SANDBOX))
    try:
        await inbox.recover()
        inbox.start()
        yield
    finally:
        await inbox.stop()


__all__ = ["RUNTIME", "BotRuntime", "runtime", "setup"]
