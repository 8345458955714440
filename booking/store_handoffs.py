"""Mongo queries of human handoffs: a conversation a person at the clinic has taken over
from the bot. Sync functions over a `MongoStore` (serialised for mongomock, driver errors
mapped to StoreUnavailable) and `HandoffStore`, their typed async face (`store.handoffs`).

At most one open handoff per WhatsApp number: `open_key` (= wa_id) has a unique sparse
index and is present only while the handoff is open (unset in the same update that closes
it), so two replicas starting a handoff for one patient at once get one handoff.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from booking.models import as_utc, new_id
from booking.store import MongoStore, StoreModule, query, store_call

OPEN = "open"
CLOSED = "closed"
_TIMES = ("opened_at", "taken_at", "answered_at", "closed_at", "expires_at", "last_patient_at")


def handoffs(ms: MongoStore) -> Collection[Any]:
    return ms.db["handoffs"]


def _out(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    doc.pop("open_key", None)
    for key in _TIMES:
        if doc.get(key) is not None:
            doc[key] = as_utc(doc[key])
    for msg in doc.get("last_messages") or []:
        if msg.get("at") is not None:
            msg["at"] = as_utc(msg["at"])
    return doc


@store_call
def ensure_indexes(ms: MongoStore) -> None:
    handoffs(ms).create_index("open_key", unique=True, sparse=True)
    handoffs(ms).create_index([("status", ASCENDING), ("opened_at", ASCENDING)])
    handoffs(ms).create_index([("wa_id", ASCENDING), ("opened_at", DESCENDING)])


@store_call
def open_handoff(ms: MongoStore, wa_id: str, fields: dict[str, Any]
                 ) -> tuple[dict[str, Any], bool]:
    """Open a handoff for this number, or return the one already open: (doc, created)."""
    for _ in range(3):
        doc = {"_id": new_id(), "wa_id": wa_id, "open_key": wa_id, "status": OPEN, **fields}
        try:
            handoffs(ms).insert_one(doc)
        except DuplicateKeyError:
            existing = _out(handoffs(ms).find_one({"open_key": wa_id}))
            if existing is not None:
                return existing, False
            continue  # closed in between: open a fresh one
        created = _out(doc)
        assert created is not None
        return created, True
    raise DuplicateKeyError("handoff open_key contended")


@store_call
def get(ms: MongoStore, handoff_id: str) -> dict[str, Any] | None:
    return _out(handoffs(ms).find_one({"_id": str(handoff_id)}))


@store_call
def open_for(ms: MongoStore, wa_id: str) -> dict[str, Any] | None:
    return _out(handoffs(ms).find_one({"open_key": str(wa_id)}))


@store_call
def list_handoffs(ms: MongoStore, *, status: str | None = None, limit: int = 100
                  ) -> list[dict[str, Any]]:
    """Open ones first (longest waiting first), then the most recently closed."""
    out: list[dict[str, Any]] = []
    if status in (None, OPEN):
        out += [d for d in map(_out, handoffs(ms).find({"status": OPEN})
                               .sort("opened_at", ASCENDING).limit(limit)) if d]
    if status in (None, CLOSED) and len(out) < limit:
        out += [d for d in map(_out, handoffs(ms).find({"status": CLOSED})
                               .sort("closed_at", DESCENDING).limit(limit - len(out))) if d]
    return out


@store_call
def update_open(ms: MongoStore, handoff_id: str, set_fields: dict[str, Any]
                ) -> dict[str, Any] | None:
    """Change an open handoff (taken, answered, a patient's message); None if not open."""
    doc = handoffs(ms).find_one_and_update({"_id": str(handoff_id), "status": OPEN},
                                           {"$set": set_fields},
                                           return_document=ReturnDocument.AFTER)
    return _out(doc)


@store_call
def push_message(ms: MongoStore, handoff_id: str, message: dict[str, Any], keep: int,
                 set_fields: dict[str, Any]) -> None:
    """Remember one more message of an open handoff (the newest `keep` are kept)."""
    handoffs(ms).update_one({"_id": str(handoff_id), "status": OPEN},
                            {"$push": {"last_messages": {"$each": [message], "$slice": -keep}},
                             "$set": set_fields})


@store_call
def close(ms: MongoStore, handoff_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Close an open handoff (compare-and-set): the closed doc, or None if it was not open
    (closed by someone else first: staff in our inbox, Wati, the timeout)."""
    doc = handoffs(ms).find_one_and_update(
        {"_id": str(handoff_id), "status": OPEN},
        {"$set": {"status": CLOSED, **fields}, "$unset": {"open_key": ""}},
        return_document=ReturnDocument.AFTER)
    return _out(doc)


@store_call
def due(ms: MongoStore, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Open handoffs whose timeout has passed."""
    return [d for d in map(_out, handoffs(ms).find({"status": OPEN, "expires_at": {"$lte": now}})
                           .sort("expires_at", ASCENDING).limit(limit)) if d]


@store_call
def count_waiting(ms: MongoStore) -> int:
    """Open handoffs no person has answered yet (the klinik_handoffs_open gauge)."""
    return int(handoffs(ms).count_documents({"status": OPEN, "answered_at": None}))


@store_call
def recent_chat(ms: MongoStore, wa_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The last `limit` chat log lines of this number, oldest first."""
    docs = list(ms.chat_logs.find({"wa_id": str(wa_id)},
                                  {"_id": 0, "direction": 1, "text": 1, "at": 1, "by": 1,
                                   "type": 1})
                .sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit))
    docs.reverse()
    for d in docs:
        if d.get("at") is not None:
            d["at"] = as_utc(d["at"])
    return docs


@store_call
def outbound_logged(ms: MongoStore, message_ids: list[str]) -> bool:
    """Whether a message with one of these ids is one of ours (a bot reply already logged)."""
    ids = [i for i in message_ids if isinstance(i, str)]
    return bool(ids) and ms.chat_logs.find_one(
        {"direction": "out", "message_id": {"$in": ids}}, {"_id": 1}) is not None


@store_call
def staff_reply_logged(ms: MongoStore, wa_id: str, text: str, since: datetime) -> bool:
    """A reply sent from our staff inbox with this text since `since` (Wati reports it back
    like a message typed in its own inbox, maybe before our send recorded its id)."""
    # The text is encrypted at rest: the few staff lines of the window are compared here.
    lines = ms.chat_logs.find({"wa_id": str(wa_id), "staff": True, "outbox_id": {"$ne": None},
                               "at": {"$gte": since}}, {"text": 1})
    return any(line.get("text") == str(text) for line in lines)


class HandoffStore(StoreModule):
    ensure_indexes = query(ensure_indexes)
    open = query(open_handoff)
    get = query(get)
    open_for = query(open_for)
    list = query(list_handoffs)
    update_open = query(update_open)
    push_message = query(push_message)
    close = query(close)
    due = query(due)
    count_waiting = query(count_waiting)
    recent_chat = query(recent_chat)
    outbound_logged = query(outbound_logged)
    staff_reply_logged = query(staff_reply_logged)
