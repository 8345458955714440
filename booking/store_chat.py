"""Mongo queries of the WhatsApp gateway: inbox, contacts, chat logs, outbox claims and statuses.

The driver code of bot/ lives here (and only here), next to the core store: sync
functions over a `MongoStore` (serialised for mongomock, driver errors mapped to
StoreUnavailable) and `ChatStore`, their async facade for the event loop.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from booking.models import as_utc
from booking.notifications import Kind, OutboxStatus
from booking.store import MongoStore, Store, store_call

P = ParamSpec("P")
T = TypeVar("T")

# Inbox documents are kept a while after processing (support and audits), then expire.
INBOX_KEEP = timedelta(days=7)
# Statuses an outbox entry may leave when WhatsApp reports progress: a later status never
# goes back (read stays read when a late "delivered" arrives).
STATUS_FROM: dict[OutboxStatus, tuple[OutboxStatus, ...]] = {
    OutboxStatus.sent: (OutboxStatus.sending,),
    OutboxStatus.delivered: (OutboxStatus.sending, OutboxStatus.sent),
    OutboxStatus.read: (OutboxStatus.sending, OutboxStatus.sent, OutboxStatus.delivered),
    OutboxStatus.failed: (OutboxStatus.sending, OutboxStatus.sent, OutboxStatus.delivered),
}
REMINDER_SENT = (OutboxStatus.sent, OutboxStatus.delivered, OutboxStatus.read)




def inbox(ms: MongoStore) -> Collection[Any]:
    return ms.db["inbox"]


def contacts(ms: MongoStore) -> Collection[Any]:
    return ms.db["wa_contacts"]


@store_call
def ensure_indexes(ms: MongoStore) -> None:
    inbox(ms).create_index([("status", ASCENDING), ("owner_until", ASCENDING)])
    inbox(ms).create_index("owner", sparse=True)
    inbox(ms).create_index("expire_at", expireAfterSeconds=0, sparse=True)
    ms.outbox.create_index([("to", ASCENDING), ("kind", ASCENDING), ("created_at", DESCENDING)])
    ms.outbox.create_index("claim_expires_at", sparse=True)


# ---- inbox: persisted before the webhook is acknowledged ------------------------------------
@store_call
def inbox_put(ms: MongoStore, doc: dict[str, Any]) -> bool:
    """Insert an accepted event; False when the same event was already accepted."""
    try:
        inbox(ms).insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


@store_call
def inbox_finish(ms: MongoStore, key: str, status: str, at: datetime,
                 error: str | None = None) -> None:
    inbox(ms).update_one({"_id": key}, {"$set": {"status": status, "processed_at": at,
                                                 "error": error, "expire_at": at + INBOX_KEEP}})


@store_call
def inbox_takeover(ms: MongoStore, key: str, token: str, now: datetime, until: datetime) -> bool:
    """Take over an event whose owner stopped renewing its claim (a crashed replica)."""
    res = inbox(ms).update_one(
        {"_id": key, "status": "pending", "owner_until": {"$lte": now}},
        {"$set": {"owner": token, "owner_until": until}})
    return res.modified_count == 1


@store_call
def inbox_heartbeat(ms: MongoStore, token: str, until: datetime) -> int:
    """A live replica renews its claim on everything it has queued."""
    res = inbox(ms).update_many({"owner": token, "status": "pending"},
                                {"$set": {"owner_until": until}})
    return int(res.modified_count)


@store_call
def inbox_unprocessed(ms: MongoStore, now: datetime, limit: int = 10_000
                      ) -> list[dict[str, Any]]:
    """Accepted, not processed, and no live owner (a crash or restart), in arrival order."""
    query = {"status": "pending", "owner_until": {"$lte": now}}
    return list(inbox(ms).find(query).sort("seq", ASCENDING).limit(limit))


# ---- contacts and the 24-hour window --------------------------------------------------------
@store_call
def touch_inbound(ms: MongoStore, wa_id: str, at: datetime, name: str | None,
                  language: str | None) -> dict[str, Any] | None:
    """Record a patient's message time (the 24-hour window opens from the latest one).

    Returns the contact as it was before (None for a first message)."""
    fields: dict[str, Any] = {}
    if name:
        fields["name"] = name
    if language:
        fields["language"] = language
    before: dict[str, Any] | None = contacts(ms).find_one_and_update(
        {"_id": wa_id},
        {"$max": {"last_inbound_at": at}, "$setOnInsert": {"first_seen_at": at},
         **({"$set": fields} if fields else {})},
        upsert=True, return_document=ReturnDocument.BEFORE)
    return before


@store_call
def register_contact(ms: MongoStore, wa_id: str, name: str | None, at: datetime) -> bool:
    """A new contact announced by Wati; True when it was not known yet."""
    res = contacts(ms).update_one(
        {"_id": wa_id},
        {"$setOnInsert": {"first_seen_at": at, "name": name or ""}}, upsert=True)
    return res.upserted_id is not None


@store_call
def contact(ms: MongoStore, wa_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = contacts(ms).find_one({"_id": wa_id})
    if doc and doc.get("last_inbound_at"):
        doc["last_inbound_at"] = as_utc(doc["last_inbound_at"])
    return doc


# ---- chat logs --------------------------------------------------------------------------------
@store_call
def insert_chat_logs(ms: MongoStore, docs: list[dict[str, Any]]) -> None:
    if docs:
        ms.chat_logs.insert_many(docs, ordered=False)


# ---- outbox -----------------------------------------------------------------------------------
@store_call
def claim_due(ms: MongoStore, now: datetime, claim_until: datetime, token: str,
              entry_id: str | None = None) -> dict[str, Any] | None:
    """Atomically take one due entry (or one whose claim expired); None when nothing is due.

    WhatsApp failures reported by webhook (status failed) are due at once for the fallback.
    """
    query: dict[str, Any] = {"$or": [
        {"status": OutboxStatus.pending.value, "next_attempt_at": {"$lte": now}},
        {"status": OutboxStatus.failed.value},
        {"status": OutboxStatus.sending.value, "claim_expires_at": {"$lte": now}},
    ]}
    if entry_id is not None:
        query["_id"] = entry_id
    doc: dict[str, Any] | None = ms.outbox.find_one_and_update(
        query,
        {"$set": {"status": OutboxStatus.sending.value, "claim_expires_at": claim_until,
                  "claimed_by": token}},
        sort=[("next_attempt_at", ASCENDING)], return_document=ReturnDocument.BEFORE)
    return doc  # as it was before the claim: its status says why it was due


@store_call
def count_overdue(ms: MongoStore, due_before: datetime) -> int:
    """Outbox entries that should have gone out before `due_before` and have not (pending
    or failed, or claimed by a dispatcher that died): the backlog operators are alerted on."""
    return ms.outbox.count_documents({"$or": [
        {"status": OutboxStatus.pending.value, "next_attempt_at": {"$lte": due_before}},
        {"status": OutboxStatus.failed.value},
        {"status": OutboxStatus.sending.value, "claim_expires_at": {"$lte": due_before}},
    ]})


@store_call
def finish_claim(ms: MongoStore, entry_id: str, token: str, set_fields: dict[str, Any],
                 inc_attempts: bool = True) -> bool:
    """Record an attempt's outcome, only while the claim is still ours.

    A status webhook may have moved the entry on while we were sending (delivered, or
    failed): then that status stays and only the other fields are recorded.
    """
    unset = {"$unset": {"claimed_by": "", "claim_expires_at": ""}}
    inc = {"$inc": {"attempts": 1}} if inc_attempts else {}
    res = ms.outbox.update_one(
        {"_id": entry_id, "claimed_by": token, "status": OutboxStatus.sending.value},
        {"$set": set_fields, **unset, **inc})
    if res.modified_count:
        return True
    rest = {k: v for k, v in set_fields.items() if k != "status"}
    res = ms.outbox.update_one({"_id": entry_id, "claimed_by": token},
                               {**({"$set": rest} if rest else {}), **unset, **inc})
    return res.modified_count == 1


@store_call
def mark_sending(ms: MongoStore, entry_id: str, token: str, set_fields: dict[str, Any]) -> None:
    ms.outbox.update_one({"_id": entry_id, "claimed_by": token}, {"$set": set_fields})


@store_call
def status_by_provider_id(ms: MongoStore, ids: list[str], status: OutboxStatus, at: datetime,
                          error: str | None = None) -> int:
    """Move the entry sent with one of these provider ids forward; returns how many changed."""
    ids = [i for i in ids if isinstance(i, str) and i]
    if not ids:
        return 0
    fields: dict[str, Any] = {"status": status.value, f"{status.value}_at": at}
    if error:
        fields["last_error"] = error[:500]
    res = ms.outbox.update_many(
        {"provider_message_id": {"$in": ids},
         "status": {"$in": [s.value for s in STATUS_FROM[status]]}},
        {"$set": fields})
    return int(res.modified_count)


@store_call
def enqueue_one(ms: MongoStore, doc: dict[str, Any]) -> bool:
    """Insert one outbox entry unless its dedupe_key exists; True when it is new."""
    res = ms.outbox.update_one({"dedupe_key": doc["dedupe_key"]}, {"$setOnInsert": doc},
                               upsert=True)
    return res.upserted_id is not None


@store_call
def get_outbox_by_key(ms: MongoStore, dedupe_key: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = ms.outbox.find_one({"dedupe_key": dedupe_key})
    return doc


@store_call
def get_outbox(ms: MongoStore, entry_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = ms.outbox.find_one({"_id": entry_id})
    return doc


@store_call
def latest_reminder(ms: MongoStore, wa_id: str) -> dict[str, Any] | None:
    """The newest appointment reminder WhatsApp accepted for this number."""
    doc: dict[str, Any] | None = ms.outbox.find_one(
        {"to": wa_id, "kind": Kind.appointment_reminder.value,
         "status": {"$in": [s.value for s in REMINDER_SENT]}},
        sort=[("created_at", DESCENDING)])
    return doc


@store_call
def chat_reply_with(ms: MongoStore, wa_id: str, needle: str, since: datetime
                    ) -> dict[str, Any] | None:
    """The first bot reply to this number that Wati accepted since `since` and whose text
    contains `needle` (a booking code): the chat message that already told the patient."""
    doc: dict[str, Any] | None = ms.chat_logs.find_one(
        {"wa_id": wa_id, "direction": "out", "at": {"$gte": since},
         "message_id": {"$ne": None}, "text": {"$regex": re.escape(needle)}},
        sort=[("at", ASCENDING)])
    return doc


@store_call
def booking_state(ms: MongoStore, booking_id: str) -> dict[str, Any] | None:
    """Status and start of one booking (the dispatcher's last check before a reminder)."""
    doc: dict[str, Any] | None = ms.bookings.find_one({"_id": booking_id},
                                                      {"status": 1, "start": 1})
    return doc


class ChatStore:
    """Async facade of this module: each call runs off the event loop through `Store.run`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sync = store.sync

    async def ensure_indexes(self) -> None:
        await self.store.run(ensure_indexes, self.sync)

    async def inbox_put(self, doc: dict[str, Any]) -> bool:
        return await self.store.run(inbox_put, self.sync, doc)

    async def inbox_finish(self, key: str, status: str, at: datetime,
                           error: str | None = None) -> None:
        await self.store.run(inbox_finish, self.sync, key, status, at, error)

    async def inbox_takeover(self, key: str, token: str, now: datetime, until: datetime
                             ) -> bool:
        return await self.store.run(inbox_takeover, self.sync, key, token, now, until)

    async def inbox_heartbeat(self, token: str, until: datetime) -> int:
        return await self.store.run(inbox_heartbeat, self.sync, token, until)

    async def inbox_unprocessed(self, now: datetime, limit: int = 10_000
                                ) -> list[dict[str, Any]]:
        return await self.store.run(inbox_unprocessed, self.sync, now, limit)

    async def touch_inbound(self, wa_id: str, at: datetime, name: str | None,
                            language: str | None) -> dict[str, Any] | None:
        return await self.store.run(touch_inbound, self.sync, wa_id, at, name, language)

    async def register_contact(self, wa_id: str, name: str | None, at: datetime) -> bool:
        return await self.store.run(register_contact, self.sync, wa_id, name, at)

    async def contact(self, wa_id: str) -> dict[str, Any] | None:
        return await self.store.run(contact, self.sync, wa_id)

    async def insert_chat_logs(self, docs: list[dict[str, Any]]) -> None:
        await self.store.run(insert_chat_logs, self.sync, docs)

    async def claim_due(self, now: datetime, claim_until: datetime, token: str,
                        entry_id: str | None = None) -> dict[str, Any] | None:
        return await self.store.run(claim_due, self.sync, now, claim_until, token, entry_id)

    async def finish_claim(self, entry_id: str, token: str, set_fields: dict[str, Any],
                           inc_attempts: bool = True) -> bool:
        return await self.store.run(finish_claim, self.sync, entry_id, token, set_fields,
                                    inc_attempts)

    async def mark_sending(self, entry_id: str, token: str, set_fields: dict[str, Any]) -> None:
        await self.store.run(mark_sending, self.sync, entry_id, token, set_fields)

    async def status_by_provider_id(self, ids: list[str], status: OutboxStatus, at: datetime,
                                    error: str | None = None) -> int:
        return await self.store.run(status_by_provider_id, self.sync, ids, status, at, error)

    async def enqueue_one(self, doc: dict[str, Any]) -> bool:
        return await self.store.run(enqueue_one, self.sync, doc)

    async def get_outbox_by_key(self, dedupe_key: str) -> dict[str, Any] | None:
        return await self.store.run(get_outbox_by_key, self.sync, dedupe_key)

    async def get_outbox(self, entry_id: str) -> dict[str, Any] | None:
        return await self.store.run(get_outbox, self.sync, entry_id)

    async def latest_reminder(self, wa_id: str) -> dict[str, Any] | None:
        return await self.store.run(latest_reminder, self.sync, wa_id)

    async def chat_reply_with(self, wa_id: str, needle: str, since: datetime
                              ) -> dict[str, Any] | None:
        return await self.store.run(chat_reply_with, self.sync, wa_id, needle, since)

    async def booking_state(self, booking_id: str) -> dict[str, Any] | None:
        return await self.store.run(booking_state, self.sync, booking_id)
