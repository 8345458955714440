"""The Mongo store: indexes, the slot_key guarantee, injection safety, users, outbox dedupe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.errors import Conflict, NotFound
from booking.models import Booking, BookingStatus, Role, User, slot_key
from booking.store import MongoStore, SlotKeyTaken

START = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def booking(**kw: object) -> Booking:
    data: dict[str, object] = dict(ref="ACD-EFG", patient_id="p1", doctor_id="d1", start=START,
                                   end=START + timedelta(minutes=30), created_at=START,
                                   updated_at=START, slot_key=slot_key("d1", START))
    data.update(kw)
    return Booking.model_validate(data)


def test_declared_indexes(sync_store: MongoStore) -> None:
    info = sync_store.bookings.index_information()
    slot = next(v for v in info.values() if v["key"] == [("slot_key", 1)])
    assert slot.get("unique") and slot.get("sparse")
    keys = [v["key"] for v in info.values()]
    assert [("doctor_id", 1), ("start", 1)] in keys
    assert [("patient_id", 1), ("start", 1)] in keys
    outbox = sync_store.outbox.index_information()
    assert any(v["key"] == [("dedupe_key", 1)] and v.get("unique") for v in outbox.values())
    doctors = [v["key"] for v in sync_store.doctors.index_information().values()]
    assert [("specialty", 1), ("city", 1)] in doctors and [("city", 1)] in doctors


def test_slot_key_unique_while_active_and_released_after(sync_store: MongoStore) -> None:
    first = sync_store.insert_booking(booking())
    with pytest.raises(SlotKeyTaken):
        sync_store.insert_booking(booking(ref="ACD-EFH"))
    done = sync_store.transition_booking(first.id, BookingStatus.confirmed,
                                         BookingStatus.cancelled, {},
                                         {"at": START, "action": "cancelled", "actor": "t",
                                          "status": "cancelled"})
    assert done is not None and done.slot_key is None
    sync_store.insert_booking(booking(ref="ACD-EFH"))
    # a second transition from the old status loses the compare-and-set
    assert sync_store.transition_booking(first.id, BookingStatus.confirmed,
                                         BookingStatus.cancelled, {}, {}) is None


def test_round_trip_keeps_utc(sync_store: MongoStore) -> None:
    stored = sync_store.insert_booking(booking())
    loaded = sync_store.get_booking(stored.id)
    assert loaded.start == START and loaded.start.tzinfo is not None
    assert loaded.start.utcoffset() == timedelta(0)


@pytest.mark.parametrize("evil", [{"$ne": None}, {"$gt": ""}, ["a"], {"$where": "1"}])
def test_operator_injection_is_refused(sync_store: MongoStore, evil: object) -> None:
    sync_store.insert_user(User(email="a@b.id", name="A", role=Role.patient))
    with pytest.raises(TypeError):
        sync_store.get_user(evil)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sync_store.find_doctors(city=evil)  # type: ignore[arg-type]


def test_users_unique_and_whatsapp_upsert(sync_store: MongoStore) -> None:
    sync_store.insert_user(User(email="Rina@Example.id", name="Rina"))
    with pytest.raises(Conflict):
        sync_store.insert_user(User(email="rina@example.id", name="Other"))
    assert sync_store.find_user(email="RINA@example.id") is not None
    first = sync_store.upsert_whatsapp_patient("6281234567890", "Budi", "id")
    again = sync_store.upsert_whatsapp_patient("6281234567890", "Budi Baru", "en")
    assert first.id == again.id and again.name == "Budi"
    with pytest.raises(NotFound):
        sync_store.get_user("nope")


def test_outbox_dedupe_key(sync_store: MongoStore) -> None:
    entry = {"_id": "o1", "dedupe_key": "booking_confirmation:b1", "status": "pending"}
    assert sync_store.enqueue([entry]) == 1
    assert sync_store.enqueue([{**entry, "_id": "o2"}]) == 0
    assert sync_store.outbox.count_documents({}) == 1


def test_find_doctors_filters_and_escapes_regex(sync_store: MongoStore) -> None:
    from tests.conftest import make_doctor

    sync_store.upsert_doctor(make_doctor(id="a", name="dr. Sari (Anak)", specialty="pediatrics"))
    sync_store.upsert_doctor(make_doctor(id="b", name="dr. Budi", city="Bandung"))
    found, total = sync_store.find_doctors(q="sari (anak")
    assert total == 1 and found[0].id == "a"
    assert sync_store.find_doctors(q=".*")[1] == 0
    assert [d.id for d in sync_store.find_doctors(city="Bandung")[0]] == ["b"]


def test_sparse_unique_fields_are_not_stored_as_null(sync_store: MongoStore) -> None:
    """A real MongoDB indexes explicit nulls; two users without email must both fit."""
    from tests.conftest import make_doctor

    sync_store.insert_user(User(name="A", whatsapp="6281234567001"))
    sync_store.insert_user(User(name="B", whatsapp="6281234567002"))
    sync_store.upsert_doctor(make_doctor(id="x1"))
    sync_store.upsert_doctor(make_doctor(id="x2"))
    sync_store.insert_booking(booking())
    sync_store.insert_booking(booking(ref="ACD-EFH", start=START + timedelta(hours=1),
                                      slot_key=slot_key("d1", START + timedelta(hours=1))))
    for doc in [*sync_store.users.find(), *sync_store.doctors.find(),
                *sync_store.bookings.find()]:
        assert not any(doc.get(f, "absent") is None for f in
                       ("email", "whatsapp", "calendar_token", "slot_key", "idempotency_key"))
    sync_store.ensure_indexes()  # a restart over existing data still succeeds
