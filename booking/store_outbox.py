"""Outbox queries: claims, outcomes, delivery statuses and lookups of the notification outbox.

Driver code only (pymongo). What the entries mean, and when to send them, is notify/'s; the
status vocabulary stored here is this module's, so the store and notify/ share one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument

from booking.store import MongoStore, StoreModule, query, store_call

APPOINTMENT_REMINDER = "appointment_reminder"  # notify.outbox.Kind.appointment_reminder


class OutboxStatus(StrEnum):
    pending = "pending"        # waiting for its first or next attempt
    sending = "sending"        # claimed by a dispatcher (claim expires)
    sent = "sent"              # accepted by Wati
    delivered = "delivered"
    read = "read"
    failed = "failed"          # WhatsApp said it failed; email fallback follows
    emailed = "emailed"        # delivered through the email fallback
    dead = "dead"              # nothing could deliver it: visible to staff, never silent
    skipped = "skipped"        # not sent on purpose: the booking it was about changed


# Statuses an outbox entry may leave when WhatsApp reports progress: a later status never
# goes back (read stays read when a late "delivered" arrives).
STATUS_FROM: dict[OutboxStatus, tuple[OutboxStatus, ...]] = {
    OutboxStatus.sent: (OutboxStatus.sending,),
    OutboxStatus.delivered: (OutboxStatus.sending, OutboxStatus.sent),
    OutboxStatus.read: (OutboxStatus.sending, OutboxStatus.sent, OutboxStatus.delivered),
    OutboxStatus.failed: (OutboxStatus.sending, OutboxStatus.sent, OutboxStatus.delivered),
}
REMINDER_SENT = (OutboxStatus.sent, OutboxStatus.delivered, OutboxStatus.read)


@store_call
def ensure_indexes(ms: MongoStore) -> None:
    ms.outbox.create_index([("to", ASCENDING), ("kind", ASCENDING), ("created_at", DESCENDING)])
    ms.outbox.create_index("claim_expires_at", sparse=True)


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
def claim_batch(ms: MongoStore, batch: str, token: str, claim_until: datetime,
                exclude_id: str) -> list[dict[str, Any]]:
    """Claim the other pending entries of a batch (due or not yet) for the claimer of
    `exclude_id`, which sends them as one message; oldest first."""
    ids = [d["_id"] for d in ms.outbox.find(
        {"batch": batch, "status": OutboxStatus.pending.value, "_id": {"$ne": exclude_id}},
        {"_id": 1}).sort("created_at", ASCENDING).limit(20)]
    claimed = []
    for entry_id in ids:
        doc = ms.outbox.find_one_and_update(
            {"_id": entry_id, "status": OutboxStatus.pending.value},
            {"$set": {"status": OutboxStatus.sending.value, "claim_expires_at": claim_until,
                      "claimed_by": token}}, return_document=ReturnDocument.AFTER)
        if doc is not None:
            claimed.append(doc)
    return claimed


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
        {"to": wa_id, "kind": APPOINTMENT_REMINDER,
         "status": {"$in": [s.value for s in REMINDER_SENT]}},
        sort=[("created_at", DESCENDING)])
    return doc


@store_call
def booking_state(ms: MongoStore, booking_id: str) -> dict[str, Any] | None:
    """Status and start of one booking (the dispatcher's last check before a reminder)."""
    doc: dict[str, Any] | None = ms.bookings.find_one({"_id": booking_id},
                                                      {"status": 1, "start": 1})
    return doc


class OutboxStore(StoreModule):
    ensure_indexes = query(ensure_indexes)
    enqueue = query(MongoStore.enqueue)
    enqueue_one = query(enqueue_one)
    claim_due = query(claim_due)
    count_overdue = query(count_overdue)
    finish_claim = query(finish_claim)
    mark_sending = query(mark_sending)
    claim_batch = query(claim_batch)
    status_by_provider_id = query(status_by_provider_id)
    get_by_key = query(get_outbox_by_key)
    get = query(get_outbox)
    latest_reminder = query(latest_reminder)
    booking_state = query(booking_state)
