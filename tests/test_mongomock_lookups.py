"""The stand-in's `_id` lookup and TTL pass fixes return what mongomock's scans return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import mongomock
import pytest
from bson import ObjectId
from mongomock import filtering
from mongomock.collection import Collection
from mongomock.helpers import patch_datetime_awareness_in_document

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


T0 = datetime(2026, 12, 1, 8, 0)
MIXED = [
    {"_id": 1, "wa_id": "a", "at": T0, "direction": "in"},
    {"_id": 2, "wa_id": "b", "at": T0 + timedelta(minutes=5), "direction": "in"},
    {"_id": 3, "wa_id": ["a", "c"], "at": [T0 - timedelta(days=1), T0 + timedelta(days=1)]},
    {"_id": 4, "wa_id": {"x": "a"}, "at": "2026-12-01"},
    {"_id": 5, "at": None, "direction": "out"},
    {"_id": 6, "wa_id": "a", "at": T0 + timedelta(milliseconds=1), "direction": "out"},
    {"_id": 7, "wa_id": "A", "at": T0 + timedelta(hours=1), "direction": ("in",)},
    {"_id": 8, "wa_id": 1, "at": T0 - timedelta(hours=1), "direction": "in"},
    {"_id": 9, "wa_id": "a", "at": T0 + timedelta(days=1), "direction": "in"},
]


@pytest.mark.parametrize("spec", [
    {"wa_id": "a"}, {"wa_id": "c"}, {"wa_id": "x"}, {"wa_id": "a", "direction": "in"},
    {"direction": "in"}, {"at": {"$gte": T0}}, {"at": {"$gt": T0}},
    {"at": {"$gte": T0, "$lt": T0 + timedelta(minutes=5)}}, {"at": {"$lte": T0}},
    {"wa_id": "a", "at": {"$gte": T0 + timedelta(microseconds=500)}},
    {"at": {"$gte": datetime(2026, 12, 1, 15, 0, tzinfo=timezone(timedelta(hours=7)))}},
    {"wa_id": "a", "$or": [{"direction": "out"}, {"at": T0}]}, {"wa_id.x": "a"},
    {"wa_id": {"$ne": "a"}}, {"wa_id": "a", "direction": {"$exists": False}},
    {"at": {"$gte": T0, "$ne": T0}}, {"wa_id": None}, {"wa_id": "a", "at": {"$gte": "2026"}},
    {"wa_id": {"$in": ["a", "c"]}}, {"wa_id": {"$in": []}}, {"wa_id": {"$in": ["A", 1]}},
    {"_id": {"$in": [1, 2]}}, {"direction": {"$in": ["in"]}, "at": {"$lt": T0}},
    {"wa_id": {"$in": ["x"], "$ne": "a"}},
])
def test_narrowed_scans_find_what_mongomocks_filter_finds(spec: dict) -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([dict(d) for d in MIXED])
    # the oracle: mongomock's own filter over every stored document, in its order
    oracle = mongomock.MongoClient().db.kv
    oracle.insert_many([dict(d) for d in MIXED])
    expected = [d["_id"] for d in oracle._store.documents
                if filtering.filter_applies(patch_datetime_awareness_in_document(spec), d)]
    assert [d["_id"] for d in store.kv.find(spec)] == expected
    assert store.kv.count_documents(spec) == len(expected)
    assert [d["_id"] for d in store.kv.find(spec).sort("_id", -1).limit(2)] == \
        sorted(expected, reverse=True)[:2]


def test_the_mixed_cases_are_not_all_empty() -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([dict(d) for d in MIXED])
    assert [d["_id"] for d in store.kv.find({"wa_id": "a"})] == [1, 3, 6, 9]
    assert [d["_id"] for d in store.kv.find({"at": {"$gte": T0}})] == [1, 2, 3, 6, 7, 9]
    assert [field for field, _, _ in mongomock_lookups.cheap_tests(
        {"at": {"$gte": T0}, "wa_id": "a", "n.x": "a", "$or": [], "d": {"$ne": "a"},
         "e": {"$in": ["a", "b"]}, "f": {"$in": ["a", 1]}})] == ["wa_id", "e", "at"]


def test_only_documents_that_could_match_meet_the_whole_filter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([dict(d) for d in MIXED])
    tested: list[object] = []
    whole = filtering.filter_applies
    monkeypatch.setattr(filtering, "filter_applies",
                        lambda spec, doc: tested.append(doc.get("_id")) or whole(spec, doc))
    spec = {"wa_id": "a", "at": {"$gte": T0, "$lt": T0 + timedelta(minutes=1)}}
    assert [d["_id"] for d in store.kv.find(spec)] == [1, 3, 6]  # 3: one date each bound
    # the tests are the whole filter: they decided on 1 and 6 (a string, a naive date);
    # 3 holds arrays, so mongomock's filter decides; not 9 (too late), nor other senders
    assert tested == [3]
    tested.clear()
    spec = {"wa_id": "a", "at": {"$gte": T0, "$lt": T0 + timedelta(minutes=1)},
            "n": {"$exists": False}}    # a condition that is no test: the filter decides
    assert [d["_id"] for d in store.kv.find(spec)] == [1, 3, 6]
    assert tested == [1, 3, 6]


def test_narrowed_scans_keep_mongomocks_order_after_deletes_and_updates() -> None:
    store = MongoStore.from_url(None)
    oracle = mongomock.MongoClient().db.kv
    for col in (store.kv, oracle):
        col.insert_many([{"_id": i, "wa_id": "a", "n": i} for i in range(8)])
        col.delete_one({"_id": 2})
        col.insert_one({"_id": 2, "wa_id": "a", "n": 2})
        col.update_one({"_id": 5}, {"$set": {"n": 50}})
        col.replace_one({"_id": 3}, {"wa_id": "a", "n": 30})
        col.delete_many({"_id": {"$in": [0, 6]}})
        col.insert_many([{"_id": 0, "wa_id": "a"}, {"_id": 9, "wa_id": "b"}])
    expected = [d["_id"] for d in oracle._store.documents if d.get("wa_id") == "a"]
    assert [d["_id"] for d in store.kv.find({"wa_id": "a"})] == expected
    assert expected[-2:] == [2, 0]   # re-inserted documents come last, as in mongomock


def test_narrowing_keeps_mongomocks_errors() -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([dict(d) for d in MIXED])
    with pytest.raises(mongomock.OperationFailure):   # no document passes "wa_id": still raised
        list(store.kv.find({"n": {"$nope": 1}, "wa_id": "nobody"}))
    # mongomock stops at the first failing field, so this one never reaches "$nope"
    assert list(store.kv.find({"wa_id": "nobody", "n": {"$nope": 1}})) == []


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
