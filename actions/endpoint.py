"""The actions role: Rasa's custom-action webhook, served by the app itself.

`POST /webhook/actions` runs rasa_sdk's ActionExecutor in the app's event loop with the
app's own booking service (`app[SERVICE]`), so the embedded default shares one process
and one store with the API. It is served on the internal listener only (app/internal.py),
never on the public port, and every call must carry `Authorization: Bearer
<ACTIONS_TOKEN>` (Rasa sends it from endpoints.yml): anything else is refused with 401
before the body is read, because an action runs as whichever WhatsApp sender the body
names. Error statuses follow rasa_sdk's own endpoint: 400 for a rejected action (forms
rely on it), 404 for an unknown action, 449 without a domain.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson
from aiohttp import web
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

from actions import context
from app.internal import bearer_ok, internal_app, unauthorized
from app.keys import SERVICE, SETTINGS

log = logging.getLogger(__name__)

ACTION_MODULES = ("actions.forms", "actions.asking", "actions.flows")
WEBHOOK_PATH = "/webhook/actions"
EXECUTOR = web.AppKey("actions_executor", ActionExecutor)


def build_executor() -> ActionExecutor:
    executor = ActionExecutor()
    for module in ACTION_MODULES:
        executor.register_package(module)
    return executor


async def webhook(request: web.Request) -> web.Response:
    if not bearer_ok(request, request.app[SETTINGS].actions_token.get_secret_value()):
        log.warning("actions call refused: missing or wrong token")
        return unauthorized()
    try:
        # orjson: Rasa's calls carry the conversation (50-90 KB); 2.5x faster than json here
        action_call: Any = orjson.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError):  # orjson's error is a JSONDecodeError
        return web.json_response({"error": "invalid JSON body"}, status=400)
    if not isinstance(action_call, dict):
        return web.json_response({"error": "invalid body"}, status=400)
    token = context.use(request.app[SERVICE])
    try:
        result = await request.app[EXECUTOR].run(action_call)
    except ActionExecutionRejection as exc:
        log.debug("action rejected: %s", exc.action_name)
        return web.json_response({"error": exc.message, "action_name": exc.action_name},
                                 status=400)
    except ActionNotFoundException as exc:
        log.error("unknown action %s", exc.action_name)
        return web.json_response({"error": exc.message, "action_name": exc.action_name},
                                 status=404)
    except ActionMissingDomainException as exc:
        return web.json_response({"error": exc.message, "action_name": exc.action_name},
                                 status=449)
    finally:
        context.reset(token)
    return web.json_response(result.model_dump() if result else None)


async def list_actions(request: web.Request) -> web.Response:
    if not bearer_ok(request, request.app[SETTINGS].actions_token.get_secret_value()):
        return unauthorized()
    return web.json_response([{"name": n} for n in sorted(request.app[EXECUTOR].actions)])


def mount(app: web.Application, path: str = WEBHOOK_PATH) -> None:
    """Mount the executor on `app`; the service comes from the app once it has started."""
    app[EXECUTOR] = build_executor()
    app.router.add_post(path, webhook)
    app.router.add_get(path, list_actions)


def setup(app: web.Application) -> None:
    """The actions role: on the internal listener, not on the public app."""
    mount(internal_app(app))
