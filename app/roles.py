"""Role wiring: each function adds one role's routes and background work to the app.

Later packages fill these in; a role with nothing to run yet adds nothing.
"""

from __future__ import annotations

from aiohttp import web


def setup_api(app: web.Application) -> None:
    """REST API for web and mobile clients (api/)."""


def setup_actions(app: web.Application) -> None:
    """Rasa custom actions endpoint (actions/)."""


def setup_bot(app: web.Application) -> None:
    """WhatsApp gateway: Wati webhook, Rasa bridge (bot/)."""


def setup_scheduler(app: web.Application) -> None:
    """Reminders, outbox dispatch (scheduler/)."""
