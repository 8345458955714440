"""Mongo queries of the waitlist: patients waiting for an earlier slot with a doctor, and the
offers of freed slots. Sync functions over a `MongoStore` (serialised for mongomock, driver
errors mapped to StoreUnavailable) and `WaitlistStore`, their typed async face.

Two unique indexes keep the offers honest:
- `active_key` (= doctor|start) is present only while an offer is open: one slot is offered
  to one patient at a time, whatever the number of processes;
- (entry_id, slot_key): no waiting patient is offered the same slot twice.
Claiming an offer (take, skip, expire) is a compare-and-set on its status, so exactly one
of two simultaneous answers wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from booking.models import as_utc
from booking.store import MongoStore, StoreModule, query, store_call

ACTIVE = "active"
OFFERED = "offered"
_TIMES = ("created_at", "updated_at", "start", "expires_at", "answered_at", "booked_start")


def entries(ms: MongoStore) -> Collection[Any]:
    return ms.db["waitlist"]


def offers(ms: MongoStore) -> Collection[Any]:
    return ms.db["waitlist_offers"]


def _out(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    doc.pop("active_key", None)
    for key in _TIMES:
        if isinstance(doc.get(key), datetime):
            doc[key] = as_utc(doc[key])
    return doc


def _outs(docs: Any) -> list[dict[str, Any]]:
    return [d for d in map(_out, docs) if d is not None]


@store_call
def ensure_indexes(ms: MongoStore) -> None:
    entries(ms).create_index([("doctor_id", ASCENDING), ("status", ASCENDING),
                              ("created_at", ASCENDING)])
    entries(ms).create_index([("patient_id", ASCENDING), ("status", ASCENDING)])
    offers(ms).create_index("active_key", unique=True, sparse=True)
    offers(ms).create_index([("entry_id", ASCENDING), ("slot_key", ASCENDING)], unique=True)
    offers(ms).create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
    offers(ms).create_index([("patient_id", ASCENDING), ("status", ASCENDING)])
    offers(ms).create_index([("created_at", ASCENDING), ("doctor_id", ASCENDING)])  # analytics


# ---- entries ---------------------------------------------------------------------------------
@store_call
def add_entry(ms: MongoStore, doc: dict[str, Any]) -> dict[str, Any]:
    entries(ms).insert_one(doc)
    out = _out(doc)
    assert out is not None
    return out


@store_call
def get_entry(ms: MongoStore, entry_id: str) -> dict[str, Any] | None:
    return _out(entries(ms).find_one({"_id": str(entry_id)}))


@store_call
def patient_entries(ms: MongoStore, patient_id: str, statuses: list[str]
                    ) -> list[dict[str, Any]]:
    return _outs(entries(ms).find({"patient_id": str(patient_id), "status": {"$in": statuses}})
                 .sort("created_at", DESCENDING).limit(100))


@store_call
def set_entry(ms: MongoStore, entry_id: str, expected: str, set_fields: dict[str, Any]
              ) -> dict[str, Any] | None:
    """Change an entry in status `expected` (compare-and-set); None if it was not."""
    return _out(entries(ms).find_one_and_update(
        {"_id": str(entry_id), "status": expected}, {"$set": set_fields},
        return_document=ReturnDocument.AFTER))


@store_call
def candidates(ms: MongoStore, doctor_id: str, day: str, slot_key: str, limit: int = 50
               ) -> list[dict[str, Any]]:
    """Active entries for this doctor whose date range covers `day` (clinic-local
    YYYY-MM-DD) and that were not offered this slot yet, oldest first."""
    offered = {d["entry_id"] for d in offers(ms).find({"slot_key": slot_key}, {"entry_id": 1})}
    docs = entries(ms).find({"doctor_id": str(doctor_id), "status": ACTIVE,
                             "from_day": {"$lte": day}, "to_day": {"$gte": day}}
                            ).sort([("created_at", ASCENDING), ("seq", ASCENDING)]).limit(limit)
    return [d for d in _outs(docs) if d["id"] not in offered]


@store_call
def count_active(ms: MongoStore) -> int:
    return int(entries(ms).count_documents({"status": ACTIVE}))


# ---- offers ----------------------------------------------------------------------------------
@store_call
def add_offer(ms: MongoStore, doc: dict[str, Any]) -> str:
    """'ok'; 'slot_busy' while another offer of this slot is open; 'offered_before' when
    this entry was offered this slot already."""
    try:
        offers(ms).insert_one({**doc, "active_key": doc["slot_key"]})
    except DuplicateKeyError:
        # which index refused it: an open offer of the slot wins over "offered before"
        busy = offers(ms).find_one({"active_key": doc["slot_key"]}, {"_id": 1})
        return "slot_busy" if busy is not None else "offered_before"
    return "ok"


@store_call
def get_offer(ms: MongoStore, offer_id: str) -> dict[str, Any] | None:
    return _out(offers(ms).find_one({"_id": str(offer_id)}))


@store_call
def claim_offer(ms: MongoStore, offer_id: str, new_status: str, now: datetime, *,
                unexpired: bool, set_fields: dict[str, Any] | None = None
                ) -> dict[str, Any] | None:
    """Move an open offer to `new_status` (compare-and-set on 'offered'; `unexpired`: only
    before it expires); the slot can then be offered again. None: someone else won."""
    filt: dict[str, Any] = {"_id": str(offer_id), "status": OFFERED}
    if unexpired:
        filt["expires_at"] = {"$gt": now}
    return _out(offers(ms).find_one_and_update(
        filt, {"$set": {"status": new_status, "answered_at": now, **(set_fields or {})},
               "$unset": {"active_key": ""}},
        return_document=ReturnDocument.AFTER))


@store_call
def set_offer(ms: MongoStore, offer_id: str, set_fields: dict[str, Any]) -> None:
    offers(ms).update_one({"_id": str(offer_id)}, {"$set": set_fields})


@store_call
def open_offer_for(ms: MongoStore, patient_id: str) -> dict[str, Any] | None:
    """The patient's newest open offer."""
    return _out(offers(ms).find_one({"patient_id": str(patient_id), "status": OFFERED},
                                    sort=[("created_at", DESCENDING)]))


