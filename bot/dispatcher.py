"""Outbox dispatcher: sends due notifications through Wati, with retries and email fallback.

Inside the patient's 24-hour window an entry goes out as session text, outside as its
approved template (bot/window.py decides). Each entry is claimed atomically (one
dispatcher, one send per dedupe key), retried with exponential backoff on transient
failures, and after `max_attempts` failures, a permanent rejection or a failure
reported by webhook it falls back to email; with no email it becomes `dead`
(visible to staff, logged, never dropped silently). The scheduler role runs
`run_once` periodically; tests call it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from app.keys import COMPONENTS, COORDINATOR, SETTINGS, STORE
from app.metrics import OUTBOX
from app.settings import Settings
from booking.notifications import Kind, OutboxEntry, OutboxStatus, reminder_obsolete, render
from booking.phone import mask_phone
from booking.store_chat import ChatStore
from bot import window
from bot.mailer import Mailer, MailError, MailRejected
from bot.render import truncate
from bot.statuses import ParkedStatuses
from bot.wati_client import WatiClient, WatiError, WatiRejected

log = logging.getLogger(__name__)

SUBJECTS = {
    "id": {"booking_confirmation": "Booking dikonfirmasi {ref}",
           "booking_cancelled": "Booking {ref} dibatalkan",
           "booking_rescheduled": "Jadwal booking {ref} berubah",
           "doctor_new_booking": "Pasien baru {ref}",
           "appointment_reminder": "Pengingat jadwal {ref}",
           "schedule_changed": "Jadwal dokter berubah: booking {ref}",
           "account_exists": "Percobaan pendaftaran dengan email Anda",
           "": "Pesan dari klinik"},
    "en": {"booking_confirmation": "Booking confirmed {ref}",
           "booking_cancelled": "Booking {ref} cancelled",
           "booking_rescheduled": "Booking {ref} rescheduled",
           "doctor_new_booking": "New patient {ref}",
           "appointment_reminder": "Appointment reminder {ref}",
           "schedule_changed": "Schedule changed: booking {ref}",
           "account_exists": "A sign-up attempt with your e-mail address",
           "": "A message from the clinic"},
}
GREETING_NAME = {"id": "Bapak/Ibu", "en": "there"}
REOPEN_MESSAGE_MAX = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5          # WhatsApp attempts before the email fallback
    base_s: float = 30.0           # first retry after ~30 s, then 60, 120, ... (jittered)
    max_s: float = 3600.0
    claim_s: float = 120.0         # a crashed dispatcher's claim is taken over after this

    def backoff(self, attempts: int, retry_after: float | None = None) -> timedelta:
        delay = min(self.max_s, self.base_s * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.8, 1.2)  # noqa: S311 (jitter)
        return timedelta(seconds=max(delay, retry_after or 0.0))


class OutboxDispatcher:
    def __init__(self, chat: ChatStore, wati: WatiClient, mailer: Mailer | None, *,
                 parked: ParkedStatuses | None = None, policy: RetryPolicy | None = None,
                 concurrency: int = 8, clock: Callable[[], datetime] = utcnow) -> None:
        self.chat = chat
        self.wati = wati
        self.mailer = mailer
        self.parked = parked
        self.policy = policy or RetryPolicy()
        self.concurrency = concurrency
        self.clock = clock
        self.token = uuid.uuid4().hex
        self._session: aiohttp.ClientSession | None = None
        self.session_per_run = False  # no app cleanup to close a shared session (see build)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- running ---------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _scope(self) -> AsyncIterator[None]:
        if not self.session_per_run:
            yield
            return
        async with aiohttp.ClientSession() as session:
            self.wati.session = session
            yield

    async def run_once(self, *, limit: int = 100) -> int:
        """Send due entries; returns how many were attempted."""
        async with self._scope():
            return await self._run(limit)

    async def _run(self, limit: int) -> int:
        claimed: list[dict[str, Any]] = []
        while len(claimed) < limit:
            now = self.clock()
            doc = await self.chat.claim_due(now, now + timedelta(seconds=self.policy.claim_s),
                                            self.token)
            if doc is None:
                break
            claimed.append(doc)
        if not claimed:
            return 0
        sem = asyncio.Semaphore(self.concurrency)

        async def one(doc: dict[str, Any]) -> None:
            async with sem:
                await self._attempt(doc)

        await asyncio.gather(*(one(d) for d in claimed))
        return len(claimed)

    async def dispatch(self, entry_id: str) -> bool:
        """Send one entry now if it is due (manual sends); False when it is not claimable."""
        async with self._scope():
            return await self._dispatch(entry_id)

    async def _dispatch(self, entry_id: str) -> bool:
        now = self.clock()
        doc = await self.chat.claim_due(now, now + timedelta(seconds=self.policy.claim_s),
                                        self.token, entry_id)
        if doc is None:
            return False
        await self._attempt(doc)
        return True

    async def _attempt(self, doc: dict[str, Any]) -> None:
        data = dict(doc)
        data["id"] = data.pop("_id")
        entry = OutboxEntry.model_validate(data)
        try:
            if await self._skip_obsolete(entry):
                return
            if doc["status"] == OutboxStatus.failed.value:
                await self._fallback(entry, doc, entry.last_error or "whatsapp failed",
                                     count_attempt=False)
            elif doc.get("channel") == "email" or not entry.to:
                await self._fallback(entry, doc, entry.last_error or "no WhatsApp number",
                                     count_attempt=False)
            else:
                await self._whatsapp(entry, doc)
        except Exception:
            # Unexpected (e.g. the store went away): the claim expires and it is retried.
            log.exception("outbox entry %s: attempt aborted", entry.id)

    async def _skip_obsolete(self, entry: OutboxEntry) -> bool:
        """Retire an entry the booking no longer wants (a reminder of a cancelled booking)."""
        if entry.kind != Kind.appointment_reminder or not entry.booking_id:
            return False
        booking = await self.chat.booking_state(entry.booking_id)
        reason = reminder_obsolete(booking, self.clock())
        if reason is None:
            return False
        await self.chat.finish_claim(entry.id, self.token, {
            "status": OutboxStatus.skipped.value, "last_error": reason,
            "skipped_at": self.clock()}, inc_attempts=False)
        OUTBOX.labels(kind=entry.kind.value, channel="none", outcome="skipped").inc()
        log.info("outbox entry %s (%s) not sent: %s", entry.id, entry.kind.value, reason)
        return True

    # ---- WhatsApp ----------------------------------------------------------------------
    async def _whatsapp(self, entry: OutboxEntry, doc: dict[str, Any]) -> None:
        assert entry.to
        contact = await self.chat.contact(entry.to)
        last_inbound = (contact or {}).get("last_inbound_at")
        if await self._answered_in_chat(entry, last_inbound):
            return
        lang = entry.language if entry.language in ("id", "en") else "id"
        decision = window.choose(last_inbound, self.clock(),
                                 template=entry.template or entry.kind.value, language=lang)
        now = self.clock()
        try:
            if decision.mode == window.Mode.session:
                text = entry.text or render(entry.kind.value, lang, entry.params)
                result = await self.wati.send_text(entry.to, text)
                provider_id = result.message_id
            else:
                assert decision.template
                params = self._template_params(entry, contact, lang, decision.template)
                # Our local id is known before sending: store it first, so status webhooks
                # that beat the response still find the entry.
                await self.chat.mark_sending(entry.id, self.token,
                                             {"provider_message_id": entry.id})
                result = await self.wati.send_template(
                    entry.to, decision.template, params,
                    broadcast_name=f"{entry.kind.value}_{now:%Y%m%d}",
                    local_message_id=entry.id)
                provider_id = result.message_id or entry.id
        except WatiRejected as exc:
            log.warning("outbox entry %s (%s) rejected by Wati: %s", entry.id, entry.kind.value,
                        exc)
            OUTBOX.labels(kind=entry.kind.value, channel="whatsapp", outcome="rejected").inc()
            await self._fallback(entry, doc, f"rejected: {exc}", count_attempt=True)
            return
        except WatiError as exc:
            await self._transient(entry, doc, exc)
            return
        fields = {"status": OutboxStatus.sent.value, "provider_message_id": provider_id,
                  "provider_ids": list(result.ids), "sent_at": self.clock(),
                  "channel": "whatsapp", "mode": decision.mode.value,
                  "template_used": decision.template, "last_error": None}
        await self.chat.finish_claim(entry.id, self.token, fields)
        OUTBOX.labels(kind=entry.kind.value, channel="whatsapp", outcome="sent").inc()
        log.info("outbox entry %s (%s) sent to %s as %s", entry.id, entry.kind.value,
                 mask_phone(entry.to), decision.mode.value)
        await self._apply_parked([i for i in (provider_id, *result.ids) if i])

    async def _answered_in_chat(self, entry: OutboxEntry, last_inbound: datetime | None
                                ) -> bool:
        """True when the bot's chat reply stands in for this entry (recorded as sent by it),
        or when the entry waits a few seconds for that reply (released, not an attempt)."""
        ref = entry.params.get("ref")
        if entry.kind.value not in window.CHAT_ANSWERED_KINDS or not ref:
            return False
        assert entry.to
        reply = await self.chat.chat_reply_with(entry.to, ref, entry.created_at)
        if reply is not None:
            # Status webhooks for that chat message now update this entry too.
            await self.chat.finish_claim(entry.id, self.token, {
                "status": OutboxStatus.sent.value, "provider_message_id": reply["message_id"],
                "sent_at": reply["at"], "channel": "whatsapp", "mode": "chat",
                "last_error": None}, inc_attempts=False)
            OUTBOX.labels(kind=entry.kind.value, channel="whatsapp", outcome="in_chat").inc()
            log.info("outbox entry %s (%s) already told in the chat", entry.id,
                     entry.kind.value)
            # Its delivered/read webhooks came before this match and were parked.
            await self._apply_parked([reply["message_id"]])
            return True
        wait_until = window.chat_grace_until(entry.kind.value, entry.created_at, last_inbound,
                                             self.clock())
        if wait_until is None:
            return False
        await self.chat.finish_claim(entry.id, self.token, {
            "status": OutboxStatus.pending.value, "next_attempt_at": wait_until},
            inc_attempts=False)
        return True

    def _template_params(self, entry: OutboxEntry, contact: dict[str, Any] | None, lang: str,
                         template: str) -> dict[str, str]:
        params = {k: str(v) for k, v in entry.params.items()}
        name = params.get("name") or (contact or {}).get("name") or GREETING_NAME[lang]
        params["name"] = name
        if template.startswith(window.REOPEN_TEMPLATE):
            text = entry.text or render(entry.kind.value, lang, entry.params)
            return {"name": name, "message": truncate(text, REOPEN_MESSAGE_MAX)}
        return {k: v or "-" for k, v in params.items()}

    async def _apply_parked(self, ids: list[str]) -> None:
        if self.parked is None:
            return
        parked = await self.parked.take(ids)
        if parked is not None:
            status, error = parked
            await self.chat.status_by_provider_id(ids, status, self.clock(), error)

    async def _transient(self, entry: OutboxEntry, doc: dict[str, Any], exc: WatiError) -> None:
        attempts = int(doc.get("attempts") or 0) + 1
        if attempts >= self.policy.max_attempts:
            OUTBOX.labels(kind=entry.kind.value, channel="whatsapp", outcome="gave_up").inc()
            await self._fallback(entry, doc, f"{attempts} attempts failed: {exc}",
                                 count_attempt=True)
            return
        delay = self.policy.backoff(attempts, exc.retry_after)
        await self.chat.finish_claim(entry.id, self.token, {
            "status": OutboxStatus.pending.value, "next_attempt_at": self.clock() + delay,
            "last_error": str(exc)[:500]})
        OUTBOX.labels(kind=entry.kind.value, channel="whatsapp", outcome="retry").inc()
        log.info("outbox entry %s: attempt %d failed (%s); retry in %.0f s", entry.id,
                 attempts, exc, delay.total_seconds())

    # ---- email fallback -----------------------------------------------------------------
    async def _fallback(self, entry: OutboxEntry, doc: dict[str, Any], reason: str, *,
                        count_attempt: bool) -> None:
        lang = entry.language if entry.language in ("id", "en") else "id"
        if not entry.email or self.mailer is None:
            await self.chat.finish_claim(entry.id, self.token, {
                "status": OutboxStatus.dead.value, "dead_at": self.clock(),
                "last_error": f"{reason}; no email fallback"[:500]},
                inc_attempts=count_attempt)
            OUTBOX.labels(kind=entry.kind.value, channel="none", outcome="dead").inc()
            log.warning("outbox entry %s (%s) is dead: %s; no email to fall back to",
                        entry.id, entry.kind.value, reason)
            return
        subject = SUBJECTS[lang].get(entry.kind.value, SUBJECTS[lang][""]).format(
            ref=entry.params.get("ref", "")).strip()
        body = entry.text or render(entry.kind.value, lang, entry.params)
        mail_attempts = int(doc.get("email_attempts") or 0) + 1
        try:
            await self.mailer.send(entry.email, subject, body)
        except MailError as exc:
            permanent = isinstance(exc, MailRejected)
            if permanent or mail_attempts >= self.policy.max_attempts:
                await self.chat.finish_claim(entry.id, self.token, {
                    "status": OutboxStatus.dead.value, "dead_at": self.clock(),
                    "channel": "email", "email_attempts": mail_attempts,
                    "last_error": f"{reason}; email failed: {exc}"[:500]},
                    inc_attempts=count_attempt)
                OUTBOX.labels(kind=entry.kind.value, channel="email", outcome="dead").inc()
                log.warning("outbox entry %s (%s) is dead: email failed (%s)", entry.id,
                            entry.kind.value, exc)
                return
            await self.chat.finish_claim(entry.id, self.token, {
                "status": OutboxStatus.pending.value, "channel": "email",
                "email_attempts": mail_attempts,
                "next_attempt_at": self.clock() + self.policy.backoff(mail_attempts),
                "last_error": f"{reason}; email failed: {exc}"[:500]},
                inc_attempts=count_attempt)
            OUTBOX.labels(kind=entry.kind.value, channel="email", outcome="retry").inc()
            return
        await self.chat.finish_claim(entry.id, self.token, {
            "status": OutboxStatus.emailed.value, "channel": "email", "emailed_at": self.clock(),
            "email_attempts": mail_attempts, "last_error": reason[:500]},
            inc_attempts=count_attempt)
        OUTBOX.labels(kind=entry.kind.value, channel="email", outcome="emailed").inc()
        log.info("outbox entry %s (%s) sent by email instead (%s)", entry.id, entry.kind.value,
                 reason)


def build_wati_client(settings: Settings, session: aiohttp.ClientSession,
                      base_url: str | None = None) -> WatiClient:
    url = base_url or settings.wati_api_url
    if not url:
        raise RuntimeError("no Wati API URL: set WATI_API_URL or run the bot role (sandbox)")
    return WatiClient(session, url, settings.wati_api_token.get_secret_value(),
                      version=settings.wati_api_version)


# Set (in app[COMPONENTS]) by bot/setup.py when it starts the embedded sandbox, so a
# dispatcher built in the same process sends there too.
SANDBOX_URL = "bot.sandbox_url"


async def build_dispatcher(app: web.Application) -> OutboxDispatcher:
    """A dispatcher over the app's store, with its own ClientSession, closed on app cleanup.

    Called after start-up (signals frozen) in a process without the bot role, nothing can
    hook the cleanup any more: then each run opens and closes its own session instead.
    """
    settings = app[SETTINGS]
    store = app[STORE]
    chat = ChatStore(store)
    await chat.ensure_indexes()
    hooked = hook_cleanup(app)
    session = aiohttp.ClientSession() if hooked else None
    url = app[COMPONENTS].get(SANDBOX_URL) or _sandbox_url(settings)
    wati = build_wati_client(settings, session, url)  # type: ignore[arg-type]
    mailer = Mailer.from_settings(settings)
    coordinator = app.get(COORDINATOR)
    parked = ParkedStatuses(coordinator.redis, coordinator.ns) if coordinator else None
    dispatcher = OutboxDispatcher(chat, wati, mailer, parked=parked,
                                  policy=RetryPolicy(max_attempts=settings.outbox_max_attempts))
    if session is not None:
        dispatcher._session = session
        app[COMPONENTS].setdefault(CLOSERS, []).append(dispatcher.close)
    else:
        dispatcher.session_per_run = True
    return dispatcher


def _sandbox_url(settings: Settings) -> str | None:
    """With no WATI_API_URL the embedded sandbox serves the Wati API on its fixed port."""
    if settings.wati_api_url:
        return None
    return f"http://127.0.0.1:{settings.wati_sandbox_port}"


CLOSERS = "bot.closers"
CLEANUP_HOOKED = "bot.cleanup_hooked"


def hook_cleanup(app: web.Application) -> bool:
    """Make sure close_components runs on cleanup; False when that is no longer possible."""
    if app[COMPONENTS].get(CLEANUP_HOOKED):
        return True
    if app.frozen or app.on_cleanup.frozen:  # start-up has begun: signals are read-only
        return False
    try:
        app.on_cleanup.append(close_components)
    except RuntimeError:
        return False
    app[COMPONENTS][CLEANUP_HOOKED] = True
    return True


async def close_components(app: web.Application) -> None:
    """Close every session the gateway opened (idempotent)."""
    closers = app[COMPONENTS].get(CLOSERS) or []
    while closers:
        await closers.pop()()


__all__ = ["OutboxDispatcher", "RetryPolicy", "build_dispatcher", "close_components"]
