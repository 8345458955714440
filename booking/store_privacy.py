"""The data subject's rights in the store: everything held about one user (export), erasure
of their personal data, and the audit log of both (driver code; the API's handlers in
api/handlers_privacy.py decide who may ask).

Erasure keeps the clinic's records and the analytics counts: the user document stays with
its id and role (bookings keep pointing at it, now pseudonymous) but loses name, e-mail,
numbers and password; bookings lose their typed texts (cancel reason, history notes);
chat logs, webhook events and the contact are deleted; handoffs lose their transcript and
name; outbox entries lose their bodies (those not yet sent are retired as skipped). A
WhatsApp number without an account (erase_number_data) loses the same number-held data.
The audit entry holds ids and counts only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from booking.errors import NotFound
from booking.models import as_utc
from booking.store import MongoStore, StoreModule, query, store_call
from booking.store_retention import HANDOFF_TRANSCRIPT, OUTBOX_BODY, OUTBOX_OPEN

AUDIT = "audit_log"
ERASED_NAME = ""
_USER_PRIVATE = ("password_hash",)
_CHAT_FIELDS = {"_id": 0, "direction": 1, "text": 1, "type": 1, "at": 1, "language": 1}
_OUTBOX_FIELDS = {"_id": 1, "kind": 1, "status": 1, "created_at": 1, "text": 1, "params": 1,
                  "template": 1, "booking_id": 1, "channel": 1, "to": 1, "email": 1}


def _numbers(user: dict[str, Any]) -> list[str]:
    return [n for n in (user.get("whatsapp"), user.get("whatsapp_pending")) if n]


def _user(ms: MongoStore, user_id: str) -> dict[str, Any]:
    if not isinstance(user_id, str):
        raise TypeError("user ids are strings")
    doc: dict[str, Any] | None = ms.users.find_one({"_id": user_id})
    if doc is None:
        raise NotFound("user not found", user_id=user_id)
    return doc


@store_call
def export_user_data(ms: MongoStore, user_id: str) -> dict[str, Any]:
    """Everything held about the user, decrypted: profile, bookings, chat messages,
    notifications and the WhatsApp contact record."""
    user = _user(ms, user_id)
    profile = {k: v for k, v in user.items() if k not in _USER_PRIVATE}
    profile["id"] = profile.pop("_id")
    bookings = []
    for doc in ms.bookings.find({"patient_id": user_id}).sort("start", 1):
        doc["id"] = doc.pop("_id")
        doc.pop("slot_key", None)
        bookings.append(doc)
    numbers = _numbers(user)
    chat = list(ms.chat_logs.find({"wa_id": {"$in": numbers}}, _CHAT_FIELDS).sort("at", 1)) \
        if numbers else []
    booking_ids = [b["id"] for b in bookings]
    ors: list[dict[str, Any]] = [{"booking_id": {"$in": booking_ids}}] if booking_ids else []
    if numbers:
        ors.append({"to": {"$in": numbers}})
    notifications = list(ms.outbox.find({"$or": ors}, _OUTBOX_FIELDS).sort("created_at", 1)) \
        if ors else []
    for n in notifications:
        n["id"] = n.pop("_id")
    contacts = [{k: v for k, v in c.items() if k != "_id"}
                for c in ms.db["wa_contacts"].find({"_id": {"$in": numbers}})] if numbers else []
    return {"profile": profile, "bookings": bookings, "chat_messages": chat,
            "notifications": notifications, "whatsapp_contact": contacts}


def _erase_numbers(ms: MongoStore, numbers: list[str], at: datetime,
                   booking_ids: list[str]) -> dict[str, int]:
    """What is held under WhatsApp numbers (and the notifications of these bookings):
    chat logs, webhook events and contacts deleted, handoff transcripts and outbox bodies
    wiped (entries not yet sent are retired)."""
    counts: dict[str, int] = {}
    indexed = [ms.users.sealer.index("whatsapp", n) for n in numbers]  # phone blind index
    if numbers:
        counts["chat_logs"] = int(ms.chat_logs.delete_many(
            {"wa_id": {"$in": numbers}}).deleted_count)
        counts["inbox"] = int(ms.db["inbox"].delete_many(
            {"wa_id": {"$in": numbers}}).deleted_count)
        counts["wa_contacts"] = int(ms.db["wa_contacts"].delete_many(
            {"_id": {"$in": numbers}}).deleted_count)
        counts["handoffs"] = int(ms.raw_db["handoffs"].update_many(
            {"wa_id": {"$in": indexed}},
            {"$unset": {f: "" for f in HANDOFF_TRANSCRIPT},
             "$set": {"transcript_purged_at": at}}).modified_count)
    raw_outbox = ms.raw_db["outbox"]
    ors: list[dict[str, Any]] = [{"booking_id": {"$in": booking_ids}}] if booking_ids else []
    if numbers:
        ors.append({"to": {"$in": indexed}})
    if ors:
        unset = {f: "" for f in OUTBOX_BODY}
        retired = raw_outbox.update_many(
            {"$or": ors, "status": {"$in": list(OUTBOX_OPEN)}},
            {"$set": {"status": "skipped", "skip_reason": "erased"}})
        wiped = raw_outbox.update_many(
            {"$or": ors}, {"$unset": unset, "$set": {"body_purged_at": at}})
        counts["outbox_retired"] = int(retired.modified_count)
        counts["outbox_wiped"] = int(wiped.modified_count)
    return counts


@store_call
def erase_user_data(ms: MongoStore, user_id: str, at: datetime) -> dict[str, int]:
    """Erase the user's personal data (see the module doc); idempotent. Returns counts."""
    user = _user(ms, user_id)
    numbers = _numbers(user)
    raw_bookings = ms.raw_db["bookings"]
    booking_ids = []
    scrubbed = 0
    for doc in raw_bookings.find({"patient_id": user_id}, {"history": 1, "cancel_reason": 1}):
        booking_ids.append(doc["_id"])
        history = [{**h, "note": ""} if isinstance(h, dict) and h.get("note") else h
                   for h in doc.get("history") or []]
        res = raw_bookings.update_one({"_id": doc["_id"]},
                                      {"$set": {"history": history, "erased_at": at},
                                       "$unset": {"cancel_reason": ""}})
        scrubbed += res.modified_count
    counts = _erase_numbers(ms, numbers, at, booking_ids)
    counts["bookings_pseudonymised"] = scrubbed
    ms.raw_db["users"].update_one(
        {"_id": user_id},
        {"$set": {"name": ERASED_NAME, "erased_at": at},
         "$unset": {"email": "", "email_enc": "", "whatsapp": "", "whatsapp_enc": "",
                    "whatsapp_pending": "", "password_hash": ""},
         "$inc": {"token_version": 1}})
    counts["users"] = 1
    return counts