@store_call
def due_offers(ms: MongoStore, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
    return _outs(offers(ms).find({"status": OFFERED, "expires_at": {"$lte": now}})
                 .sort("expires_at", ASCENDING).limit(limit))


@store_call
def stats(ms: MongoStore, start: datetime, end: datetime, doctor_ids: list[str] | None
          ) -> dict[str, int]:
    """For analytics: active entries now, offers made in [start, end), offers taken and the
    minutes they saved (how much earlier than their booking patients were seen)."""
    by_doctor: dict[str, Any] = {} if doctor_ids is None else {
        "doctor_id": {"$in": [str(i) for i in doctor_ids]}}
    waiting = entries(ms).count_documents({"status": ACTIVE, **by_doctor})
    counts = {"offers": 0, "taken": 0, "minutes_saved": 0}
    for doc in offers(ms).aggregate([
            {"$match": {"created_at": {"$gte": start, "$lt": end}, **by_doctor}},
            {"$group": {"_id": "$status", "n": {"$sum": 1},
                        "saved": {"$sum": {"$ifNull": ["$minutes_saved", 0]}}}}]):
        counts["offers"] += int(doc["n"])
        if doc["_id"] == "taken":
            counts["taken"] = int(doc["n"])
            counts["minutes_saved"] = int(doc["saved"])
    return {"waiting": int(waiting), **counts}


class WaitlistStore(StoreModule):
    ensure_indexes = query(ensure_indexes)
    add_entry = query(add_entry)
    get_entry = query(get_entry)
    patient_entries = query(patient_entries)
    set_entry = query(set_entry)
    candidates = query(candidates)
    count_active = query(count_active)
    add_offer = query(add_offer)
    get_offer = query(get_offer)
    claim_offer = query(claim_offer)
    set_offer = query(set_offer)
    open_offer_for = query(open_offer_for)
    due_offers = query(due_offers)
    stats = query(stats)
