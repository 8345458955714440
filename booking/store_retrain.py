"""Mongo queries of NLU retraining (bot/retrain): patient messages and the names and
booking references needed to mask them. Sync functions over a `MongoStore` (serialised
for mongomock, driver errors mapped to StoreUnavailable) and `RetrainStore`, their async
facade."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from booking.store import MongoStore, StoreModule, query, store_call

MAX_MESSAGES = 20_000     # one review covers at most this many inbound messages
FIELDS = {"_id": 0, "wa_id": 1, "direction": 1, "text": 1, "type": 1, "intent": 1,
          "confidence": 1, "entities": 1, "at": 1, "fallback": 1, "handoff": 1}


@store_call
def inbound_messages(ms: MongoStore, since: datetime, until: datetime,
                     limit: int = MAX_MESSAGES) -> list[dict[str, Any]]:
    """Patients' messages in [since, until), oldest first (uses the chat_logs `at` index)."""
    cursor = ms.chat_logs.find(
        {"direction": "in", "at": {"$gte": since, "$lt": until}}, FIELDS
    ).sort([("at", ASCENDING)]).limit(limit)
    return list(cursor)


@store_call
def recent_inbound(ms: MongoStore, wa_id: str, since: datetime, limit: int = 20
                   ) -> list[dict[str, Any]]:
    """One sender's latest messages since `since`, oldest first, with their chat-log ids
    (the NLU inbox looks at a message together with the ones around it)."""
    if not isinstance(wa_id, str):
        raise TypeError("wa_id must be a string")
    cursor = ms.chat_logs.find(
        {"wa_id": wa_id, "direction": "in", "at": {"$gte": since}},
        {**FIELDS, "_id": 1}).sort([("at", DESCENDING)]).limit(limit)
    return list(reversed(list(cursor)))


@store_call
def masking_context(ms: MongoStore, wa_ids: list[str]) -> dict[str, list[str]]:
    """Names of these senders (user accounts and WhatsApp contacts), all doctors' names
    (kept: they are entities) and the senders' booking references."""
    ids = [w for w in wa_ids if isinstance(w, str)]
    users = list(ms.users.find({"whatsapp": {"$in": ids}}, {"name": 1}))
    contacts = list(ms.db["wa_contacts"].find({"_id": {"$in": ids}}, {"name": 1}))
    doctors = [d.get("name", "") for d in ms.doctors.find({}, {"name": 1})]
    refs = [b.get("ref", "") for b in ms.bookings.find(
        {"patient_id": {"$in": [u["_id"] for u in users]}}, {"ref": 1})]
    names = [str(d.get("name") or "") for d in users + contacts]
    return {"names": [n for n in names if n], "doctors": [d for d in doctors if d],
            "refs": [r for r in refs if r]}


class RetrainStore(StoreModule):
    inbound_messages = query(inbound_messages)
    masking_context = query(masking_context)
    recent_inbound = query(recent_inbound)
