"""POST /whatsapp/send (admin only): a manual message through the same outbox and client.

Body: {"to": "0812...", "text": "...", "email": optional fallback, "name": optional,
"idempotency_key": optional (a retried request sends once)}. Inside the 24-hour
window it goes out as text; outside, as the reopen template carrying the text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.http.auth import requires
from booking.errors import InvalidPhoneNumber
from booking.phone import normalise_whatsapp
from booking.store import Store
from notify.dispatcher import OutboxDispatcher
from notify.outbox import Kind, OutboxEntry

log = logging.getLogger(__name__)

SEND_PATH = "/whatsapp/send"
TEXT_MAX = 4096
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def admin_only(handler: Handler) -> Handler:
    """Admins only (a JWT of an admin or the static admin token): the shared role check."""
    return requires("admin")(handler)


def _bad(message: str) -> web.Response:
    return web.json_response({"error": "invalid_input", "details": {"message": message}},
                             status=400)


class ManualSend:
    def __init__(self, store: Store, dispatcher: OutboxDispatcher) -> None:
        self.chat = store.chat
        self.outbox = store.outbox
        self.dispatcher = dispatcher

    async def __call__(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return _bad("body must be JSON")
        if not isinstance(body, dict):
            return _bad("body must be a JSON object")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > TEXT_MAX:
            return _bad(f"text is required (1..{TEXT_MAX} characters)")
        try:
            to = normalise_whatsapp(str(body.get("to") or ""))
        except InvalidPhoneNumber as exc:
            return _bad(str(exc))
        email = body.get("email") if isinstance(body.get("email"), str) else None
        key = body.get("idempotency_key")
        key = str(key)[:100] if key else uuid.uuid4().hex
        contact = await self.chat.contact(to)
        name = str(body.get("name") or (contact or {}).get("name") or "")[:60]
        entry = OutboxEntry(kind=Kind.manual, dedupe_key=f"manual:{key}", to=to, email=email,
                            language=(contact or {}).get("language") or "id", template=None,
                            params={"name": name} if name else {}, text=text.strip())
        created = await self.outbox.enqueue_one(entry.to_doc())
        if created:
            await self.dispatcher.dispatch(entry.id)
        doc = await self.outbox.get_by_key(entry.dedupe_key)
        assert doc is not None
        return web.json_response(_view(doc), status=201 if created else 200)


def _view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "status": doc.get("status"), "mode": doc.get("mode"),
            "template": doc.get("template_used"), "attempts": doc.get("attempts", 0),
            "provider_message_id": doc.get("provider_message_id"),
            "last_error": doc.get("last_error")}
