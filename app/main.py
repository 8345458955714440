"""App factory and entry point: one process hosts the roles it is given."""

from __future__ import annotations

import argparse
import logging
import logging.config

from aiohttp import web

from app import privacy_page, readiness, web_security
from app.context import PRESET_STORE, core_ctx
from app.internal import INTERNAL_APP, internal_ctx, new_internal_app
from app.keys import SETTINGS
from app.logsafety import install_filters
from app.settings import Settings, SettingsError, load_settings
from app.standins import sandbox_ctx
from booking.store import MongoStore

log = logging.getLogger(__name__)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(settings: Settings, *, store: MongoStore | None = None) -> web.Application:
    install_filters()  # secrets in query strings never reach a log line
    app = web.Application(client_max_size=256 * 1024)
    app[SETTINGS] = settings
    if store is not None:
        app[PRESET_STORE] = store
    app[INTERNAL_APP] = new_internal_app()
    app.cleanup_ctx.append(core_ctx)
    if settings.role_set & {"bot", "scheduler", "api"}:  # the roles that send (api: staff)
        from notify.runtime import notify_ctx

        if "bot" in settings.role_set:
            app.cleanup_ctx.append(sandbox_ctx)  # before the notifier: it sends there
        app.cleanup_ctx.append(notify_ctx)
    app.router.add_get("/health", health)
    privacy_page.setup(app)  # linked from the WhatsApp first-contact notice
    if "api" not in settings.role_set:  # the api role serves its documented /ready
        app.router.add_get("/ready", readiness.ready)
    from app.roles import setup_role

    for role in sorted(settings.role_set):
        setup_role(app, role)
    web_security.install(app)
    app.cleanup_ctx.append(internal_ctx)  # last: roles have added their internal routes
    return app


def configure_logging(level: str) -> None:
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"level": level, "handlers": ["console"]},
        # every job run is logged at INFO by APScheduler: keep its warnings only
        "loggers": {"apscheduler": {"level": "WARNING"}},
    })


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Klinik WhatsApp assistant app")
    parser.add_argument("--roles", help="override ROLES, e.g. api,bot,actions")
    args = parser.parse_args(argv)
    overrides = {"roles": args.roles} if args.roles else {}
    settings = load_settings(**overrides)
    problems = settings.data_protection_problems()
    if problems:
        raise SettingsError("refusing to start in production mode:\n"
                            + "\n".join(f"  {p}" for p in problems))
    configure_logging(settings.log_level)
    for warning in settings.transport_warnings():
        log.warning("UNENCRYPTED TRANSPORT: %s", warning)
    if settings.app_workers > 1:
        from app import workers

        workers.check(settings)
        raise SystemExit(workers.run(settings, overrides))
    serve(settings)


def serve(settings: Settings, *, reuse_port: bool = False, worker: int | None = None) -> None:
    """Run one app process until it is stopped."""
    if worker is not None:
        configure_logging(settings.log_level)
    log.info("starting roles=%s embedded=%s%s", settings.roles, settings.embedded,
             f" worker={worker}" if worker is not None else "")
    from app.logsafety import RedactingAccessLogger

    web.run_app(create_app(settings), host=settings.app_host, port=settings.app_port,
                print=None, access_log_class=RedactingAccessLogger, reuse_port=reuse_port)
