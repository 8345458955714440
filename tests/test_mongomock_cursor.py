"""The stand-in's cursor fix returns exactly what mongomock's own iteration returns."""

from __future__ import annotations

import mongomock
import pytest
from mongomock.collection import Cursor

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
