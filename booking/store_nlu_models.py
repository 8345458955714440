"""Mongo queries of NLU training jobs and the model store (bot/retrain/jobs.py, the model
server): models live in MongoDB, so every app replica serves the same promoted model and a
training job needs no writable checkout or shared volume.

Collections:
- `nlu_jobs` {_id, state queued|running|succeeded|failed, by, created_at, started_at,
  finished_at, heartbeat_at, logs (tail), error, model_id, gate {...}, examples}
- `nlu_models` {_id (model id), sha256, size, chunks, created_at, job_id, gate {passed,
  reasons, notes, before, after, report}, stored (false until every chunk is written)}
- `nlu_model_chunks` {_id "<model id>:<n>", model_id, n, data}: the bytes, in 1 MiB pieces
  (GridFS's layout, written with plain pymongo so the in-process stand-in holds it too)
- `nlu_serving` {_id "current", model_id, sha256, size, history [model ids, newest last]}
- `nlu_audit` {action promote|rollback, by, at, model_id, previous, gate}
- `kv` document `nlu:training-lock` {job_id, heartbeat_at}: one training job at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from booking.store import MongoStore, StoreModule, query, store_call

JOBS = "nlu_jobs"
MODELS = "nlu_models"
CHUNKS = "nlu_model_chunks"
SERVING = "nlu_serving"
AUDIT = "nlu_audit"
LOCK_ID = "nlu:training-lock"
CHUNK_BYTES = 1 << 20
LOG_TAIL = 200
HISTORY = 20


def _id(value: Any, name: str = "id") -> str:
    if not isinstance(value, str) or not value or len(value) > 128:
        raise TypeError(f"{name} must be a non-empty string")
    return value


@store_call
def ensure_indexes(ms: MongoStore) -> None:
    ms.db[JOBS].create_index([("created_at", DESCENDING)])
    ms.db[MODELS].create_index([("created_at", DESCENDING)])
    ms.db[CHUNKS].create_index([("model_id", ASCENDING), ("n", ASCENDING)])
    ms.db[AUDIT].create_index([("at", DESCENDING)])


# ---- jobs and the one-job lock ----------------------------------------------------------
@store_call
def start_job(ms: MongoStore, job: dict[str, Any], now: datetime, stale_after: timedelta
              ) -> dict[str, Any] | None:
    """Take the training lock for `job` and insert it; None when another job holds the lock
    (a holder whose heartbeat is older than `stale_after` is taken over: it died)."""
    job_id = _id(job["_id"])
    try:
        ms.kv.find_one_and_update(
            {"_id": LOCK_ID, "$or": [{"value.job_id": None},
                                     {"value.heartbeat_at": {"$lt": now - stale_after}}]},
            {"$set": {"value": {"job_id": job_id, "heartbeat_at": now}, "at": now}},
            upsert=True)
    except DuplicateKeyError:
        return None
    doc = {**job, "state": "queued", "created_at": now, "heartbeat_at": now, "logs": []}
    ms.db[JOBS].insert_one(doc)
    return doc


@store_call
def heartbeat(ms: MongoStore, job_id: str, now: datetime, fields: dict[str, Any] | None = None,
              lines: list[str] | None = None) -> None:
    update: dict[str, Any] = {"$set": {"heartbeat_at": now, **(fields or {})}}
    if lines:
        update["$push"] = {"logs": {"$each": [str(x) for x in lines], "$slice": -LOG_TAIL}}
    # a heartbeat that arrives after the job finished (a worker thread late) changes nothing
    ms.db[JOBS].update_one({"_id": _id(job_id), "state": {"$in": ["queued", "running"]}},
                           update)
    ms.kv.update_one({"_id": LOCK_ID, "value.job_id": job_id},
                     {"$set": {"value.heartbeat_at": now}})


@store_call
def finish_job(ms: MongoStore, job_id: str, state: str, now: datetime,
               fields: dict[str, Any]) -> None:
    """Record the end of a job and release the lock (if it still holds it)."""
    ms.db[JOBS].update_one({"_id": _id(job_id), "state": {"$in": ["queued", "running"]}},
                           {"$set": {"state": state, "finished_at": now, "heartbeat_at": now,
                                     **fields}})
    ms.kv.update_one({"_id": LOCK_ID, "value.job_id": job_id},
                     {"$set": {"value": {"job_id": None, "heartbeat_at": now}, "at": now}})


@store_call
def get_job(ms: MongoStore, job_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = ms.db[JOBS].find_one({"_id": _id(job_id)})
    return doc


@store_call
def fail_if_stale(ms: MongoStore, job_id: str, now: datetime, stale_after: timedelta
                  ) -> dict[str, Any] | None:
    """A running/queued job without a heartbeat for `stale_after` died: mark it failed."""
    doc: dict[str, Any] | None = ms.db[JOBS].find_one_and_update(
        {"_id": _id(job_id), "state": {"$in": ["queued", "running"]},
         "heartbeat_at": {"$lt": now - stale_after}},
        {"$set": {"state": "failed", "finished_at": now,
                  "error": "the job stopped reporting (its process died)"}},
        return_document=ReturnDocument.AFTER)
    if doc is not None:
        ms.kv.update_one({"_id": LOCK_ID, "value.job_id": job_id},
                         {"$set": {"value": {"job_id": None, "heartbeat_at": now}}})
    return doc


@store_call
def recent_jobs(ms: MongoStore, limit: int = 20) -> list[dict[str, Any]]:
    return list(ms.db[JOBS].find({}, {"logs": 0}).sort([("created_at", DESCENDING)])
                .limit(limit))


# ---- model bytes --------------------------------------------------------------------------
def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from iter(lambda: f.read(CHUNK_BYTES), b"")


@store_call
def put_model(ms: MongoStore, model_id: str, path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Store the model file under `model_id` (chunks first, then the visible record)."""
    model_id = _id(model_id, "model_id")
    digest, size, n = hashlib.sha256(), 0, 0
    ms.db[CHUNKS].delete_many({"model_id": model_id})
    for n, data in enumerate(_chunks(path)):  # noqa: B007 - n is the count afterwards
        digest.update(data)
        size += len(data)
        ms.db[CHUNKS].insert_one({"_id": f"{model_id}:{n:06d}", "model_id": model_id, "n": n,
                                  "data": data})
    doc = {**meta, "_id": model_id, "sha256": digest.hexdigest(), "size": size,
           "chunks": n + 1 if size else 0, "stored": True}
    ms.db[MODELS].replace_one({"_id": model_id}, doc, upsert=True)
    return doc


