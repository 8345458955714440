"""Key rotation over the stored documents (driver code for `python -m booking.keys`).

`rotate` walks every sealed collection in `_id` order, in batches, and re-seals each value
that is not under the primary key (or was stored before encryption was on) with the primary
key. Each document is rewritten by a compare-and-set on the values it read, so a concurrent
write by the app (which seals with the primary key anyway) is never overwritten. After
each batch the last `_id` is saved in `kv` (`keys:rotate:<collection>`), so a run that
crashed resumes where it stopped; the saved position is tied to the primary key id, and a
finished collection clears it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from booking.crypto import INDEX_PREFIX, is_sealed, key_id_of
from booking.store import MongoStore
from booking.store_sealed import ENC_SUFFIX, SPECS, Sealer

PROGRESS_PREFIX = "keys:rotate:"
DEFAULT_BATCH = 500


@dataclass
class RotationReport:
    scanned: dict[str, int] = field(default_factory=dict)
    resealed: dict[str, int] = field(default_factory=dict)
    resumed: dict[str, Any] = field(default_factory=dict)


def _stale(sealer: Sealer, value: Any) -> bool:
    """A value the primary key did not seal (another key, or plain text)."""
    if _empty(value):
        return False
    return not is_sealed(value) or key_id_of(value) != sealer.keyring.primary


def _empty(value: Any) -> bool:
    """Absent or empty values are stored as they are (store_sealed.Sealer.seal_value)."""
    return value is None or (not value and isinstance(value, (str, list, dict)))


def _reseal(sealer: Sealer, doc: dict[str, Any]) -> dict[str, Any]:
    """The fields of `doc` to rewrite (empty when it is current)."""
    doc_id = doc["_id"]
    out: dict[str, Any] = {}
    spec = sealer.spec
    for key in spec.sealed:
        value = doc.get(key)
        if _stale(sealer, value):
            out[key] = sealer.seal_value(key, sealer.open_value(key, value, doc_id), doc_id)
    for key in spec.indexed:
        if key == "_id":
            continue
        value, sealed = doc.get(key), doc.get(key + ENC_SUFFIX)
        if sealed is None and value is not None and not str(value).startswith(INDEX_PREFIX):
            out[key] = sealer.index(key, value)          # plain value stored before
            out[key + ENC_SUFFIX] = sealer.seal_value(key, value, doc_id)
        elif sealed is not None and _stale(sealer, sealed):
            out[key + ENC_SUFFIX] = sealer.seal_value(
                key, sealer.open_value(key, sealed, doc_id), doc_id)
    if "_id" in spec.indexed:
        sealed = doc.get("_id" + ENC_SUFFIX)
        if sealed is not None and _stale(sealer, sealed):
            out["_id" + ENC_SUFFIX] = sealer.seal_value(
                "_id", sealer.open_value("_id", sealed, doc_id), doc_id)
    for array, subs in spec.nested.items():
        items = doc.get(array)
        if isinstance(items, list) and any(
                isinstance(e, dict) and any(_stale(sealer, e.get(s)) for s in subs if s in e)
                for e in items):
            out[array] = [
                {k: (sealer.seal_value(f"{array}.{k}",
                                       sealer.open_value(f"{array}.{k}", v, doc_id), doc_id)
                     if k in subs and _stale(sealer, v) else v) for k, v in e.items()}
                if isinstance(e, dict) else e for e in items]
    return out


def _rekey_plain_id(ms: MongoStore, name: str, sealer: Sealer, doc: dict[str, Any]) -> bool:
    """A document whose indexed _id is still the plain value (stored before encryption):
    written again under its blind index, the old one removed."""
    raw = ms.raw_db[name]
    plain = dict(doc)
    sealed = sealer.seal_doc(plain)
    if raw.find_one({"_id": sealed["_id"]}, {"_id": 1}) is None:
        raw.insert_one(sealed)
    raw.delete_one({"_id": doc["_id"]})
    return True


def rotate_collection(ms: MongoStore, name: str, *, batch: int = DEFAULT_BATCH,
                      report: RotationReport | None = None,
                      after_document: Callable[[str, Any], None] | None = None) -> int:
    """Re-seal one collection; returns how many documents were rewritten."""
    report = report or RotationReport()
    sealer = Sealer(name, SPECS[name], ms.keyring)
    raw = ms.raw_db[name]
    progress_key = PROGRESS_PREFIX + name
    with ms.guarded():
        saved = ms.kv.find_one({"_id": progress_key})
    last: Any = None
    if saved and saved.get("value", {}).get("primary") == ms.keyring.primary:
        last = saved["value"].get("last")
        report.resumed[name] = last
    rewritten = scanned = 0
    while True:
        with ms.guarded():
            query = {"_id": {"$gt": last}} if last is not None else {}
            docs = list(raw.find(query).sort("_id", 1).limit(batch))
        if not docs:
            break
        for doc in docs:
            scanned += 1
            with ms.guarded():
                if "_id" in sealer.spec.indexed and not str(doc["_id"]).startswith(
                        INDEX_PREFIX):
                    rewritten += _rekey_plain_id(ms, name, sealer, doc)
                else:
                    changes = _reseal(sealer, doc)
                    if changes:
                        expect = {k: doc.get(k) for k in changes}
                        res = raw.update_one({"_id": doc["_id"], **expect}, {"$set": changes})
                        rewritten += res.modified_count
            if after_document is not None:
                after_document(name, doc["_id"])
        last = docs[-1]["_id"]
        with ms.guarded():
            ms.kv.update_one({"_id": progress_key},
                             {"$set": {"value": {"last": last, "primary": ms.keyring.primary},
                                       "at": datetime.now(UTC)}}, upsert=True)
    with ms.guarded():
        ms.kv.delete_one({"_id": progress_key})
    report.scanned[name] = report.scanned.get(name, 0) + scanned
    report.resealed[name] = report.resealed.get(name, 0) + rewritten
    return rewritten


def rotate(ms: MongoStore, *, batch: int = DEFAULT_BATCH,
           after_document: Callable[[str, Any], None] | None = None) -> RotationReport:
    """Re-seal every sealed collection with the primary key (resumable, see module doc)."""
    report = RotationReport()
    for name in SPECS:
        rotate_collection(ms, name, batch=batch, report=report, after_document=after_document)
    return report


def key_usage(ms: MongoStore) -> dict[str, dict[str, int]]:
    """Per collection: how many sealed values each key id holds ("plain": not sealed yet)."""
    usage: dict[str, dict[str, int]] = {}
    for name, spec in SPECS.items():
        counts: dict[str, int] = {}
        fields = [*spec.sealed, *(f + ENC_SUFFIX for f in spec.indexed)]
        with ms.guarded():
            for doc in ms.raw_db[name].find({}, {f: 1 for f in fields}):
                for f in fields:
                    value = doc.get(f)
                    if _empty(value):
                        continue
                    kid = key_id_of(value) if is_sealed(value) else "plain"
                    counts[kid] = counts.get(kid, 0) + 1
        usage[name] = counts
    return usage
