"""The stand-in's cursor fix returns exactly what mongomock's own iteration returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import mongomock
import pytest
from mongomock.collection import Collection, Cursor

from booking import mongomock_cursor
from booking.store import MongoStore


def test_the_store_applies_the_fix() -> None:
    MongoStore.from_url(None)
    assert Cursor.__next__ is mongomock_cursor._next


@pytest.mark.parametrize(("skip", "limit", "sort"), [
    (0, 0, None), (3, 0, None), (0, 4, None), (2, 5, 1), (5, -3, -1), (40, 0, 1), (7, 100, -1)])
def test_same_documents_in_the_same_order(skip: int, limit: int, sort: int | None) -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([{"_id": f"k{i:02d}", "n": (i * 7) % 31} for i in range(31)])
    expected = [d["_id"] for d in sorted(store.kv.find(), key=lambda d: (
        d["n"] if sort else 0) * (sort or 1))]
    expected = expected[skip:]
    expected = expected[:abs(limit)] if limit else expected
    cursor = store.kv.find({}, sort=[("n", sort)] if sort else None, skip=skip, limit=limit)
    assert [d["_id"] for d in cursor] == expected


def test_aggregate_reads_every_document_once() -> None:
    client = mongomock.MongoClient()
    mongomock_cursor.apply()
    col = client.db.c
    col.insert_many([{"_id": i, "g": i % 3} for i in range(1000)])
    rows = {r["_id"]: r["n"] for r in col.aggregate([{"$group": {"_id": "$g",
                                                                  "n": {"$sum": 1}}}])}
    assert rows == {0: 334, 1: 333, 2: 333}


@pytest.mark.parametrize(("skip", "limit"), [(0, 0), (0, 3), (4, 2), (2, -5), (30, 5), (0, 99)])
def test_what_mongomock_itself_computes_with_a_filter_a_sort_and_a_projection(
        skip: int, limit: int) -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([{"_id": f"k{i:02d}", "n": (i * 7) % 31, "odd": i % 2,
                           "at": datetime(2026, 1, 1 + i % 28)} for i in range(31)])
    cursor = store.kv.find({"odd": 1}, {"n": 1, "at": 1}, sort=[("n", -1)], skip=skip,
                           limit=limit)
    oracle = cursor.clone()
    assert list(cursor) == oracle._compute_results(with_limit_and_skip=True)


def test_with_a_limit_only_skip_plus_limit_documents_are_copied(
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([{"_id": f"k{i:03d}", "n": i} for i in range(200)])
    copied: list[Any] = []
    original = Collection._copy_only_fields

    def counting(self: Any, doc: Any, *args: Any) -> Any:
        copied.append(doc["_id"])
        return original(self, doc, *args)

    monkeypatch.setattr(Collection, "_copy_only_fields", counting)
    got = [d["_id"] for d in store.kv.find({}, sort=[("n", -1)], skip=5, limit=3)]
    assert got == ["k194", "k193", "k192"]
    assert copied == [f"k{i}" for i in range(199, 191, -1)]  # skip + limit, not all 200


def test_a_tz_aware_client_gets_aware_datetimes() -> None:
    client = mongomock.MongoClient(tz_aware=True)
    mongomock_cursor.apply()
    col = client.db.c
    col.insert_many([{"_id": i, "at": datetime(2026, 1, 1, i)} for i in range(5)])
    got = list(col.find({}, sort=[("at", -1)], limit=2))
    assert [d["_id"] for d in got] == [4, 3]
    assert all(d["at"].tzinfo is not None for d in got)


def test_a_cursor_read_twice_gives_the_same_documents() -> None:
    store = MongoStore.from_url(None)
    store.kv.insert_many([{"_id": i} for i in range(10)])
    cursor = store.kv.find({}, limit=4)
    first = list(cursor)
    cursor.rewind()
    assert list(cursor) == first == [{"_id": i} for i in range(4)]
