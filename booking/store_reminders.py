"""Reminder state in the booking documents: the sweep query, atomic claims, their expiry.

Driver code for the scheduler, next to `booking/store.py` and written the same way
(sync pymongo, serialised for mongomock by `store.guarded()`, driver errors mapped to
StoreUnavailable); `ReminderStore` is the async facade the scheduler uses.

State of reminder kind K ("24h", "2h") lives in `booking.reminders.K`:
  absent                                   not handled yet
  {state: claimed, token, claim_until, ...} one scheduler instance is sending it; an expired
                                           claim (its holder crashed) may be taken again
  {state: sent, late, sent_at, ...}        handed to the outbox
  {state: skipped, reason, at}             deliberately not sent (short notice, stale, ...)
A claim is a find_one_and_update on the booking, so two instances never both win it; the
outbox dedupe key `appointment_reminder:<booking>:<kind>` keeps a re-claimed one single.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from pymongo import ASCENDING, ReturnDocument

from booking.models import Booking, BookingStatus, User
from booking.store import MongoStore, StoreModule, query, store_call

P = ParamSpec("P")
T = TypeVar("T")

CLAIMED = "claimed"
SENT = "sent"
SKIPPED = "skipped"
# Fields a sweep never needs: the history grows with every change of a booking.
_PROJECTION = {"history": 0}




def _field(kind: str, name: str = "") -> str:
    if not kind.isalnum():  # kinds come from configuration: keep them out of operator syntax
        raise ValueError(f"invalid reminder kind {kind!r}")
    return f"reminders.{kind}" + (f".{name}" if name else "")


# ---- the sweep query and the index that serves it -------------------------------------------
def index_name(kind: str) -> str:
    return f"reminder_sweep_{kind}"


def index_keys(kind: str) -> list[tuple[str, int]]:
    """Equality (status), then the reminder state ($in), then the range (start)."""
    return [("status", ASCENDING), (_field(kind, "state"), ASCENDING), ("start", ASCENDING)]


def _unclaimed(kind: str, now: datetime) -> dict[str, Any]:
    """Not handled yet, or claimed by an instance whose claim has expired."""
    return {_field(kind, "state"): {"$in": [None, CLAIMED]},
            _field(kind, "claim_until"): {"$not": {"$gt": now}}}


def sweep_query(kind: str, *, after: datetime, until: datetime, now: datetime
                ) -> dict[str, Any]:
    """Confirmed bookings starting in (after, until] whose reminder `kind` is still open.

    The index `index_keys(kind)` bounds status, state and start; claim_until is the only
    condition checked on the fetched documents (few: just the in-flight claims).
    """
    return {"status": BookingStatus.confirmed.value,
            "start": {"$gt": after, "$lte": until},
            **_unclaimed(kind, now)}


@store_call
def ensure_indexes(store: MongoStore, kinds: list[str]) -> list[str]:
    """Declare the sweep index of each configured kind (idempotent); returns their names."""
    return [store.bookings.create_index(index_keys(k), name=index_name(k)) for k in kinds]


@store_call
def find_due(store: MongoStore, kind: str, *, after: datetime, until: datetime,
             now: datetime, limit: int) -> list[Booking]:
    query = sweep_query(kind, after=after, until=until, now=now)
    cursor = store.bookings.find(query, _PROJECTION).limit(limit)
    if not store.is_mock:  # mongomock has no query planner (nor hints)
        cursor = cursor.hint(index_name(kind))
    return [Booking.model_validate(_from(doc)) for doc in cursor]


def explain_due(store: MongoStore, kind: str, *, after: datetime, until: datetime,
                now: datetime) -> dict[str, Any]:
    """The real server's plan for the sweep query (tests and diagnostics; not for mongomock)."""
    query = sweep_query(kind, after=after, until=until, now=now)
    with store.guarded():
        explained: dict[str, Any] = store.bookings.find(query, _PROJECTION).hint(
            index_name(kind)).explain()
    return explained


# ---- claims --------------------------------------------------------------------------------
def _claim_one(store: MongoStore, booking_id: str, kind: str, *, token: str, now: datetime,
               ttl: timedelta) -> Booking | None:
    doc = store.bookings.find_one_and_update(
        {"_id": booking_id, "status": BookingStatus.confirmed.value, "start": {"$gt": now},
         **_unclaimed(kind, now)},
        {"$set": {_field(kind): {"state": CLAIMED, "token": token, "claimed_at": now,
                                 "claim_until": now + ttl}}},
        projection=_PROJECTION, return_document=ReturnDocument.AFTER)
    return Booking.model_validate(_from(doc)) if doc else None


@store_call
def claim(store: MongoStore, booking_id: str, kind: str, *, token: str, now: datetime,
          ttl: timedelta) -> Booking | None:
    """Atomically claim reminder `kind` of one booking; None if another instance holds it,
    it is done, or the booking is no longer confirmed and in the future."""
    return _claim_one(store, booking_id, kind, token=token, now=now, ttl=ttl)


def claim_many(store: MongoStore, booking_ids: list[str], kind: str, *, token: str,
               now: datetime, ttl: timedelta) -> list[Booking]:
    """`claim` for each booking (one atomic update each, interleaving with other instances)."""
    won = []
    for booking_id in booking_ids:
        booking = claim(store, booking_id, kind, token=token, now=now, ttl=ttl)
        if booking is not None:
            won.append(booking)
    return won


@store_call
def mark_sent(store: MongoStore, booking_ids: list[str], kind: str, *, token: str,
              now: datetime, late: bool) -> int:
    """Close our own claims (the token matches) as sent; returns how many."""
    if not booking_ids:
        return 0
    res = store.bookings.update_many(
        {"_id": {"$in": booking_ids}, _field(kind, "state"): CLAIMED,
         _field(kind, "token"): token},
        {"$set": {_field(kind, "state"): SENT, _field(kind, "sent_at"): now,
                  _field(kind, "late"): late}})
    return int(res.modified_count)


@store_call
def mark_skipped(store: MongoStore, booking_ids: list[str], kind: str, *, reason: str,
                 now: datetime, token: str | None = None) -> int:
    """Record a deliberate skip of open (or our own claimed) reminders; returns how many
    changed, so a skip is counted once even when several instances decide it."""
    if not booking_ids:
        return 0
    query: dict[str, Any] = {"_id": {"$in": booking_ids}}
    if token is None:
        query.update(_unclaimed(kind, now))
    else:
        query.update({_field(kind, "state"): CLAIMED, _field(kind, "token"): token})
    res = store.bookings.update_many(
        query, {"$set": {_field(kind): {"state": SKIPPED, "reason": reason, "at": now}}})
    return int(res.modified_count)


@store_call
def reminder_state(store: MongoStore, booking_id: str, kind: str) -> dict[str, Any] | None:
    doc = store.bookings.find_one({"_id": booking_id}, {_field(kind): 1})
    state = ((doc or {}).get("reminders") or {}).get(kind)
    return dict(state) if state else None


@store_call
def users_by_id(store: MongoStore, user_ids: list[str]) -> dict[str, User]:
    ids = sorted(set(user_ids))
    return {d["_id"]: User.model_validate(_from(d))
            for d in store.users.find({"_id": {"$in": ids}})}


def _from(doc: dict[str, Any]) -> dict[str, Any]:
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return doc


class ReminderStore(StoreModule):
    ensure_indexes = query(ensure_indexes)
    find_due = query(find_due)
    claim = query(claim)
    claim_many = query(claim_many)
    mark_sent = query(mark_sent)
    mark_skipped = query(mark_skipped)
    reminder_state = query(reminder_state)
    users_by_id = query(users_by_id)
