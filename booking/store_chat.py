"""Mongo queries of the WhatsApp gateway: the webhook inbox, contacts (the 24-hour window)
and chat logs. Sync functions over a `MongoStore` (serialised for mongomock, driver errors
mapped to StoreUnavailable), and `ChatStore`, their typed async face (`store.chat`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from booking.models import as_utc
from booking.store import MongoStore, StoreModule, _literal, query, store_call
from booking.store_sealed import SealedCollection

# Inbox documents are kept a while after processing (support and audits), then expire.
INBOX_KEEP = timedelta(days=7)


def inbox(ms: MongoStore) -> SealedCollection:
    sealed: SealedCollection = ms.db["inbox"]
    return sealed


def contacts(ms: MongoStore) -> SealedCollection:
    sealed: SealedCollection = ms.db["wa_contacts"]
    return sealed


@store_call
def ensure_indexes(ms: MongoStore) -> None:
    inbox(ms).create_index([("status", ASCENDING), ("owner_until", ASCENDING)])
    inbox(ms).create_index("owner", sparse=True)
    inbox(ms).create_index("expire_at", expireAfterSeconds=0, sparse=True)


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
def mark_privacy_notice(ms: MongoStore, wa_id: str, at: datetime) -> bool:
    """Record that the number was shown the privacy notice; True only the first time (the
    caller then shows it: one atomic update, so two replicas never both show it)."""
    res = contacts(ms).update_one({"_id": wa_id, "privacy_notice_shown_at": None},
                                  {"$set": {"privacy_notice_shown_at": at}})
    return res.modified_count == 1


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


@store_call
def chat_reply_with(ms: MongoStore, wa_id: str, needle: str, since: datetime
                    ) -> dict[str, Any] | None:
    """The first bot reply to this number that Wati accepted since `since` and that told the
    patient booking code `needle` (its turn reported the code in `refs`): the chat message
    that already told the patient. Matched on the field, never on the (encryptable) text."""
    doc: dict[str, Any] | None = ms.chat_logs.find_one(
        {"wa_id": wa_id, "direction": "out", "at": {"$gte": since},
         "message_id": {"$ne": None}, "refs": _literal(needle)},
        sort=[("at", ASCENDING)])
    return doc


class ChatStore(StoreModule):
    ensure_indexes = query(ensure_indexes)
    inbox_put = query(inbox_put)
    inbox_finish = query(inbox_finish)
    inbox_takeover = query(inbox_takeover)
    inbox_heartbeat = query(inbox_heartbeat)
    inbox_unprocessed = query(inbox_unprocessed)
    touch_inbound = query(touch_inbound)
    register_contact = query(register_contact)
    contact = query(contact)
    mark_privacy_notice = query(mark_privacy_notice)
    insert_chat_logs = query(insert_chat_logs)
    chat_reply_with = query(chat_reply_with)
