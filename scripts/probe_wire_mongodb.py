"""Which MongoDB features the store relies on does a wire-protocol server handle?

    .venv/bin/python scripts/probe_wire_mongodb.py               # starts nx-27017 on a free port
    .venv/bin/python scripts/probe_wire_mongodb.py mongodb://...  # or probes the given server

Prints one line per feature (ok / WRONG: what came back / ERROR: the server's message).
docs/scale-out.md records the result for nx-27017; a real MongoDB prints ok everywhere.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

T0 = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)


def _naive(value: Any) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def unique_sparse(c: Collection) -> Any:
    c.create_index("ref", unique=True, sparse=True)
    c.insert_many([{"x": 1}, {"x": 2}])  # two without ref: allowed by sparse
    c.insert_one({"ref": "A"})
    try:
        c.insert_one({"ref": "A"})
    except DuplicateKeyError:
        return True
    return "second ref=A accepted"


def _index_on(c: Collection, field: str) -> dict[str, Any] | None:
    """The index on `field`, found by its key (a server may choose its own index names)."""
    return next((info for info in c.index_information().values()
                 if [tuple(k) for k in info["key"]] == [(field, 1)]), None)


def index_options_reported(c: Collection) -> Any:
    c.create_index("ref", unique=True, sparse=True)
    info = _index_on(c, "ref")
    return True if info and info.get("sparse") and info.get("unique") else f"reported {info}"


def partial_index(c: Collection) -> Any:
    c.create_index([("slot", 1)], unique=True, name="active_slot",
                   partialFilterExpression={"status": "confirmed"})
    c.insert_one({"slot": 1, "status": "cancelled"})
    c.insert_one({"slot": 1, "status": "cancelled"})  # outside the filter: allowed
    c.insert_one({"slot": 1, "status": "confirmed"})
    try:
        c.insert_one({"slot": 1, "status": "confirmed"})
    except DuplicateKeyError:
        return True
    return "second confirmed slot accepted"


def atomic_claim(c: Collection) -> Any:
    c.insert_one({"_id": "r", "state": None})
    first = c.find_one_and_update({"_id": "r", "state": None}, {"$set": {"state": "claimed"}})
    second = c.find_one_and_update({"_id": "r", "state": None}, {"$set": {"state": "claimed"}})
    return True if first and second is None else f"first={first} second={second}"


def not_operator(c: Collection) -> Any:
    c.insert_many([{"_id": 1, "until": T0}, {"_id": 2}, {"_id": 3, "until": T0 + timedelta(1)}])
    got = sorted(d["_id"] for d in c.find({"until": {"$not": {"$gt": T0}}}))
    return True if got == [1, 2] else f"got {got}"


def push_subdocument(c: Collection) -> Any:
    c.insert_one({"_id": 1, "events": []})
    c.update_one({"_id": 1}, {"$push": {"events": {"at": T0, "kind": "sent"}}})
    events = c.find_one({"_id": 1})["events"]
    ok = isinstance(events, list) and events and isinstance(events[0], dict)
    return True if ok else f"stored {events!r}"


def set_on_insert(c: Collection) -> Any:
    c.update_one({"_id": 1}, {"$set": {"a": 1}, "$setOnInsert": {"b": 2, "c": T0}}, upsert=True)
    doc = c.find_one({"_id": 1})
    return True if doc.get("b") == 2 and _naive(doc.get("c")) == _naive(T0) else f"stored {doc}"


def max_date(c: Collection) -> Any:
    c.insert_one({"_id": 1, "seen": T0})
    c.update_one({"_id": 1}, {"$max": {"seen": T0 + timedelta(hours=1)}})
    seen = c.find_one({"_id": 1})["seen"]
    return True if isinstance(seen, datetime) else f"stored {seen!r} ({type(seen).__name__})"


def date_to_string_tz(c: Collection) -> Any:
    c.insert_one({"at": T0})
    out = list(c.aggregate([{"$project": {"_id": 0, "day": {"$dateToString": {
        "date": "$at", "format": "%Y-%m-%d %H", "timezone": "Asia/Jakarta"}}}}]))
    return True if out == [{"day": "2027-01-04 09"}] else f"got {out}"


def group_by_id_path(c: Collection) -> Any:
    c.insert_many([{"d": "a", "n": 1}, {"d": "a", "n": 2}, {"d": "b", "n": 5}])
    out = list(c.aggregate([{"$group": {"_id": "$d", "n": {"$sum": "$n"}}},
                            {"$sort": {"_id": 1}}]))
    return True if out == [{"_id": "a", "n": 3}, {"_id": "b", "n": 5}] else f"got {out}"


def ttl_index(c: Collection) -> Any:
    c.create_index("expires", expireAfterSeconds=0)
    info = _index_on(c, "expires")
    return True if info and info.get("expireAfterSeconds") == 0 else f"reported {info}"


PROBES: dict[str, Callable[[Collection], Any]] = {
    "unique sparse index enforced": unique_sparse,
    "index options reported (unique, sparse)": index_options_reported,
    "partial unique index (partialFilterExpression)": partial_index,
    "find_one_and_update claim is exclusive": atomic_claim,
    "$not in a filter": not_operator,
    "$push of a subdocument": push_subdocument,
    "$setOnInsert with upsert": set_on_insert,
    "$max on a date": max_date,
    "$dateToString with a time zone": date_to_string_tz,
    "$group by a field path": group_by_id_path,
    "TTL index reported": ttl_index,
}


def probe(url: str) -> dict[str, str]:
    results: dict[str, str] = {}
    with pymongo.MongoClient(url, serverSelectionTimeoutMS=5000, tz_aware=True) as client:
        db = client[f"probe_{uuid.uuid4().hex[:8]}"]
        for i, (name, check) in enumerate(PROBES.items()):
            try:
                got = check(db[f"c{i}"])
                results[name] = "ok" if got is True else f"WRONG: {got}"
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                results[name] = f"ERROR: {type(exc).__name__}: {str(exc)[:120]}"
        client.drop_database(db.name)
    return results


def _with_standin() -> dict[str, str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' starter
    from tests import mongo_standin

    workdir = Path(tempfile.mkdtemp(prefix="nx27017-probe-"))
    try:
        proc, url = mongo_standin.start(workdir)
        try:
            return probe(url)
        finally:
            mongo_standin.stop(proc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    results = probe(sys.argv[1]) if len(sys.argv) > 1 else _with_standin()
    width = max(map(len, results))
    for name, outcome in results.items():
        print(f"{name:<{width}}  {outcome}")


if __name__ == "__main__":
    main()
