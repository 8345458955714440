"""The embedded default's stand-ins that run beside the app: with no WATI_API_URL, the local
Wati sandbox (it speaks Wati's API and posts webhooks back to this app), started before
the notifier so everything that sends reaches it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from app.keys import SANDBOX, SETTINGS

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/whatsapp/webhook"  # the bot role's route (bot/webhook.py)


async def sandbox_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.wati_api_url is not None:
        yield
        return
    from sandbox import WatiSandbox

    host = "127.0.0.1" if settings.app_host in ("0.0.0.0", "::", "") else settings.app_host  # noqa: S104
    hook = (f"http://{host}:{settings.app_port}{WEBHOOK_PATH}"
            f"?token={settings.wati_webhook_token.get_secret_value()}")
    sandbox = WatiSandbox(token=settings.wati_api_token.get_secret_value(), webhook_url=hook,
                          port=settings.wati_sandbox_port)
    try:
        await sandbox.start()
    except OSError as exc:
        raise RuntimeError(f"cannot start the local Wati sandbox on port "
                           f"{settings.wati_sandbox_port} ({exc.strerror}): set "
                           "WATI_SANDBOX_PORT to a free port, or WATI_API_URL") from exc
    app[SANDBOX] = sandbox
    log.info("no WATI_API_URL: local Wati sandbox started; chat with the bot at %s/",
             sandbox.url)
    try:
        yield
    finally:
        await sandbox.stop()
