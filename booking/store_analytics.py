"""Analytics queries: the MongoDB aggregation pipelines behind GET /analytics and the export.

Driver code lives here (not in analytics/), on the store's collections, serialised by
`store.guarded()` for mongomock, with driver errors mapped to StoreUnavailable.
Every pipeline starts with a $match on a range the indexes in
`ensure_analytics_indexes` serve; the rest runs on the matched documents only.
Aggregations return raw counts; analytics/service.py shapes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from booking.store import MongoStore, StoreModule, query, store_call

P = ParamSpec("P")
T = TypeVar("T")

REMINDER_KIND = "appointment_reminder"
FALLBACK_INTENT = "nlu_fallback"
# Statuses of a visit that happened or was due (not cancelled, not superseded).
VISIT_STATUSES = ["confirmed", "completed", "no_show"]




@store_call
def ensure_analytics_indexes(store: MongoStore) -> None:
    """Indexes the pipelines below and the export need (the core declares the others)."""
    # New bookings by creation time (bookings per day, lead time, conversion).
    store.bookings.create_index([("created_at", ASCENDING), ("doctor_id", ASCENDING)])
    # Appointment rates match on start (+ doctor): core's (doctor_id, start) and (start).
    # Export watermark: (updated_at, _id) so a batch resumes exactly after the last row.
    store.bookings.create_index([("updated_at", ASCENDING), ("_id", ASCENDING)])
    # Chat metrics split by direction over a time range; export reads (at, _id).
    store.chat_logs.create_index([("direction", ASCENDING), ("at", ASCENDING)])
    store.chat_logs.create_index([("at", ASCENDING), ("_id", ASCENDING)])
    # Reminder outcomes; export reads (created_at, _id).
    store.outbox.create_index([("kind", ASCENDING), ("created_at", ASCENDING)])
    store.outbox.create_index([("created_at", ASCENDING), ("_id", ASCENDING)])


# ---- filters ----------------------------------------------------------------------------
def _id_literal(value: Any) -> Any:
    """A document id (string or ObjectId) for a query position; never an operator document."""
    if isinstance(value, (dict, list, tuple, set)):
        raise TypeError("ids must be scalars")
    return value


def _scalar(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("filter values must be strings")
    return value


@store_call
def doctor_ids_for(store: MongoStore, *, city: str | None = None,
                   specialty: str | None = None, doctor_id: str | None = None
                   ) -> list[str] | None:
    """Doctors matching the filters; None when no filter is set (all doctors)."""
    query: dict[str, Any] = {}
    if city:
        query["city"] = _scalar(city)
    if specialty:
        query["specialty"] = _scalar(specialty)
    if doctor_id:
        query["_id"] = _scalar(doctor_id)
    if not query:
        return None
    return [d["_id"] for d in store.doctors.find(query, {"_id": 1})]


@store_call
def doctor_info(store: MongoStore, doctor_ids: list[str]) -> dict[str, dict[str, Any]]:
    cursor = store.doctors.find({"_id": {"$in": [_scalar(i) for i in doctor_ids]}},
                                {"name": 1, "specialty": 1, "city": 1, "timezone": 1})
    return {d["_id"]: d for d in cursor}


@store_call
def doctor_directory(store: MongoStore) -> list[dict[str, Any]]:
    """Every doctor's id, name, city, specialty and photo (the dashboard's filter options
    and the pictures of its per-doctor table)."""
    cursor = store.doctors.find({}, {"name": 1, "city": 1, "specialty": 1, "photo_url": 1}).sort(
        [("city", ASCENDING), ("name", ASCENDING)])
    return [{"id": d["_id"], "name": d.get("name"), "city": d.get("city"),
             "specialty": d.get("specialty"), "photo_url": d.get("photo_url")} for d in cursor]


def _doctor_match(doctor_ids: list[str] | None) -> dict[str, Any]:
    return {} if doctor_ids is None else {"doctor_id": {"$in": list(doctor_ids)}}


def _local_day(field: str, tz: str) -> dict[str, Any]:
    date = {"date": field, "timezone": tz}
    return {"y": {"$year": date}, "m": {"$month": date}, "d": {"$dayOfMonth": date}}


def _count_if(cond: dict[str, Any]) -> dict[str, Any]:
    return {"$sum": {"$cond": [cond, 1, 0]}}


def _is_set(field: str) -> dict[str, Any]:
    return {"$ne": [{"$ifNull": [field, None]}, None]}


# ---- bookings -----------------------------------------------------------------------
def _new_bookings_match(start: datetime, end: datetime, doctor_ids: list[str] | None
                        ) -> dict[str, Any]:
    return {"created_at": {"$gte": start, "$lt": end}, "rescheduled_from": None,
            **_doctor_match(doctor_ids)}


@store_call
def new_booking_facets(store: MongoStore, start: datetime, end: datetime, tz: str,
                       doctor_ids: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """New bookings (created in range, not reschedules) in one pass:
    by_day [{_id: {y, m, d, source}, n}] and patients [{_id: patient_id}] (who booked)."""
    result = list(store.bookings.aggregate([
        {"$match": _new_bookings_match(start, end, doctor_ids)},
        {"$facet": {
            "by_day": [{"$group": {"_id": {**_local_day("$created_at", tz), "source": "$source"},
                                   "n": {"$sum": 1}}}],
            "patients": [{"$group": {"_id": "$patient_id"}}],
        }},
    ]))
    return result[0] if result else {"by_day": [], "patients": []}


def _value_at(collection: Any, match: dict[str, Any], expr: Any, index: int) -> float | None:
    """The index-th smallest value of expr over the matched documents ($sort + $skip + $limit:
    a top-k sort on a real MongoDB, no array of every value in memory)."""
    docs = list(collection.aggregate([
        {"$match": match}, {"$project": {"_id": 0, "v": expr}}, {"$sort": {"v": 1}},
        {"$skip": index}, {"$limit": 1}], allowDiskUse=True))
    return float(docs[0]["v"]) if docs else None


@store_call
def lead_time_ms_at(store: MongoStore, start: datetime, end: datetime,
                    doctor_ids: list[str] | None, index: int) -> float | None:
    """The index-th smallest (start - created_at) in ms over new bookings."""
    return _value_at(store.bookings, _new_bookings_match(start, end, doctor_ids),
                     {"$subtract": ["$start", "$created_at"]}, index)


@store_call
def appointment_facets(store: MongoStore, start: datetime, end: datetime, tz: str,
                       doctor_ids: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """Per-doctor outcome counts, and visits by local weekday and hour, in one pass."""
    visit = {"date": "$start", "timezone": tz}
    result = list(store.bookings.aggregate([
        {"$match": {"start": {"$gte": start, "$lt": end}, "status": {"$ne": "rescheduled"},
                    **_doctor_match(doctor_ids)}},
        {"$facet": {
            "by_doctor": [{"$group": {
                "_id": "$doctor_id",
                "appointments": {"$sum": 1},
                "cancelled": _count_if({"$eq": ["$status", "cancelled"]}),
                "rescheduled": _count_if(_is_set("$rescheduled_from")),
                "completed": _count_if({"$eq": ["$status", "completed"]}),
                "no_show": _count_if({"$eq": ["$status", "no_show"]}),
            }}],
            "by_weekday": [{"$match": {"status": {"$in": VISIT_STATUSES}}},
                           {"$group": {"_id": {"$dayOfWeek": visit}, "n": {"$sum": 1}}}],
            "by_hour": [{"$match": {"status": {"$in": VISIT_STATUSES}}},
                        {"$group": {"_id": {"$hour": visit}, "n": {"$sum": 1}}}],
        }},
    ]))
    return result[0] if result else {"by_doctor": [], "by_weekday": [], "by_hour": []}


# ---- chat logs ----------------------------------------------------------------------
@store_call
def chat_facets(store: MongoStore, start: datetime, end: datetime, tz: str, top: int
                ) -> dict[str, list[dict[str, Any]]]:
    """Every chat metric in one pass over the messages in range (the largest collection):
    messages per local day and direction, inbound/fallback counts, top intents, the reply
    latency histogram in whole ms (exact percentiles without sorting every reply) and the
    distinct senders (conversion)."""
    inbound = {"direction": "in"}
    result = list(store.chat_logs.aggregate([
        {"$match": {"at": {"$gte": start, "$lt": end}}},
        {"$facet": {
            "by_day": [{"$group": {"_id": {**_local_day("$at", tz), "direction": "$direction"},
                                   "n": {"$sum": 1}}}],
            "inbound": [{"$match": inbound},
                        {"$group": {"_id": None, "n": {"$sum": 1},
                                    "fallback": _count_if({"$or": [
                                        {"$eq": ["$fallback", True]},
                                        {"$eq": ["$intent", FALLBACK_INTENT]}]}),
                                    "with_intent": _count_if(_is_set("$intent"))}}],
            "intents": [{"$match": {**inbound, "intent": {"$ne": None}}},
                        {"$group": {"_id": "$intent", "n": {"$sum": 1}}},
                        {"$sort": {"n": -1, "_id": 1}}, {"$limit": top}],
            "latency": [{"$match": {"direction": "out", "latency_ms": {"$ne": None}}},
                        {"$group": {"_id": {"$floor": "$latency_ms"}, "n": {"$sum": 1}}}],
            "senders": [{"$match": inbound}, {"$group": {"_id": "$wa_id"}}],
        }},
    ], allowDiskUse=True))
    empty: dict[str, list[dict[str, Any]]] = {
        "by_day": [], "inbound": [], "intents": [], "latency": [], "senders": []}
    return result[0] if result else empty


@store_call
def whatsapp_users(store: MongoStore) -> dict[str, str]:
    """wa_id -> user id of every user with a WhatsApp number (the conversion join).

    One range scan of the users.whatsapp index, joined in Python: linear on both backends,
    where `$in` with thousands of ids is a linear search per document on mongomock.

    Keys are the stored blind indexes, as the chat pass's senders are (it groups by the
    stored wa_id): the join needs no phone number in plain text."""
    cursor = store.raw_db["users"].find({"whatsapp": {"$gt": ""}}, {"_id": 1, "whatsapp": 1})
    return {u["whatsapp"]: u["_id"] for u in cursor}


# ---- outbox -------------------------------------------------------------------------
@store_call
def reminder_status_counts(store: MongoStore, start: datetime, end: datetime,
                           doctor_ids: list[str] | None) -> dict[str, int]:
    """Reminders created in range by status; outbox entries carry their booking's doctor_id,
    so the doctor filters apply without a join."""
    return {d["_id"]: d["n"] for d in store.outbox.aggregate([
        {"$match": {"kind": REMINDER_KIND, "created_at": {"$gte": start, "$lt": end},
                    **_doctor_match(doctor_ids)}},
        {"$group": {"_id": "$status", "n": {"$sum": 1}}}])}


# ---- export reads (BigQuery) -----------------------------------------------------------
EXPORT_COLLECTIONS = ("bookings", "chat_logs", "outbox")


@store_call
def export_batch(store: MongoStore, collection: str, field: str,
                 after: tuple[datetime, Any] | None, until: datetime, limit: int,
                 projection: dict[str, int]) -> list[dict[str, Any]]:
    """Documents ordered by (field, _id) strictly after the watermark and before `until`.

    The (field, _id) order makes the watermark exact: equal timestamps never skip or repeat.
    """
    if collection not in EXPORT_COLLECTIONS:
        raise ValueError(f"not an exported collection: {collection}")
    query: dict[str, Any] = {field: {"$lt": until}}
    if after is not None:
        at, last_id = after
        query = {"$and": [query, {"$or": [{field: {"$gt": at}},
                                          {field: at, "_id": {"$gt": _id_literal(last_id)}}]}]}
    cursor = store.db[collection].find(query, {**projection, field: 1}).sort(
        [(field, ASCENDING), ("_id", ASCENDING)]).limit(limit)
    return list(cursor)


@store_call
def user_ids_by_whatsapp(store: MongoStore, wa_ids: list[str]) -> dict[str, str]:
    """wa_id -> user id, so exported chat rows carry an id, never the phone number."""
    cursor = store.users.find({"whatsapp": {"$in": [_scalar(w) for w in wa_ids]}},
                              {"_id": 1, "whatsapp": 1})
    return {u["whatsapp"]: u["_id"] for u in cursor}


@store_call
def advance_watermark(store: MongoStore, key: str, at: datetime, doc_id: str,
                      extra: dict[str, Any]) -> bool:
    """Move a watermark forward only (two concurrent exports never move it back).

    Returns False when a newer watermark was already stored.
    """
    value = {"at": at, "id": _scalar(doc_id), **extra}
    newer = {"$or": [{"value.at": {"$lt": at}},
                     {"value.at": at, "value.id": {"$lt": doc_id}}]}
    res = store.kv.update_one({"_id": _scalar(key), **newer},
                              {"$set": {"value": value, "at": datetime.now(UTC)}})
    if res.matched_count:
        return True
    if store.kv.find_one({"_id": key}, {"_id": 1}) is not None:
        return False
    try:
        store.kv.insert_one({"_id": key, "value": value, "at": datetime.now(UTC)})
    except DuplicateKeyError:
        return False
    return True


class AnalyticsStore(StoreModule):
    ensure_indexes = query(ensure_analytics_indexes)
    doctor_ids_for = query(doctor_ids_for)
    doctor_info = query(doctor_info)
    doctor_directory = query(doctor_directory)
    new_booking_facets = query(new_booking_facets)
    lead_time_ms_at = query(lead_time_ms_at)
    appointment_facets = query(appointment_facets)
    chat_facets = query(chat_facets)
    whatsapp_users = query(whatsapp_users)
    reminder_status_counts = query(reminder_status_counts)
    export_batch = query(export_batch)
    user_ids_by_whatsapp = query(user_ids_by_whatsapp)
    advance_watermark = query(advance_watermark)
