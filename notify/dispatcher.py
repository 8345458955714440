"""Outbox dispatcher: delivers due notifications through the channels, in the order
NOTIFY_CHANNELS gives (WhatsApp, then e-mail, by default).

Each entry is claimed atomically (one dispatcher, one send per dedupe key). A channel that
fails for now is retried with exponential backoff; after `max_attempts` on it, a permanent
refusal, or a failure reported later by a delivery webhook, the entry moves to the next
channel that has an address for it. When none is left it becomes `dead` (visible to staff,
logged, never dropped silently). The scheduler role runs `run_once` periodically.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from app.metrics import OUTBOX
from booking.store_outbox import OutboxStatus, OutboxStore
from notify.channels import Channel, Deferred, PermanentError, Sent, TransientError
from notify.outbox import Kind, OutboxEntry, RetryPolicy
from notify.parked import ParkedStatuses
from notify.rules import batch_text, reminder_obsolete

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxDispatcher:
    def __init__(self, outbox: OutboxStore, channels: Sequence[Channel], *,
                 parked: ParkedStatuses | None = None, policy: RetryPolicy | None = None,
                 concurrency: int = 8, clock: Callable[[], datetime] = utcnow) -> None:
        self.outbox = outbox
        self.channels = list(channels)
        self.parked = parked
        self.policy = policy or RetryPolicy()
        self.concurrency = concurrency
        self.clock = clock
        self.token = uuid.uuid4().hex

    # ---- running ---------------------------------------------------------------------
    async def run_once(self, *, limit: int = 100) -> int:
        """Send due entries; returns how many were attempted."""
        claimed: list[dict[str, Any]] = []
        while len(claimed) < limit:
            now = self.clock()
            doc = await self.outbox.claim_due(now, now + timedelta(seconds=self.policy.claim_s),
                                              self.token)
            if doc is None:
                break
            claimed.append(doc)
        if not claimed:
            return 0
        sem = asyncio.Semaphore(self.concurrency)
        # Entries of one batch claimed together go as one message (the oldest carries it).
        batches: dict[str, list[dict[str, Any]]] = {}
        work: list[list[dict[str, Any]]] = []
        for doc in claimed:
            if doc.get("batch") and doc["status"] == OutboxStatus.pending.value:
                if doc["batch"] not in batches:
                    batches[doc["batch"]] = []
                    work.append(batches[doc["batch"]])
                batches[doc["batch"]].append(doc)
            else:
                work.append([doc])

        async def one(group: list[dict[str, Any]]) -> None:
            async with sem:
                await self._attempt(group[0], group[1:])

        await asyncio.gather(*(one(g) for g in work))
        return len(claimed)

    async def dispatch(self, entry_id: str) -> bool:
        """Send one entry now if it is due (manual sends); False when it is not claimable."""
        now = self.clock()
        doc = await self.outbox.claim_due(now, now + timedelta(seconds=self.policy.claim_s),
                                          self.token, entry_id)
        if doc is None:
            return False
        await self._attempt(doc)
        return True

    async def _attempt(self, doc: dict[str, Any],
                       siblings: list[dict[str, Any]] | None = None) -> None:
        data = dict(doc)
        data["id"] = data.pop("_id")
        entry = OutboxEntry.model_validate(data)
        try:
            if await self._skip_obsolete(entry):
                return
            names = [c.name for c in self.channels]
            current = doc.get("channel")
            index = names.index(current) if current in names else 0
            reason = doc.get("fallback_reason")
            if doc["status"] == OutboxStatus.failed.value:  # a webhook said it failed
                reason = entry.last_error or f"{current or names[0]} failed"
                index += 1
            batch = [*(siblings or []), *await self._batch(entry, doc)]
            if batch:
                entry = entry.model_copy(update={"text": batch_text(
                    [entry.text, *(d.get("text") or "" for d in batch)], entry.language)})
            await self._deliver(entry, doc, index, reason)
            if batch:
                await self._finish_batch(entry, batch)
        except Exception:
            # Unexpected (e.g. the store went away): the claim expires and it is retried.
            log.exception("outbox entry %s: attempt aborted", entry.id)

    # ---- batches (several changes told to one doctor within a few minutes) ----------------
    async def _batch(self, entry: OutboxEntry, doc: dict[str, Any]) -> list[dict[str, Any]]:
        """The other pending entries of this entry's batch, claimed to go with it."""
        if not doc.get("batch") or doc["status"] != OutboxStatus.pending.value:
            return []
        now = self.clock()
        return await self.outbox.claim_batch(doc["batch"], self.token,
                                             now + timedelta(seconds=self.policy.claim_s),
                                             entry.id)

    async def _finish_batch(self, entry: OutboxEntry, batch: list[dict[str, Any]]) -> None:
        """The batch shares the fate of the message that carried it: sent (with its message
        id, so delivery statuses reach every entry), or pending again for a later attempt."""
        sent = await self.outbox.get(entry.id) or {}
        delivered = sent.get("status") in (OutboxStatus.sent.value, OutboxStatus.emailed.value,
                                           OutboxStatus.delivered.value,
                                           OutboxStatus.read.value)
        for doc in batch:
            fields: dict[str, Any]
            if delivered:
                fields = {k: sent[k] for k in ("status", "channel", "provider_message_id",
                                               "provider_ids", "sent_at", "mode", "emailed_at")
                          if k in sent}
                fields["batched_into"] = entry.id
                OUTBOX.labels(kind=doc["kind"], channel=str(sent.get("channel")),
                              outcome="batched").inc()
            else:
                fields = {"status": OutboxStatus.pending.value,
                          "next_attempt_at": sent.get("next_attempt_at") or self.clock()}
            await self.outbox.finish_claim(doc["_id"], self.token, fields, inc_attempts=False)

    async def _skip_obsolete(self, entry: OutboxEntry) -> bool:
        """Retire an entry the booking no longer wants (a reminder of a cancelled booking)."""
        if entry.kind != Kind.appointment_reminder or not entry.booking_id:
            return False
        booking = await self.outbox.booking_state(entry.booking_id)
        reason = reminder_obsolete(booking, self.clock())
        if reason is None:
            return False
        await self.outbox.finish_claim(entry.id, self.token, {
            "status": OutboxStatus.skipped.value, "last_error": reason,
            "skipped_at": self.clock()}, inc_attempts=False)
        OUTBOX.labels(kind=entry.kind.value, channel="none", outcome="skipped").inc()
        log.info("outbox entry %s (%s) not sent: %s", entry.id, entry.kind.value, reason)
        return True

    # ---- one channel after the other -----------------------------------------------------
    async def _deliver(self, entry: OutboxEntry, doc: dict[str, Any], index: int,
                       reason: str | None, counted: dict[str, int] | None = None) -> None:
        """Try channel `index` (or the next one with an address); `reason` says why the
        earlier channels gave up, `counted` the attempts this claim already spent."""
        counted = dict(counted or {})
        while index < len(self.channels) and not self.channels[index].can_deliver(entry):
            missing = self.channels[index].name
            reason = f"{reason}; no {missing} fallback" if reason else f"no {missing} address"
            index += 1
        if index >= len(self.channels):
            await self._dead(entry, reason or "no channel", counted)
            return
        channel = self.channels[index]
        attempts = int(doc.get(channel.attempts_field) or 0) \
            if doc.get("channel") in (channel.name, None) else 0
        now = self.clock()
        try:
            outcome = await channel.send(entry, self.token, now)
        except PermanentError as exc:
            log.warning("outbox entry %s (%s) refused by %s: %s", entry.id, entry.kind.value,
                        channel.name, exc)
            OUTBOX.labels(kind=entry.kind.value, channel=channel.name, outcome="rejected").inc()
            counted[channel.attempts_field] = attempts + 1
            await self._next(entry, doc, index, _chain(reason, str(exc)), counted, channel)
            return
        except TransientError as exc:
            attempts += 1
            counted[channel.attempts_field] = attempts
            if attempts >= self.policy.max_attempts:
                OUTBOX.labels(kind=entry.kind.value, channel=channel.name,
                              outcome="gave_up").inc()
                await self._next(entry, doc, index,
                                 _chain(reason, f"{attempts} attempts failed: {exc}"),
                                 counted, channel)
                return
            delay = self.policy.backoff(attempts, exc.retry_after)
            await self._finish(entry, counted, {
                "status": OutboxStatus.pending.value, "channel": channel.name,
                "next_attempt_at": now + delay, "fallback_reason": reason,
                "last_error": _chain(reason, str(exc))[:500]})
            OUTBOX.labels(kind=entry.kind.value, channel=channel.name, outcome="retry").inc()
            log.info("outbox entry %s: %s attempt %d failed (%s); retry in %.0f s", entry.id,
                     channel.name, attempts, exc, delay.total_seconds())
            return
        if isinstance(outcome, Deferred):  # waits for the chat reply: not an attempt
            await self.outbox.finish_claim(entry.id, self.token, {
                "status": OutboxStatus.pending.value, "next_attempt_at": outcome.until},
                inc_attempts=False)
            return
        await self._sent(entry, channel, outcome, reason, counted, attempts)

    async def _next(self, entry: OutboxEntry, doc: dict[str, Any], index: int, reason: str,
                    counted: dict[str, int], failed: Channel) -> None:
        if index + 1 >= len(self.channels):
            await self._dead(entry, reason, counted, channel=failed.name)
            return
        await self._deliver(entry, {**doc, "channel": None}, index + 1, reason, counted)

    async def _sent(self, entry: OutboxEntry, channel: Channel, sent: Sent, reason: str | None,
                    counted: dict[str, int], attempts: int) -> None:
        if sent.fields.get("mode") != "chat":  # a chat reply that told it is no attempt
            counted[channel.attempts_field] = attempts + 1
        fields = {"last_error": reason[:500] if reason else None, **sent.fields,
                  "status": sent.status.value, "channel": channel.name}
        await self._finish(entry, counted, fields)
        outcome = "in_chat" if sent.fields.get("mode") == "chat" else sent.status.value
        OUTBOX.labels(kind=entry.kind.value, channel=channel.name, outcome=outcome).inc()
        log.info("outbox entry %s (%s) %s %s", entry.id, entry.kind.value,
                 "sent" if not reason else "sent instead", sent.note)
        await self._apply_parked(list(sent.provider_ids))

    async def _dead(self, entry: OutboxEntry, reason: str, counted: dict[str, int], *,
                    channel: str | None = None) -> None:
        fields: dict[str, Any] = {"status": OutboxStatus.dead.value, "dead_at": self.clock(),
                                  "last_error": reason[:500]}
        if channel:
            fields["channel"] = channel
        await self._finish(entry, counted, fields)
        OUTBOX.labels(kind=entry.kind.value, channel=channel or "none", outcome="dead").inc()
        log.warning("outbox entry %s (%s) is dead: %s", entry.id, entry.kind.value, reason)

    async def _finish(self, entry: OutboxEntry, counted: dict[str, int],
                      fields: dict[str, Any]) -> None:
        await self.outbox.finish_claim(entry.id, self.token, {**counted, **fields},
                                       inc_attempts=False)

    async def _apply_parked(self, ids: list[str]) -> None:
        """Delivery statuses that arrived before the send was recorded were parked."""
        if self.parked is None or not ids:
            return
        parked = await self.parked.take(ids)
        if parked is not None:
            status, error = parked
            await self.outbox.status_by_provider_id(ids, status, self.clock(), error)


def _chain(reason: str | None, what: str) -> str:
    return f"{reason}; {what}" if reason else what
