"""MongoDB store: the only module that talks to pymongo.

Written once against pymongo's synchronous API. `Store` (async) runs every
call off the event loop, in this one place. mongomock is the in-process
stand-in for the embedded default and the tests; it is not thread-safe, so its
calls are serialised by a lock (a real MongoDB needs none).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import threading
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

import pymongo
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from booking.crypto import Keyring, process_keyring
from booking.errors import Conflict, NotFound, StoreUnavailable
from booking.models import ACTIVE_STATUSES, Booking, BookingStatus, Doctor, User, as_utc
from booking.slots import Interval
from booking.store_sealed import SealedCollection, SealedDatabase

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MOCK_SCHEME = "mongomock://"
DEFAULT_DB = "klinik"


class SlotKeyTaken(Exception):
    """Internal: the unique slot_key index refused an insert (someone else holds the slot)."""


def store_call(fn: Callable[P, T]) -> Callable[P, T]:
    """Serialise for mongomock and map driver errors to domain errors.

    For MongoStore methods and for the functions of the other store_* modules alike:
    the first argument is the MongoStore.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        self = args[0]
        with self._guard:  # type: ignore[attr-defined]
            try:
                return fn(*args, **kwargs)
            except (DuplicateKeyError, SlotKeyTaken, NotFound, Conflict):
                raise
            except PyMongoError as exc:
                raise StoreUnavailable(f"database error: {type(exc).__name__}") from exc

    return wrapper


def _literal(value: Any) -> Any:
    """Refuse anything but plain scalars in query positions: no operator injection."""
    if isinstance(value, (dict, list, tuple, set)):
        raise TypeError("query values must be scalars")
    return value


# Fields under unique sparse indexes: a real MongoDB indexes an explicit null (only a
# missing field is skipped), so these are left out of the document when they are None.
SPARSE_UNIQUE_FIELDS = frozenset({"email", "whatsapp", "calendar_token", "slot_key",
                                  "idempotency_key"})


def _without_null_keys(data: dict[str, Any]) -> dict[str, Any]:
    for name in SPARSE_UNIQUE_FIELDS:
        if name in data and data[name] is None:
            del data[name]
    data["_id"] = data.pop("id")
    return data


def _doc(model: Any) -> dict[str, Any]:
    return _without_null_keys(model.model_dump(mode="python"))


def _jsonable_doc(model: Any) -> dict[str, Any]:
    """Schedules hold dates and times, which BSON cannot store: keep them as ISO strings."""
    return _without_null_keys(model.model_dump(mode="json"))


