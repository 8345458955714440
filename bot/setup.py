"""Bot role: the Wati webhook, the gateway's workers, manual sends and, on the embedded
default (no WATI_API_URL), the local Wati sandbox the app sends to."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from app.keys import COMPONENTS, COORDINATOR, SERVICE, SETTINGS, STORE
from booking.store_chat import ChatStore
from bot.choices import Choices
from bot.dispatcher import (
    CLOSERS,
    SANDBOX_URL,
    OutboxDispatcher,
    RetryPolicy,
    hook_cleanup,
)
from bot.gateway import Gateway
from bot.inbox import Inbox
from bot.mailer import Mailer
from bot.manual_send import SEND_PATH, ManualSend, admin_only
from bot.rasa_bridge import RasaBridge
from bot.statuses import ParkedStatuses
from bot.wati_client import WatiClient
from bot.webhook import WEBHOOK_PATH, WebhookHandler

log = logging.getLogger(__name__)

RUNTIME = "bot"  # app[COMPONENTS]["bot"] -> BotRuntime


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
    sandbox: object | None = None  # sandbox.WatiSandbox on the embedded default


def runtime(app: web.Application) -> BotRuntime:
    rt: BotRuntime = app[COMPONENTS][RUNTIME]
    return rt


async def _webhook(request: web.Request) -> web.StreamResponse:
    return await runtime(request.app).webhook(request)


async def _manual(request: web.Request) -> web.StreamResponse:
    return await runtime(request.app).manual(request)


def setup(app: web.Application) -> None:
    app.router.add_post(WEBHOOK_PATH, _webhook)
    app.router.add_post(SEND_PATH, admin_only(_manual))
    app.cleanup_ctx.append(bot_ctx)
    hook_cleanup(app)  # dispatchers built later (scheduler role) close with the app


async def bot_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    coordinator = app[COORDINATOR]
    chat = ChatStore(app[STORE])
    await chat.ensure_indexes()
    sandbox = None
    url = settings.wati_api_url
    if url is None:
        from sandbox import WatiSandbox

        host = "127.0.0.1" if settings.app_host in ("0.0.0.0", "::", "") else settings.app_host  # noqa: S104
        hook = (f"http://{host}:{settings.app_port}{WEBHOOK_PATH}"
                f"?token={settings.wati_webhook_token.get_secret_value()}")
        sandbox = WatiSandbox(token=settings.wati_api_token.get_secret_value(),
                              webhook_url=hook, port=settings.wati_sandbox_port)
        try:
            await sandbox.start()
        except OSError as exc:
            raise RuntimeError(f"cannot start the local Wati sandbox on port "
                               f"{settings.wati_sandbox_port} ({exc.strerror}): set "
                               "WATI_SANDBOX_PORT to a free port, or WATI_API_URL") from exc
        url = sandbox.url
        app[COMPONENTS][SANDBOX_URL] = url
        log.info("no WATI_API_URL: local Wati sandbox started; chat with the bot at %s/", url)
    # opened only once nothing above can fail, so a failed start leaks no session
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))
    wati = WatiClient(session, url, settings.wati_api_token.get_secret_value(),
                      version=settings.wati_api_version)
    rasa = RasaBridge(session, settings.rasa_replica_urls, settings.rasa_token.get_secret_value())
    redis = coordinator.redis  # a bounded blocking pool (booking.locks.redis_client)
    parked = ParkedStatuses(redis, coordinator.ns)
    gateway = Gateway(store=app[STORE], chat=chat, service=app[SERVICE], wati=wati, rasa=rasa,
                      choices=Choices(redis, coordinator.ns), parked=parked)
    inbox = Inbox(chat, redis, coordinator.ns, gateway.handle)
    dispatcher = OutboxDispatcher(
        chat, wati, Mailer.from_settings(settings),
        parked=parked, policy=RetryPolicy(max_attempts=settings.outbox_max_attempts))
    app[COMPONENTS][RUNTIME] = BotRuntime(
        session=session, chat=chat, wati=wati, rasa=rasa, gateway=gateway, inbox=inbox,
        dispatcher=dispatcher,
        webhook=WebhookHandler(inbox, settings.wati_webhook_token.get_secret_value()),
        manual=ManualSend(chat, dispatcher), sandbox=sandbox)
    try:
        await inbox.recover()
        inbox.start()
        yield
    finally:
        await inbox.stop()
        if sandbox is not None:
            await sandbox.stop()
        await session.close()
        app[COMPONENTS].pop(RUNTIME, None)


__all__ = ["CLOSERS", "BotRuntime", "runtime", "setup"]
