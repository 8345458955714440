"""The stand-in's `_id` lookup and TTL pass fixes return what mongomock's scans return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import mongomock
import pytest
from bson import ObjectId
from mongomock.collection import Collection

from booking import mongomock_lookups
from booking.store import MongoStore


def test_the_store_applies_the_fix() -> None:
    MongoStore.from_url(None)
    assert Collection._iter_documents.__name__ == "iter_documents"


@pytest.mark.parametrize("spec", [
    {"_id": "k07"}, {"_id": "k07", "n": 17}, {"_id": "k07", "n": 3}, {"_id": "nope"},
    {"_id": 5}, {"_id": True}, {"_id": {"$in": ["k01", "k02"]}}, {"_id": ["k01"]},
    {"n": {"$gte": 20}}, {}, {"_id": "k07", "n": {"$exists": True}},
])
def test_same_documents_as_a_scan(spec: dict) -> None:
    store = MongoStore.from_url(None)
    docs = [{"_id": f"k{i:02d}", "n": (i * 7) % 31} for i in range(31)] + [{"_id": 5, "n": 1}]
    store.kv.insert_many(docs)
    expected = [d["_id"] for d in docs if all(
        _matches(d, field, want) for field, want in spec.items())]
    assert [d["_id"] for d in store.kv.find(spec)] == expected
    assert store.kv.count_documents(spec) == len(expected)
    found = store.kv.find_one(spec)
    assert (found or {}).get("_id") == (expected[0] if expected else None)


def _matches(doc: dict, field: str, want: object) -> bool:
    value = doc.get(field)
    if isinstance(want, dict):
        if "$in" in want:
            return value in want["$in"]
        if "$gte" in want:
            return value is not None and value >= want["$gte"]
        return field in doc  # $exists
    if isinstance(want, list):
        return value == want
    return type(value) is type(want) and value == want


def test_updates_by_id_touch_only_that_document() -> None:
    store = MongoStore.from_url(None)
    oid = ObjectId()
    store.kv.insert_many([{"_id": oid, "n": 1}, {"_id": "a", "n": 1}])
    assert store.kv.update_one({"_id": oid}, {"$inc": {"n": 5}}).modified_count == 1
    assert store.kv.update_one({"_id": oid, "n": 1}, {"$inc": {"n": 5}}).matched_count == 0
    assert {d["_id"]: d["n"] for d in store.kv.find()} == {oid: 6, "a": 1}
    with pytest.raises(mongomock.OperationFailure):
        list(store.kv.find({"_id": "a", "n": {"$nope": 1}}))  # the filter is still checked


def test_expired_documents_go_within_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(mongomock_lookups.time, "monotonic", lambda: clock[0])
    store = MongoStore.from_url(None)
    col = store.db["ttl_probe"]
    col.create_index("expire_at", expireAfterSeconds=0)
    past = datetime.now(UTC) - timedelta(seconds=5)
    col.insert_many([{"_id": 1, "expire_at": past},
                     {"_id": 2, "expire_at": past + timedelta(days=1)}])
    clock[0] += mongomock_lookups.TTL_PASS_S
    assert [d["_id"] for d in col.find()] == [2]       # a pass ran: expired one gone
    col.insert_one({"_id": 3, "expire_at": past})
    assert {d["_id"] for d in col.find()} == {2, 3}    # within TTL_PASS_S: not yet (MongoDB: 60 s)
    clock[0] += mongomock_lookups.TTL_PASS_S
    assert [d["_id"] for d in col.find()] == [2]
    assert col.find_one({"_id": 3}) is None
