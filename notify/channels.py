"""The ways a notification reaches someone, behind one protocol.

A channel sends one outbox entry and says how it went: `Sent` (with the fields to record on
the entry), `Deferred` (not now, and not an attempt: the WhatsApp channel waits a few
seconds for the bot's chat reply that may already have told the patient), or it raises
`TransientError` (try again later) or `PermanentError` (this channel will never deliver it:
the dispatcher moves on to the next channel). Adding SMS is one class here and one name in
NOTIFY_CHANNELS.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from booking.phone import mask_phone
from booking.store_chat import ChatStore
from booking.store_outbox import OutboxStatus, OutboxStore
from notify import window
from notify.email import Mailer, MailError, MailRejected
from notify.outbox import OutboxEntry
from notify.texts import GREETING_NAME, REOPEN_MESSAGE_MAX, SUBJECTS, render
from notify.whatsapp import WatiClient, WatiError, WatiRejected
from notify.whatsapp_messages import truncate

log = logging.getLogger(__name__)


class TransientError(Exception):
    """Worth another attempt later (an outage, a rate limit)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """This channel will not deliver this entry (refused, unknown recipient)."""


@dataclass(frozen=True, slots=True)
class Sent:
    status: OutboxStatus                       # what the entry becomes (sent, emailed)
    fields: dict[str, Any] = field(default_factory=dict)  # recorded on the entry
    provider_ids: tuple[str, ...] = ()         # ids delivery statuses will carry
    note: str = ""                             # for the log line


@dataclass(frozen=True, slots=True)
class Deferred:
    until: datetime                            # come back then; not counted as an attempt


class Channel(Protocol):
    name: str             # recorded as the entry's channel
    attempts_field: str   # where this channel's attempts are counted on the entry

    def can_deliver(self, entry: OutboxEntry) -> bool: ...

    async def send(self, entry: OutboxEntry, token: str, now: datetime) -> Sent | Deferred: ...


def lang_of(entry: OutboxEntry) -> str:
    return entry.language if entry.language in ("id", "en") else "id"


class WhatsAppChannel:
    """Wati: session text inside the patient's 24-hour window, the approved template outside
    it; a booking event the bot's chat reply already told is recorded as sent by that
    message instead of being sent again."""

    name = "whatsapp"
    attempts_field = "attempts"

    def __init__(self, wati: WatiClient, outbox: OutboxStore, chat: ChatStore) -> None:
        self.wati = wati
        self.outbox = outbox
        self.chat = chat

    def can_deliver(self, entry: OutboxEntry) -> bool:
        return bool(entry.to)

    async def send(self, entry: OutboxEntry, token: str, now: datetime) -> Sent | Deferred:
        assert entry.to
        contact = await self.chat.contact(entry.to)
        last_inbound = (contact or {}).get("last_inbound_at")
        told = await self._told_in_chat(entry, last_inbound, now)
        if told is not None:
            return told
        lang = lang_of(entry)
        decision = window.choose(last_inbound, now, template=entry.template or entry.kind.value,
                                 language=lang)
        try:
            if decision.mode == window.Mode.session:
                text = entry.text or render(entry.kind.value, lang, entry.params)
                result = await self.wati.send_text(entry.to, text)
                provider_id = result.message_id
            else:
                assert decision.template
                params = template_params(entry, contact, lang, decision.template)
                # Our local id is known before sending: store it first, so status webhooks
                # that beat the response still find the entry.
                await self.outbox.mark_sending(entry.id, token, {"provider_message_id": entry.id})
                result = await self.wati.send_template(
                    entry.to, decision.template, params,
                    broadcast_name=f"{entry.kind.value}_{now:%Y%m%d}",
                    local_message_id=entry.id)
                provider_id = result.message_id or entry.id
        except WatiRejected as exc:
            raise PermanentError(f"rejected: {exc}") from exc
        except WatiError as exc:
            raise TransientError(str(exc), exc.retry_after) from exc
        return Sent(OutboxStatus.sent, {
            "provider_message_id": provider_id, "provider_ids": list(result.ids),
            "sent_at": now, "mode": decision.mode.value, "template_used": decision.template,
            "last_error": None}, tuple(i for i in (provider_id, *result.ids) if i),
            note=f"to {mask_phone(entry.to)} as {decision.mode.value}")

    async def _told_in_chat(self, entry: OutboxEntry, last_inbound: datetime | None,
                            now: datetime) -> Sent | Deferred | None:
        """The bot's chat reply that carried the booking code stands in for this entry (its
        status webhooks then update this entry too); within a short grace the entry waits
        for that reply; otherwise None: send it."""
        ref = entry.params.get("ref")
        if entry.kind.value not in window.CHAT_ANSWERED_KINDS or not ref:
            return None
        assert entry.to
        reply = await self.chat.chat_reply_with(entry.to, ref, entry.created_at)
        if reply is not None:
            return Sent(OutboxStatus.sent, {
                "provider_message_id": reply["message_id"], "sent_at": reply["at"],
                "mode": "chat", "last_error": None}, (reply["message_id"],),
                note="already told in the chat")
        wait_until = window.chat_grace_until(entry.kind.value, entry.created_at, last_inbound,
                                             now)
        return Deferred(wait_until) if wait_until is not None else None


def template_params(entry: OutboxEntry, contact: dict[str, Any] | None, lang: str,
                    template: str) -> dict[str, str]:
    params = {k: str(v) for k, v in entry.params.items()}
    name = params.get("name") or (contact or {}).get("name") or GREETING_NAME[lang]
    params["name"] = name
    if template.startswith(window.REOPEN_TEMPLATE):
        text = entry.text or render(entry.kind.value, lang, entry.params)
        return {"name": name, "message": truncate(text, REOPEN_MESSAGE_MAX)}
    return {k: v or "-" for k, v in params.items()}


class EmailChannel:
    """SMTP (STARTTLS and a login outside the embedded default)."""

    name = "email"
    attempts_field = "email_attempts"

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def can_deliver(self, entry: OutboxEntry) -> bool:
        return bool(entry.email)

    async def send(self, entry: OutboxEntry, token: str, now: datetime) -> Sent | Deferred:
        assert entry.email
        lang = lang_of(entry)
        subject = SUBJECTS[lang].get(entry.kind.value, SUBJECTS[lang][""]).format(
            ref=entry.params.get("ref", "")).strip()
        body = entry.text or render(entry.kind.value, lang, entry.params)
        try:
            await self.mailer.send(entry.email, subject, body)
        except MailRejected as exc:
            raise PermanentError(f"email failed: {exc}") from exc
        except MailError as exc:
            raise TransientError(f"email failed: {exc}") from exc
        return Sent(OutboxStatus.emailed, {"emailed_at": now}, note="by email")


CHANNEL_NAMES = ("whatsapp", "email")
