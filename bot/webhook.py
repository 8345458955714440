"""POST /whatsapp/webhook: authenticate (?token=, constant time), parse leniently, persist,
answer 200 at once; the inbox processes the event after the response."""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from app.metrics import WEBHOOKS
from booking.errors import StoreUnavailable
from bot.inbox import Inbox
from bot.payloads import Action, WatiEvent, classify

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/whatsapp/webhook"


def token_ok(given: str | None, expected: str) -> bool:
    return hmac.compare_digest((given or "").encode(), expected.encode())


def known_fields(event: WatiEvent) -> dict[str, Any]:
    """Only the fields we model are persisted (no attacker-chosen keys in Mongo)."""
    return event.model_dump(exclude=set(event.model_extra or {}), exclude_none=True)


class WebhookHandler:
    def __init__(self, inbox: Inbox, token: str) -> None:
        self.inbox = inbox
        self.token = token

    async def __call__(self, request: web.Request) -> web.Response:
        if not token_ok(request.query.get("token"), self.token):
            WEBHOOKS.labels(outcome="unauthorized").inc()
            log.warning("webhook rejected: missing or wrong token")
            return web.json_response({"error": "unauthorized"}, status=401)
        received_at = datetime.now(UTC)
        try:
            raw = await request.json()
            event = WatiEvent.model_validate(raw)
        except (ValueError, ValidationError):
            # Malformed: answering an error would only make Wati retry it for a day.
            WEBHOOKS.labels(outcome="invalid").inc()
            return web.json_response({"status": "ignored"})
        classified = classify(event)
        if classified.action in (Action.echo, Action.ignore):
            WEBHOOKS.labels(outcome=classified.action.value).inc()
            return web.json_response({"status": classified.action.value})
        try:
            outcome = await self.inbox.accept(event, classified, known_fields(event),
                                              received_at)
        except StoreUnavailable:
            WEBHOOKS.labels(outcome="unavailable").inc()
            # Not persisted: a 503 makes Wati deliver it again later.
            return web.json_response({"error": "unavailable"}, status=503)
        WEBHOOKS.labels(outcome=outcome).inc()
        return web.json_response({"status": outcome})