def _from(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    if doc is None:
        return None
    doc = dict(doc)
    doc["id"] = doc.pop("_id")
    return doc


class MongoStore:
    """Synchronous store over pymongo (or mongomock).

    `db` and the collection attributes are sealed views (booking/store_sealed.py): personal
    fields are encrypted on the way in and decrypted on the way out with `keyring`.
    `raw_db` is the driver's database as stored (key rotation and the raw-scan tests only).
    """

    def __init__(self, client: Any, db_name: str, *, is_mock: bool,
                 keyring: Keyring | None = None) -> None:
        self.client = client
        self.keyring = keyring or process_keyring()
        self.raw_db = client[db_name]
        self.db: Any = SealedDatabase(self.raw_db, self.keyring)
        self.is_mock = is_mock
        self._guard: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if is_mock else contextlib.nullcontext())
        self.users: SealedCollection = self.db["users"]
        self.doctors: Collection[Any] = self.db["doctors"]
        self.bookings: SealedCollection = self.db["bookings"]
        self.outbox: SealedCollection = self.db["outbox"]
        self.chat_logs: SealedCollection = self.db["chat_logs"]
        self.kv: Collection[Any] = self.db["kv"]

    @classmethod
    def from_url(cls, url: str | None, db_name: str | None = None,
                 keyring: Keyring | None = None) -> MongoStore:
        """mongomock for None or mongomock://; else a real client (db: arg, URL, default).

        TLS is the URL's: ``tls=true&tlsCAFile=...`` (docs/data-protection.md)."""
        if not url or url.startswith(MOCK_SCHEME):
            import mongomock

            from booking import mongomock_cursor, mongomock_lookups

            mongomock_cursor.apply()
            mongomock_lookups.apply()
            return cls(mongomock.MongoClient(tz_aware=True), db_name or DEFAULT_DB, is_mock=True,
                       keyring=keyring)
        client: Any = pymongo.MongoClient(url, tz_aware=True, serverSelectionTimeoutMS=3000,
                                          connectTimeoutMS=3000, socketTimeoutMS=10000)
        name = db_name or pymongo.uri_parser.parse_uri(url).get("database") or DEFAULT_DB
        return cls(client, name, is_mock=False, keyring=keyring)

    # ---- lifecycle -----------------------------------------------------------------
    @store_call
    def ensure_indexes(self) -> None:
        self.users.create_index("email", unique=True, sparse=True)
        self.users.create_index("whatsapp", unique=True, sparse=True)
        self.doctors.create_index([("specialty", ASCENDING), ("city", ASCENDING)])
        self.doctors.create_index("city")
        self.doctors.create_index("calendar_token", unique=True, sparse=True)
        # Invariant 1: at most one active booking per (doctor, start); slot_key is
        # unset when a booking stops being active, so the sparse index ignores it.
        self.bookings.create_index("slot_key", unique=True, sparse=True)
        self.bookings.create_index("ref", unique=True)
        self.bookings.create_index([("doctor_id", ASCENDING), ("start", ASCENDING)])
        self.bookings.create_index([("patient_id", ASCENDING), ("start", ASCENDING)])
        self.bookings.create_index("start")
        self.bookings.create_index([("status", ASCENDING), ("start", ASCENDING)])
        self.bookings.create_index("idempotency_key", unique=True, sparse=True)
        self.outbox.create_index("dedupe_key", unique=True)
        self.outbox.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        self.outbox.create_index("provider_message_id", sparse=True)
        self.chat_logs.create_index([("wa_id", ASCENDING), ("at", ASCENDING)])
        self.chat_logs.create_index("at")

    @store_call
    def ping(self) -> bool:
        self.client.admin.command("ping")
        return True

    @store_call
    def drop_all(self) -> None:
        for name in self.db.list_collection_names():
            self.db[name].drop()

    def close(self) -> None:
        self.client.close()

    # ---- doctors -------------------------------------------------------------------
    @store_call
    def upsert_doctor(self, doctor: Doctor) -> Doctor:
        self.doctors.replace_one({"_id": doctor.id}, _jsonable_doc(doctor), upsert=True)
        return doctor

    @store_call
    def get_doctor(self, doctor_id: str) -> Doctor:
        doc = _from(self.doctors.find_one({"_id": _literal(doctor_id)}))
        if doc is None:
            raise NotFound("doctor not found", doctor_id=doctor_id)
        return Doctor.model_validate(doc)

    @store_call
    def set_doctor_photo(self, doctor_id: str, photo_url: str | None) -> tuple[Doctor, str | None]:
        """Point a doctor at a photo (None: no photo) in one update, so a concurrent edit of
        other fields is kept; returns the doctor and the photo URL it had before."""
        change = {"$set": {"photo_url": photo_url}} if photo_url else \
            {"$unset": {"photo_url": ""}}
        before = _from(self.doctors.find_one_and_update(
            {"_id": _literal(doctor_id)}, change, return_document=ReturnDocument.BEFORE))
        if before is None:
            raise NotFound("doctor not found", doctor_id=doctor_id)
        previous = before.get("photo_url")
        return Doctor.model_validate({**before, "photo_url": photo_url}), previous

    @store_call
    def get_doctors(self, doctor_ids: list[str]) -> dict[str, Doctor]:
        ids = [_literal(i) for i in doctor_ids]
        return {d["_id"]: Doctor.model_validate(_from(d))
                for d in self.doctors.find({"_id": {"$in": ids}})}

    @store_call
    def find_doctors(self, *, specialty: str | None = None, city: str | None = None,
                     q: str | None = None, active_only: bool = True,
                     skip: int = 0, limit: int = 0) -> tuple[list[Doctor], int]:
        query: dict[str, Any] = {}
        if specialty:
            query["specialty"] = _literal(specialty)
        if city:
            query["city"] = _literal(city)
        if q:
            query["name"] = {"$regex": re.escape(_literal(q)), "$options": "i"}
        if active_only:
            query["active"] = True
        total = self.doctors.count_documents(query)
        cursor = self.doctors.find(query).sort([("name", ASCENDING), ("_id", ASCENDING)])
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return [Doctor.model_validate(_from(d)) for d in cursor], total

    @store_call
    def doctor_by_calendar_token(self, token: str) -> Doctor | None:
        doc = _from(self.doctors.find_one({"calendar_token": _literal(token)}))
        return Doctor.model_validate(doc) if doc else None

    @store_call
    def delete_doctor(self, doctor_id: str) -> None:
        if not self.doctors.delete_one({"_id": _literal(doctor_id)}).deleted_count:
            raise NotFound("doctor not found", doctor_id=doctor_id)

    # ---- users ---------------------------------------------------------------------
    @store_call
    def insert_user(self, user: User) -> User:
        try:
            self.users.insert_one(_doc(user))
        except DuplicateKeyError as exc:
            raise Conflict("a user with this email or WhatsApp number exists") from exc
        return user

    @store_call
    def update_user(self, user: User) -> User:
        try:
            res = self.users.replace_one({"_id": user.id}, _doc(user))
        except DuplicateKeyError as exc:
            raise Conflict("a user with this email or WhatsApp number exists") from exc
        if not res.matched_count:
            raise NotFound("user not found", user_id=user.id)
        return user

    @store_call
    def get_user(self, user_id: str) -> User:
        doc = _from(self.users.find_one({"_id": _literal(user_id)}))
        if doc is None:
            raise NotFound("user not found", user_id=user_id)
        return User.model_validate(doc)

    @store_call
    def find_user(self, *, email: str | None = None, whatsapp: str | None = None) -> User | None:
        if email is not None:
            doc = self.users.find_one({"email": _literal(email.strip().lower())})
        elif whatsapp is not None:
            doc = self.users.find_one({"whatsapp": _literal(whatsapp)})
        else:
            return None
        found = _from(doc)
        return User.model_validate(found) if found else None

    @store_call
    def list_users(self, *, role: str | None = None, skip: int = 0, limit: int = 50
                   ) -> tuple[list[User], int]:
        query: dict[str, Any] = {"role": _literal(role)} if role else {}
        total = self.users.count_documents(query)
        cursor = self.users.find(query).sort("_id", ASCENDING).skip(skip).limit(limit)
        return [User.model_validate(_from(u)) for u in cursor], total

    @store_call
    def delete_user(self, user_id: str) -> None:
        if not self.users.delete_one({"_id": _literal(user_id)}).deleted_count:
            raise NotFound("user not found", user_id=user_id)

    @store_call
    def bump_token_version(self, user_id: str) -> int:
        """Void every token of the user issued so far; returns the new version."""
        doc = self.users.find_one_and_update({"_id": _literal(user_id)},
                                             {"$inc": {"token_version": 1}},
                                             return_document=ReturnDocument.AFTER)
        if doc is None:
            raise NotFound("user not found", user_id=user_id)
        return int(doc["token_version"])

    @store_call
    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        if not self.users.update_one({"_id": _literal(user_id)},
                                     {"$set": {"password_hash": password_hash}}).matched_count:
            raise NotFound("user not found", user_id=user_id)

    @store_call
    def attach_whatsapp(self, user_id: str, number: str) -> tuple[User, int]:
        """The user proved they read `number`: it becomes theirs.

        A WhatsApp-only patient who already writes from that number is folded into the
        account (their bookings move over); another web account that held it loses it
        (numbers are recycled; whoever reads it now owns it). Returns the user and how many
        bookings moved. Idempotent, so a crash half-way is repaired by confirming again."""
        number = _literal(number)
        moved = 0
        for _ in range(3):  # a WhatsApp patient may be created for the number meanwhile
            holder = _from(self.users.find_one({"whatsapp": number}))
            if holder is not None and holder["id"] != user_id:
                other = User.model_validate(holder)
                if other.whatsapp_only:
                    moved += self.bookings.update_many(
                        {"patient_id": other.id},
                        {"$set": {"patient_id": _literal(user_id)}}).modified_count
                    self.users.delete_one({"_id": other.id})
                else:
                    self.users.update_one({"_id": other.id}, {"$unset": {"whatsapp": ""}})
            try:
                doc = self.users.find_one_and_update(
                    {"_id": _literal(user_id)},
                    {"$set": {"whatsapp": number}, "$unset": {"whatsapp_pending": ""}},
                    return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                continue
            if doc is None:
                raise NotFound("user not found", user_id=user_id)
            return User.model_validate(_from(doc)), moved
        raise Conflict("the number is being registered right now; try again")

    @store_call
    def upsert_whatsapp_patient(self, whatsapp: str, name: str, language: str) -> User:
        """Register a WhatsApp sender once; later calls return the existing user."""
        fresh = User(whatsapp=whatsapp, name=name, language=language)
        doc = self.users.find_one_and_update(
            {"whatsapp": _literal(fresh.whatsapp)},
            {"$setOnInsert": _doc(fresh)},
            upsert=True, return_document=ReturnDocument.AFTER)
        return User.model_validate(_from(doc))

    # ---- bookings ------------------------------------------------------------------
    @store_call
    def insert_booking(self, booking: Booking) -> Booking:
        """Insert; SlotKeyTaken when the slot already has an active booking."""
        try:
            self.bookings.insert_one(_doc(booking))
        except DuplicateKeyError as exc:
            key = self._duplicate_key(exc, booking)
            if key == "slot_key":
                raise SlotKeyTaken(booking.slot_key) from exc
            if key == "idempotency_key":
                raise Conflict("duplicate idempotency key", key=booking.idempotency_key) from exc
            raise  # ref collision: the caller retries with a new ref
        return booking

    def _duplicate_key(self, exc: DuplicateKeyError, booking: Booking) -> str:
        """Which unique index refused the insert (mongomock's error does not say)."""
        pattern = (exc.details or {}).get("keyPattern") or {}
        if pattern:
            return next(iter(pattern))
        if booking.slot_key and self.bookings.find_one({"slot_key": booking.slot_key}, {"_id": 1}):
            return "slot_key"
        if booking.idempotency_key and self.bookings.find_one(
                {"idempotency_key": booking.idempotency_key}, {"_id": 1}):
            return "idempotency_key"
        return "ref"

    @store_call
    def slot_holder(self, key: str) -> str | None:
        """Patient id of the active booking of this slot, if any."""
        doc = self.bookings.find_one({"slot_key": _literal(key)}, {"patient_id": 1})
        return doc["patient_id"] if doc else None

    @store_call
    def get_booking(self, booking_id: str) -> Booking:
        doc = _from(self.bookings.find_one({"_id": _literal(booking_id)}))
        if doc is None:
            raise NotFound("booking not found", booking_id=booking_id)
        return Booking.model_validate(doc)

    @store_call
    def find_booking(self, *, ref: str | None = None, idempotency_key: str | None = None,
                     slot_key: str | None = None) -> Booking | None:
        if ref is not None:
            doc = self.bookings.find_one({"ref": _literal(ref)})
        elif slot_key is not None:
            doc = self.bookings.find_one({"slot_key": _literal(slot_key)})
        elif idempotency_key is not None:
            doc = self.bookings.find_one({"idempotency_key": _literal(idempotency_key)})
        else:
            return None
        found = _from(doc)
        return Booking.model_validate(found) if found else None

    @store_call
    def transition_booking(self, booking_id: str, expected: BookingStatus, new: BookingStatus,
                           set_fields: dict[str, Any], history: dict[str, Any]) -> Booking | None:
        """Compare-and-set the status; the slot_key is released when the booking stops being active.

        Returns None when the booking is no longer in `expected` (a concurrent change won).
        """
        update: dict[str, Any] = {"$set": {**set_fields, "status": new.value},
                                  "$push": {"history": history}}
        if new not in ACTIVE_STATUSES:
            update["$unset"] = {"slot_key": ""}
        doc = self.bookings.find_one_and_update(
            {"_id": _literal(booking_id), "status": expected.value}, update,
            return_document=ReturnDocument.AFTER)
        found = _from(doc)
        return Booking.model_validate(found) if found else None

    @store_call
    def update_booking_fields(self, booking_id: str, set_fields: dict[str, Any],
                              history: dict[str, Any] | None = None) -> Booking:
        update: dict[str, Any] = {"$set": set_fields}
        if history:
            update["$push"] = {"history": history}
        doc = _from(self.bookings.find_one_and_update(
            {"_id": _literal(booking_id)}, update, return_document=ReturnDocument.AFTER))
        if doc is None:
            raise NotFound("booking not found", booking_id=booking_id)
        return Booking.model_validate(doc)

    @store_call
    def delete_booking(self, booking_id: str) -> None:
        self.bookings.delete_one({"_id": _literal(booking_id)})

    @store_call
    def busy_intervals(self, doctor_ids: list[str], start: datetime, end: datetime
                       ) -> dict[str, list[Interval]]:
        """Active bookings of these doctors overlapping [start, end), by doctor."""
        out: dict[str, list[Interval]] = {d: [] for d in doctor_ids}
        cursor = self.bookings.find(
            {"doctor_id": {"$in": [_literal(d) for d in doctor_ids]},
             "start": {"$lt": end}, "end": {"$gt": start},
             "status": {"$in": [s.value for s in ACTIVE_STATUSES]}},
            {"doctor_id": 1, "start": 1, "end": 1, "_id": 0})
        for doc in cursor:
            out[doc["doctor_id"]].append(Interval(as_utc(doc["start"]), as_utc(doc["end"])))
        return out

    @store_call
    def patient_overlaps(self, patient_id: str, start: datetime, end: datetime,
                         exclude_id: str | None = None) -> list[Booking]:
        query: dict[str, Any] = {"patient_id": _literal(patient_id), "start": {"$lt": end},
                                 "end": {"$gt": start},
                                 "status": {"$in": [s.value for s in ACTIVE_STATUSES]}}
        if exclude_id:
            query["_id"] = {"$ne": _literal(exclude_id)}
        return [Booking.model_validate(_from(d)) for d in self.bookings.find(query)]

    @store_call
    def interrupted_reschedules(self, created_before: datetime, created_after: datetime,
                                limit: int = 200) -> list[tuple[Booking, Booking]]:
        """(new, old) pairs where a move booked the new slot but the old booking is still
        confirmed: a process died between the two writes of BookingService.reschedule."""
        moved = list(self.bookings.find(
            {"rescheduled_from": {"$ne": None}, "status": BookingStatus.confirmed.value,
             "created_at": {"$lt": created_before, "$gte": created_after}}).limit(limit))
        if not moved:
            return []
        by_old = {d["rescheduled_from"]: d for d in moved}
        olds = self.bookings.find({"_id": {"$in": [_literal(k) for k in by_old]},
                                   "status": BookingStatus.confirmed.value})
        return [(Booking.model_validate(_from(by_old[o["_id"]])),
                 Booking.model_validate(_from(o))) for o in olds]

    @store_call
    def count_upcoming(self, patient_id: str, now: datetime) -> int:
        return int(self.bookings.count_documents(
            {"patient_id": _literal(patient_id), "start": {"$gt": now},
             "status": {"$in": [s.value for s in ACTIVE_STATUSES]}}))

    @store_call
    def find_bookings(self, *, patient_id: str | None = None, doctor_id: str | None = None,
                      statuses: list[str] | None = None, start_from: datetime | None = None,
                      start_to: datetime | None = None, skip: int = 0, limit: int = 0,
                      newest_first: bool = False) -> tuple[list[Booking], int]:
        query: dict[str, Any] = {}
        if patient_id:
            query["patient_id"] = _literal(patient_id)
        if doctor_id:
            query["doctor_id"] = _literal(doctor_id)
        if statuses:
            query["status"] = {"$in": [_literal(s) for s in statuses]}
        if start_from or start_to:
            rng: dict[str, datetime] = {}
            if start_from:
                rng["$gte"] = start_from
            if start_to:
                rng["$lt"] = start_to
            query["start"] = rng
        total = self.bookings.count_documents(query)
        cursor = self.bookings.find(query).sort(
            [("start", DESCENDING if newest_first else ASCENDING), ("_id", ASCENDING)])
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return [Booking.model_validate(_from(d)) for d in cursor], total

    @store_call
    def bookings_with_pending_outbox(self, older_than: datetime, limit: int = 200
                                     ) -> list[Booking]:
        cursor = self.bookings.find({"outbox_pending.0": {"$exists": True},
                                     "updated_at": {"$lt": older_than}}).limit(limit)
        return [Booking.model_validate(_from(d)) for d in cursor]

    # ---- outbox --------------------------------------------------------------------
    @store_call
    def enqueue(self, entries: list[dict[str, Any]]) -> int:
        """Insert outbox entries; one whose dedupe_key exists is left alone. Returns new ones."""
        created = 0
        for entry in entries:
            res = self.outbox.update_one({"dedupe_key": entry["dedupe_key"]},
                                         {"$setOnInsert": entry}, upsert=True)
            created += 1 if res.upserted_id is not None else 0
        return created

    # ---- key/value (watermarks, small state) --------------------------------------------
    @store_call
    def kv_get(self, key: str) -> Any:
        doc = self.kv.find_one({"_id": _literal(key)})
        return doc["value"] if doc else None

    @store_call
    def kv_set(self, key: str, value: Any) -> None:
        self.kv.update_one({"_id": _literal(key)},
                           {"$set": {"value": value, "at": datetime.now(UTC)}}, upsert=True)

    @contextlib.contextmanager
    def guarded(self) -> Iterator[MongoStore]:
        """For modules that add their own queries (analytics, scheduler): same serialisation."""
        with self._guard:
            yield self


class Query(Generic[P, T]):
    """A sync store function as a typed async method of a store module: each call runs in a
    worker thread, off the event loop (serialised for mongomock and with driver errors
    mapped by the function's own @store_call). mypy sees the function's exact signature."""

    def __init__(self, fn: Callable[Concatenate[MongoStore, P], T]) -> None:
        self.fn = fn
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> Query[P, T]: ...

    @overload
    def __get__(self, obj: StoreModule, owner: type[Any]
                ) -> Callable[P, Coroutine[Any, Any, T]]: ...

    def __get__(self, obj: StoreModule | None, owner: type[Any]) -> Any:
        if obj is None:
            return self
        fn, ms = self.fn, obj.ms

        async def call(*args: P.args, **kwargs: P.kwargs) -> T:
            return await asyncio.to_thread(fn, ms, *args, **kwargs)

        return call


def query(fn: Callable[Concatenate[MongoStore, P], T]) -> Query[P, T]:
    return Query(fn)


class StoreModule:
    """One concern's queries (users, bookings, the outbox, ...): typed async methods over
    sync pymongo functions, declared with `query(...)`."""

    def __init__(self, ms: MongoStore) -> None:
        self.ms = ms


class Users(StoreModule):
    insert = query(MongoStore.insert_user)
    update = query(MongoStore.update_user)
    get = query(MongoStore.get_user)
    find = query(MongoStore.find_user)
    list = query(MongoStore.list_users)
    delete = query(MongoStore.delete_user)
    upsert_whatsapp_patient = query(MongoStore.upsert_whatsapp_patient)
    bump_token_version = query(MongoStore.bump_token_version)
    set_password_hash = query(MongoStore.set_password_hash)
    attach_whatsapp = query(MongoStore.attach_whatsapp)


class Doctors(StoreModule):
    upsert = query(MongoStore.upsert_doctor)
    get = query(MongoStore.get_doctor)
    get_many = query(MongoStore.get_doctors)
    find = query(MongoStore.find_doctors)
    by_calendar_token = query(MongoStore.doctor_by_calendar_token)
    set_photo = query(MongoStore.set_doctor_photo)
    delete = query(MongoStore.delete_doctor)


class Bookings(StoreModule):
    insert = query(MongoStore.insert_booking)
    get = query(MongoStore.get_booking)
    find_one = query(MongoStore.find_booking)
    find = query(MongoStore.find_bookings)
    slot_holder = query(MongoStore.slot_holder)
    transition = query(MongoStore.transition_booking)
    update_fields = query(MongoStore.update_booking_fields)
    delete = query(MongoStore.delete_booking)
    busy_intervals = query(MongoStore.busy_intervals)
    patient_overlaps = query(MongoStore.patient_overlaps)
    count_upcoming = query(MongoStore.count_upcoming)
    interrupted_reschedules = query(MongoStore.interrupted_reschedules)
    with_pending_outbox = query(MongoStore.bookings_with_pending_outbox)


class Kv(StoreModule):
    get = query(MongoStore.kv_get)
    set = query(MongoStore.kv_set)


class Store:
    """The async face of the store: one typed module per concern, every call off the loop.

    `store.sync` is the MongoStore itself (tools, tests and the demo loader use it as is).
    """

    def __init__(self, sync: MongoStore) -> None:
        # imported here: these modules build on this one
        from booking.store_analytics import AnalyticsStore
        from booking.store_chat import ChatStore
        from booking.store_handoffs import HandoffStore
        from booking.store_nlu_inbox import NluInboxStore
        from booking.store_nlu_models import NluModelStore
        from booking.store_outbox import OutboxStore
        from booking.store_privacy import PrivacyStore
        from booking.store_reminders import ReminderStore
        from booking.store_retention import RetentionStore
        from booking.store_retrain import RetrainStore
        from booking.store_waitlist import WaitlistStore

        self.sync = sync
        self.users = Users(sync)
        self.doctors = Doctors(sync)
        self.bookings = Bookings(sync)
        self.kv = Kv(sync)
        self.outbox = OutboxStore(sync)
        self.chat = ChatStore(sync)
        self.reminders = ReminderStore(sync)
        self.analytics = AnalyticsStore(sync)
        self.retrain = RetrainStore(sync)
        self.nlu_inbox = NluInboxStore(sync)
        self.nlu_models = NluModelStore(sync)
        self.handoffs = HandoffStore(sync)
        self.waitlist = WaitlistStore(sync)
        self.retention = RetentionStore(sync)
        self.privacy = PrivacyStore(sync)

    async def ensure_indexes(self) -> None:
        await asyncio.to_thread(self.sync.ensure_indexes)
        await self.nlu_inbox.ensure_indexes()
        await self.nlu_models.ensure_indexes()

    async def ping(self) -> bool:
        return await asyncio.to_thread(self.sync.ping)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A one-off sync call off the loop (start-up tasks such as loading demo data)."""
        return await asyncio.to_thread(fn, *args, **kwargs)
