"""Two more fixes for the in-process stand-in: mongomock 4.3 scans a whole collection where
MongoDB does not.

- A filter on one `_id` (`update_one({"_id": key}, ...)`, `find_one({"_id": key})`) reads
  every document and tests each. MongoDB uses the `_id` index. Here the document is taken
  from mongomock's own dict by key and the whole filter is still applied to it, so the
  result is the same.
- Every read of a collection that has a TTL index (the webhook inbox) first scans all of
  its documents for expired ones, several times per query. Here that pass runs at most
  once per TTL_PASS_S per collection. MongoDB's own TTL monitor runs every 60 seconds and
  documents may outlive their expiry until then, so nothing may rely on sooner deletion.

Measured on the gateway path (bench.gateway, Rasa stubbed, 10 patients): these scans were
most of the app's time per message once the chat log and inbox held a few thousand
documents (docs/scale-out.md). Applied once, by `MongoStore.from_url` with the cursor fix;
a real MongoDB is untouched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from bson import ObjectId

TTL_PASS_S = 1.0
_KEY_TYPES = (str, int, ObjectId)  # exact-equality _id values; not bool, dict, list, regex
_APPLIED = False


def one_id(spec: Any) -> Any:
    """The `_id` an equality filter names, or None when the filter is anything else."""
    if not isinstance(spec, dict):
        return None
    key = spec.get("_id")
    if isinstance(key, bool) or not isinstance(key, _KEY_TYPES):
        return None
    return key


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    import mongomock
    from mongomock import filtering
    from mongomock.collection import Collection
    from mongomock.store import CollectionStore

    version = str(getattr(mongomock, "__version__", ""))
    if not (version.startswith("4.") and hasattr(Collection, "_iter_documents")
            and hasattr(CollectionStore, "_remove_expired_documents")):
        _APPLIED = True
        return  # another version: keep its own behaviour
    scan = Collection._iter_documents
    expire = CollectionStore._remove_expired_documents

    def iter_documents(self: Any, spec: Any) -> Iterator[dict[str, Any]]:
        key = one_id(spec)
        if key is None:
            return scan(self, spec)
        store = self._store
        store._remove_expired_documents()
        with store._rwlock.reader():
            doc = store._documents.get(key)
        if doc is None:
            filtering.filter_applies(spec, {})  # validates the filter like a scan would
            return iter(())
        return iter([doc] if filtering.filter_applies(spec, doc) else [])

    def remove_expired(self: Any) -> None:
        if not self._ttl_indexes:
            return
        now = time.monotonic()
        if now - getattr(self, "_klinik_ttl_pass", -TTL_PASS_S) < TTL_PASS_S:
            return
        self._klinik_ttl_pass = now
        expire(self)

    Collection._iter_documents = iter_documents  # type: ignore[method-assign]
    CollectionStore._remove_expired_documents = remove_expired  # type: ignore[method-assign]
    _APPLIED = True
