"""Role wiring: each role's package exposes `setup(app)` that adds its routes and background work.

Imported lazily so a process only loads what it runs (actions pull in rasa_sdk).
"""

from __future__ import annotations

import importlib

from aiohttp import web

ROLE_MODULES = {
    # REST API, admin analytics and dashboard, NLU review/report for admins
    "api": ("api.setup", "analytics.setup", "bot.retrain.routes"),
    "actions": ("actions.endpoint",),         # Rasa custom actions endpoint
    "bot": ("bot.setup",),                    # WhatsApp gateway: Wati webhook, Rasa bridge
    # reminders, outbox dispatch, and the daily jobs of other packages (BigQuery export,
    # data retention)
    "scheduler": ("scheduler.setup", "analytics.export_setup", "app.retention"),
}


def setup_role(app: web.Application, role: str) -> None:
    for name in ROLE_MODULES[role]:
        importlib.import_module(name).setup(app)