@store_call
def erase_number_data(ms: MongoStore, wa_id: str, at: datetime) -> dict[str, int]:
    """Erase what is held under a WhatsApp number that belongs to no account (a sender who
    chatted but never booked); idempotent."""
    return _erase_numbers(ms, [wa_id], at, [])


@store_call
def number_subject(ms: MongoStore, wa_id: str) -> str:
    """The audit subject of a number without an account: its blind index (pseudonymous,
    no plain number in the audit log)."""
    return _number_subject(ms, wa_id)


def _number_subject(ms: MongoStore, wa_id: str) -> str:
    return "wa:" + str(ms.users.sealer.index("whatsapp", wa_id))


@store_call
def whatsapp_summary(ms: MongoStore, wa_id: str, user_id: str | None, now: datetime
                     ) -> dict[str, Any]:
    """What is held about a WhatsApp sender, in counts (the chat summary of "data saya"):
    bookings (and the upcoming ones), chat messages kept and since when."""
    bookings: list[dict[str, Any]] = []
    if user_id is not None:
        bookings = list(ms.bookings.find({"patient_id": user_id},
                                         {"ref": 1, "start": 1, "status": 1, "doctor_id": 1}
                                         ).sort("start", 1))
    upcoming = [b for b in bookings
                if b.get("status") == "confirmed" and as_utc(b["start"]) >= now]
    messages = int(ms.chat_logs.count_documents({"wa_id": wa_id}))
    first = list(ms.chat_logs.find({"wa_id": wa_id}, {"at": 1}).sort("at", 1).limit(1))
    return {"bookings": len(bookings),
            "upcoming": [{"ref": b["ref"], "start": as_utc(b["start"]),
                          "doctor_id": b["doctor_id"]} for b in upcoming],
            "messages": messages, "since": as_utc(first[0]["at"]) if first else None,
            "subject": user_id or _number_subject(ms, wa_id)}


@store_call
def write_audit(ms: MongoStore, action: str, actor_id: str, actor_role: str, subject_id: str,
                at: datetime, detail: dict[str, int] | None = None, channel: str = "api"
                ) -> str:
    """One audit entry: who, when, what, about whom (ids and counts only: no personal data,
    so an erasure's own record survives it)."""
    entry_id = str(ObjectId())
    ms.db[AUDIT].insert_one({"_id": entry_id, "action": action, "actor_id": actor_id,
                             "actor_role": actor_role, "subject_id": subject_id, "at": at,
                             "channel": channel, "detail": dict(detail or {})})
    return entry_id


@store_call
def audit_entries(ms: MongoStore, subject_id: str | None = None, limit: int = 100
                  ) -> list[dict[str, Any]]:
    query_: dict[str, Any] = {}
    if subject_id is not None:
        if not isinstance(subject_id, str):
            raise TypeError("ids are strings")
        query_["subject_id"] = subject_id
    return list(ms.db[AUDIT].find(query_).sort("at", -1).limit(limit))


class PrivacyStore(StoreModule):
    export = query(export_user_data)
    erase = query(erase_user_data)
    erase_number = query(erase_number_data)
    whatsapp_summary = query(whatsapp_summary)
    number_subject = query(number_subject)
    audit = query(write_audit)
    audit_entries = query(audit_entries)
