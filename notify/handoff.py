"""The handoff desk: a conversation handed from the bot to a person at the clinic, and back.

- `begin` records the handoff (who, when, why, the last messages) in `store.handoffs` and
  assigns the conversation to HANDOFF_OPERATOR_EMAIL in Wati (PUT .../operator); one open
  handoff per number (the store's unique open_key).
- While it is open the gateway keeps the bot silent for that patient (bot/gateway.py).
- `resolve` closes it (staff in our inbox, Wati's "solved" webhook, or the timeout) and
  hands the conversation back to the bot in Wati; the timeout also tells the patient.
- Staff replies and the notes to the patient go through the outbox (notify/outbox.py), so
  they are persisted first, retried, and sent as a template outside the 24-hour window.

Used by the bot (gateway), the api (staff inbox) and the scheduler (timeouts); it imports
no role.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.metrics import HANDOFFS_OPEN
from booking.errors import BookingError
from booking.models import new_id
from booking.phone import mask_phone
from booking.store import Store
from notify.dispatcher import OutboxDispatcher
from notify.handoff_rules import LAST_MESSAGES, Reason, Resolution, say
from notify.outbox import Kind, OutboxEntry
from notify.whatsapp import WatiClient, WatiError

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class HandoffDesk:
    def __init__(self, store: Store, wati: WatiClient | None, *, operator_email: str | None,
                 timeout: timedelta, dispatcher: OutboxDispatcher | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.handoffs = store.handoffs
        self.wati = wati
        self.operator_email = operator_email or None
        self.timeout = timeout
        self.dispatcher = dispatcher
        self.clock = clock

    # ---- open ---------------------------------------------------------------------------
    async def begin(self, wa_id: str, reason: Reason, *, by: str = "bot",
                    language: str = "id", name: str | None = None,
                    operator: str | None = None, current: str | None = None
                    ) -> tuple[dict[str, Any], bool]:
        """Open (or find the open) handoff of this number: (doc, created). Assigns the
        conversation in Wati when it was created; a failed assignment is recorded on the
        handoff (staff still see it in our inbox) and logged. `current`: the patient's
        message being handled (not in the chat log yet)."""
        now = self.clock()
        recent = await self.handoffs.recent_chat(wa_id, LAST_MESSAGES)
        if current:
            recent = [*recent, {"direction": "in", "text": current[:1000], "at": now}]
            recent = recent[-LAST_MESSAGES:]
        if name is None:
            contact = await self.store.chat.contact(wa_id)
            name = (contact or {}).get("name") or None
        doc, created = await self.handoffs.open(wa_id, {
            "reason": reason.value, "by": by, "opened_at": now, "language": language,
            "name": name or "", "expires_at": now + self.timeout,
            "last_messages": recent, "last_patient_at": now,
            "operator_email": operator or self.operator_email,
            "taken_by": by if reason == Reason.staff else None,
            "taken_at": now if reason == Reason.staff else None,
            "answered_at": now if operator else None, "assigned": None})
        if not created:
            return doc, False
        log.info("handoff opened for %s (%s)", mask_phone(wa_id), reason.value)
        if operator is None:  # staff writing in Wati already have the conversation
            assigned = await self._assign(wa_id, self.operator_email)
            doc = await self.handoffs.update_open(doc["id"], {"assigned": assigned}) or doc
        await self.measure()
        return doc, True

    async def _assign(self, wa_id: str, email: str | None) -> bool | None:
        """Assign in Wati (email) or give back to the bot (None); None when there is no
        operator to assign to or no Wati client in this process."""
        if self.wati is None or (email is None and self.operator_email is None):
            return None
        try:
            await self.wati.assign_operator(wa_id, email)
        except WatiError as exc:
            log.warning("wati operator assignment for %s failed: %s", mask_phone(wa_id),
                        str(exc)[:120])
            return False
        return True

    # ---- while open ---------------------------------------------------------------------
    async def open_for(self, wa_id: str) -> dict[str, Any] | None:
        return await self.handoffs.open_for(wa_id)

    async def patient_wrote(self, handoff: dict[str, Any], text: str, at: datetime) -> None:
        await self.handoffs.push_message(
            handoff["id"], {"direction": "in", "text": text[:1000], "at": at}, LAST_MESSAGES,
            {"last_patient_at": at})

    async def staff_wrote(self, handoff: dict[str, Any], text: str, at: datetime,
                          by: str) -> None:
        fields: dict[str, Any] = {"answered_at": handoff.get("answered_at") or at}
        if not handoff.get("taken_by"):
            fields.update(taken_by=by, taken_at=at)
        await self.handoffs.push_message(
            handoff["id"], {"direction": "out", "text": text[:1000], "at": at, "by": by},
            LAST_MESSAGES, fields)
        await self.measure()

    async def take(self, handoff_id: str, by: str) -> dict[str, Any] | None:
        return await self.handoffs.update_open(handoff_id, {"taken_by": by,
                                                            "taken_at": self.clock()})

    async def reply(self, handoff: dict[str, Any], text: str, by: str) -> dict[str, Any]:
        """A staff reply from our inbox: through the outbox (sent now when this process has
        a dispatcher, else by the scheduler's), logged in the chat log as staff's."""
        now = self.clock()
        wa_id = handoff["wa_id"]
        entry = OutboxEntry(kind=Kind.handoff_reply, dedupe_key=f"handoff_reply:{new_id()}",
                            to=wa_id, language=handoff.get("language") or "id", text=text,
                            params={"name": handoff.get("name") or ""}, created_at=now,
                            next_attempt_at=now).to_doc()
        entry["handoff_id"] = handoff["id"]
        await self.store.outbox.enqueue_one(entry)
        await self.store.chat.insert_chat_logs([{
            "wa_id": wa_id, "direction": "out", "text": text, "type": "text",
            "message_id": None, "outbox_id": entry["_id"], "at": now, "by": by,
            "staff": True, "language": handoff.get("language") or "id"}])
        await self.staff_wrote(handoff, text, now, by)
        await self._dispatch(entry["_id"])
        return entry

    async def _dispatch(self, entry_id: str) -> None:
        if self.dispatcher is None:
            return
        try:
            await self.dispatcher.dispatch(entry_id)
        except Exception:  # the scheduler's dispatcher sends it later
            log.warning("handoff message left for the scheduler's dispatcher")

    # ---- close --------------------------------------------------------------------------
    async def resolve(self, handoff_id: str, resolution: Resolution, *, by: str,
                      note: str = "") -> dict[str, Any] | None:
        """Close an open handoff and give the conversation back to the bot; None when it
        was already closed (the other resolvers raced us)."""
        now = self.clock()
        doc = await self.handoffs.close(handoff_id, {
            "closed_at": now, "closed_by": by, "resolution": resolution.value,
            "note": note[:500]})
        if doc is None:
            return None
        log.info("handoff of %s resolved (%s)", mask_phone(doc["wa_id"]), resolution.value)
        if resolution != Resolution.wati:  # Wati already moved it when staff solved it
            await self._assign(doc["wa_id"], None)
        if resolution == Resolution.timeout:
            lang = doc.get("language") or "id"
            entry = OutboxEntry(kind=Kind.handoff_note, dedupe_key=f"handoff_timeout:{doc['id']}",
                                to=doc["wa_id"], language=lang, text=say("timeout", lang),
                                params={"name": doc.get("name") or ""}, created_at=now,
                                next_attempt_at=now).to_doc()
            if await self.store.outbox.enqueue_one(entry):
                await self._dispatch(entry["_id"])
        await self.measure()
        return doc

    async def expire_due(self) -> int:
        """Give back every handoff whose timeout passed (the scheduler, every minute)."""
        count = 0
        for doc in await self.handoffs.due(self.clock()):
            if await self.resolve(doc["id"], Resolution.timeout, by="timeout") is not None:
                count += 1
        return count

    async def measure(self) -> int:
        """klinik_handoffs_open: open handoffs no person has answered yet."""
        try:
            count = await self.handoffs.count_waiting()
        except BookingError:
            return -1
        HANDOFFS_OPEN.set(count)
        return count