@store_call
def get_model(ms: MongoStore, model_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = ms.db[MODELS].find_one({"_id": _id(model_id, "model_id"),
                                                         "stored": True})
    return doc


@store_call
def model_chunk(ms: MongoStore, model_id: str, n: int) -> bytes:
    doc = ms.db[CHUNKS].find_one({"_id": f"{_id(model_id, 'model_id')}:{int(n):06d}"})
    if doc is None:
        raise LookupError(f"chunk {n} of model {model_id} is missing")
    return bytes(doc["data"])


@store_call
def list_models(ms: MongoStore, limit: int = 20) -> list[dict[str, Any]]:
    return list(ms.db[MODELS].find({"stored": True}).sort(
        [("created_at", DESCENDING)]).limit(limit))


@store_call
def prune_models(ms: MongoStore, keep: int) -> list[str]:
    """Delete all but the newest `keep` models that are neither served nor in the serving
    history (rollback targets); returns the ids deleted. Bounds the store's size."""
    cur = ms.db[SERVING].find_one({"_id": "current"}) or {}
    protected = {cur.get("model_id"), *(cur.get("history") or [])}
    ids = [d["_id"] for d in ms.db[MODELS].find({}, {"_id": 1}).sort(
        [("created_at", DESCENDING), ("_id", DESCENDING)])]
    doomed = [i for i in ids if i not in protected][max(1, keep):]
    for model_id in doomed:
        ms.db[MODELS].delete_one({"_id": model_id})
        ms.db[CHUNKS].delete_many({"model_id": model_id})
    return doomed


@store_call
def delete_model(ms: MongoStore, model_id: str) -> None:
    ms.db[MODELS].delete_one({"_id": _id(model_id, "model_id")})
    ms.db[CHUNKS].delete_many({"model_id": model_id})


# ---- serving pointer and audit ------------------------------------------------------------
@store_call
def serving(ms: MongoStore) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = ms.db[SERVING].find_one({"_id": "current"})
    return doc


@store_call
def set_serving(ms: MongoStore, model: dict[str, Any], expected: str | None,
                audit: dict[str, Any], rollback: bool = False) -> dict[str, Any] | None:
    """Point the model server at `model` if the current model is still `expected`
    (compare-and-set: two admins promoting at once cannot interleave); audited.
    Promotion pushes the old model onto the history, rollback pops it. None: lost the race.
    """
    cur = ms.db[SERVING].find_one({"_id": "current"}) or {}
    if cur.get("model_id") != expected:
        return None
    history = list(cur.get("history") or [])
    if rollback:
        history = history[:-1]
    elif expected is not None:
        history = (history + [expected])[-HISTORY:]
    new = {"_id": "current", "model_id": model["_id"], "sha256": model["sha256"],
           "size": model["size"], "chunks": model["chunks"], "history": history,
           "at": audit["at"]}
    if cur:
        res = ms.db[SERVING].replace_one({"_id": "current", "model_id": expected}, new)
        if res.matched_count != 1:
            return None
    else:
        try:
            ms.db[SERVING].insert_one(new)
        except DuplicateKeyError:
            return None
    ms.db[AUDIT].insert_one({**audit, "model_id": model["_id"], "previous": expected})
    return new


@store_call
def audit_log(ms: MongoStore, limit: int = 50) -> list[dict[str, Any]]:
    # newest first; entries of the same instant in the order they were written (ObjectIds grow)
    return list(ms.db[AUDIT].find({}, {"_id": 0}).sort([("at", DESCENDING), ("_id", DESCENDING)])
                .limit(limit))


def utcnow() -> datetime:
    return datetime.now(UTC)


class NluModelStore(StoreModule):
    ensure_indexes = query(ensure_indexes)
    start_job = query(start_job)
    heartbeat = query(heartbeat)
    finish_job = query(finish_job)
    get_job = query(get_job)
    fail_if_stale = query(fail_if_stale)
    recent_jobs = query(recent_jobs)
    put_model = query(put_model)
    get_model = query(get_model)
    model_chunk = query(model_chunk)
    list_models = query(list_models)
    delete_model = query(delete_model)
    prune_models = query(prune_models)
    serving = query(serving)
    set_serving = query(set_serving)
    audit_log = query(audit_log)
