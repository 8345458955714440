"""The data subject's rights (UU PDP No. 27/2022) as one operation for every channel: the
REST API (api/handlers_privacy.py) and the WhatsApp gateway (bot/gateway.py) both erase and
export through `PrivacyService`, so a patient gets the same erasure whichever way they ask.

Erasure, in this order:
1. the personal data goes (booking/store_privacy.py: profile fields, chat logs, webhook
   events, contact, handoff transcripts, outbox bodies; bookings stay, pseudonymous);
2. the upcoming confirmed bookings are cancelled by the system. This runs after step 1 on
   purpose: the cancellation notices are built from the now-erased patient, so the patient
   gets none (no address is left) and the doctor is told with "Pasien" instead of a name
   (notify/rules.py), a notice that outlives the erasure without personal data in it;
3. every token issued to the account stops working;
4. the audit log gets who, when, through which channel, and counts (no personal data).

Erasing again is harmless: every step is idempotent. A crash between 1 and 2 leaves
upcoming bookings confirmed; asking again cancels them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from booking.errors import BookingError, Conflict
from booking.models import BookingStatus, Role, User
from booking.service import Actor, BookingService
from booking.store import Store
from booking.token_revocations import Revocations


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks, for the audit log: an account id and role, and the channel."""

    user_id: str
    role: str
    channel: str = "api"


@dataclass(frozen=True, slots=True)
class Erasure:
    subject: str                  # the user id, or "wa:<blind index>" for a bare number
    cancelled_bookings: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WhatsAppSummary:
    """What is held about a WhatsApp sender, for the chat answer to "data saya"."""

    user: User | None
    bookings: int
    upcoming: list[dict[str, Any]]
    messages: int
    since: datetime | None


class PrivacyService:
    def __init__(self, store: Store, service: BookingService,
                 revocations: Revocations | None = None, token_ttl_s: int = 0) -> None:
        self.store = store
        self.service = service
        self.revocations = revocations
        self.token_ttl_s = token_ttl_s  # how long an access token lives (the Redis mirror)

    # ---- export ----------------------------------------------------------------------------
    async def export(self, user_id: str, by: Requester) -> tuple[dict[str, Any], datetime]:
        now = self.service.clock()
        data = await self.store.privacy.export(user_id)
        await self.audit("export", by, user_id, now,
                         {k: len(v) for k, v in data.items() if isinstance(v, list)})
        return data, now

    async def whatsapp_summary(self, wa_id: str) -> WhatsAppSummary:
        user = await self.store.users.find(whatsapp=wa_id)
        held = await self.store.privacy.whatsapp_summary(
            wa_id, user.id if user else None, self.service.clock())
        return WhatsAppSummary(user=user, bookings=held["bookings"], upcoming=held["upcoming"],
                               messages=held["messages"], since=held["since"])

    # ---- erasure ---------------------------------------------------------------------------
    async def erase(self, user_id: str, by: Requester) -> Erasure:
        """Erase a patient account (Conflict for staff accounts, NotFound if unknown)."""
        user = await self.store.users.get(user_id)
        if user.role != Role.patient:
            raise Conflict("only patient accounts are erased; staff accounts are deleted")
        now = self.service.clock()
        counts = await self.store.privacy.erase(user_id, now)
        cancelled = await self._cancel_upcoming(user_id, now)
        await self._void_tokens(user_id)
        await self.audit("erase", by, user_id, now, {**counts, "cancelled_bookings": cancelled})
        return Erasure(subject=user_id, cancelled_bookings=cancelled, counts=counts)

    async def erase_whatsapp(self, wa_id: str) -> Erasure:
        """Erase what is held about a WhatsApp sender, at their own request from that number:
        their account when the number is a verified one of a patient (written by the bot when
        they booked, or proven on the web), else the chat logs, contact and notifications
        held under the number alone."""
        user = await self.store.users.find(whatsapp=wa_id)
        if user is not None and user.role == Role.patient:
            return await self.erase(user.id, Requester(user.id, Role.patient.value, "whatsapp"))
        # No patient account (or a staff member's number: their account is not erased from
        # a chat, but what the bot keeps of the chat is).
        now = self.service.clock()
        counts = await self.store.privacy.erase_number(wa_id, now)
        subject = await self.store.privacy.number_subject(wa_id)
        by = Requester(subject, Role.patient.value, "whatsapp")  # the number's owner
        await self.audit("erase", by, subject, now, {**counts, "cancelled_bookings": 0})
        return Erasure(subject=subject, cancelled_bookings=0, counts=counts)

    async def _cancel_upcoming(self, user_id: str, now: datetime) -> int:
        upcoming, _ = await self.store.bookings.find(patient_id=user_id,
                                                     statuses=[BookingStatus.confirmed.value],
                                                     start_from=now)
        cancelled = 0
        for booking in upcoming:  # freed for others; the doctor is told (module doc)
            try:
                await self.service.cancel(booking.id, actor=Actor.system())
                cancelled += 1
            except BookingError:
                continue  # changed meanwhile (cancelled, moved): nothing left to free
        return cancelled

    async def _void_tokens(self, user_id: str) -> None:
        """Every token issued so far stops working (the store raised the durable version;
        Redis mirrors it for the access-token lifetime)."""
        version = await self.store.users.bump_token_version(user_id)
        if self.revocations is not None:
            await self.revocations.raise_version(user_id, version, self.token_ttl_s)

    async def audit(self, action: str, by: Requester, subject: str, at: datetime,
                    detail: dict[str, int]) -> None:
        await self.store.privacy.audit(action, by.user_id, by.role, subject, at, detail,
                                       by.channel)
