"""Three more fixes for the in-process stand-in: mongomock 4.3 scans a whole collection where
MongoDB does not.

- A filter on one `_id` (`update_one({"_id": key}, ...)`, `find_one({"_id": key})`) reads
  every document and tests each. MongoDB uses the `_id` index. Here the document is taken
  from mongomock's own dict by key and the whole filter is still applied to it, so the
  result is the same.
- A filter with a plain string condition, a `$in` list of strings or a date range on a
  top-level field (`{"wa_id": w, "at": {"$gte": t}}`, the NLU inbox feeder's queries)
  tests every document with the whole filter. MongoDB uses an index. Here a cheap
  comparison of those fields first drops the documents that cannot match; the whole filter
  then decides on the rest, so the result is the same. When those conditions are the whole
  filter, a document whose fields hold exactly a string (a naive date for a range) has
  been decided by the comparison; only the others meet mongomock's filter.
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

import operator
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
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


Bounds = list[tuple[Callable[[Any, Any], bool], datetime]]
# (field, the string it must equal or the strings it must be one of, None), or
# (field, None, the date bounds it must meet)
Narrowing = list[tuple[str, str | frozenset[str] | None, Bounds | None]]
_RANGE = {"$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le}
_MISSING = object()


def cheap_tests(spec: Any) -> Narrowing:
    """Quick tests a top-level field must pass for the filter to match: a plain string
    condition (`{"wa_id": w}`), a list of strings (`{"wa_id": {"$in": [w, v]}}`) and a date
    range (`{"at": {"$gte": t}}`). Each test fails only where the filter cannot match;
    arrays and other types always pass (the whole filter decides on them). String tests
    come first: they are the cheaper ones."""
    if not isinstance(spec, dict):
        return []
    equal: Narrowing = []
    ranges: Narrowing = []
    for field, cond in spec.items():
        if type(field) is not str or "." in field or field.startswith("$"):
            continue
        if type(cond) is str:
            equal.append((field, cond, None))
        elif type(cond) is dict and list(cond) == ["$in"] and type(cond["$in"]) is list \
                and all(type(v) is str for v in cond["$in"]):
            equal.append((field, frozenset(cond["$in"]), None))
        elif type(cond) is dict and cond and all(
                op in _RANGE and type(bound) is datetime and bound.tzinfo is None
                for op, bound in cond.items()):
            ranges.append((field, None, [(_RANGE[op], bound) for op, bound in cond.items()]))
    return equal + ranges


def narrow(docs: Iterable[dict[str, Any]], tests: Narrowing) -> list[dict[str, Any]]:
    """The documents that pass every test, in their order."""
    kept = list(docs)
    for field, want, bounds in tests:
        if isinstance(want, str):
            kept = [d for d in kept
                    if (v := d.get(field)) == want or isinstance(v, (list, tuple))]
        elif want is not None:
            kept = [d for d in kept if isinstance(v := d.get(field), str) and v in want
                    or isinstance(v, (list, tuple))]
        elif bounds is not None:
            kept = [d for d in kept if _in_range_or_other(bounds, d.get(field, _MISSING))]
    return kept


def plain(doc: dict[str, Any], tests: Narrowing) -> bool:
    """Whether every tested field of the document holds the plain type its test decides on
    exactly (a string; a naive date for a range): then passing the tests is matching them."""
    for field, _, bounds in tests:
        value = doc.get(field)
        if bounds is None:
            if type(value) is not str:
                return False
        elif type(value) is not datetime or value.tzinfo is not None:
            return False
    return True


def _in_range_or_other(bounds: Bounds, value: Any) -> bool:
    # mongomock stores dates naive (UTC, milliseconds) and compares them with plain operators
    if type(value) is not datetime or value.tzinfo is not None:
        return True
    return all(op(value, bound) for op, bound in bounds)


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
        tests = cheap_tests(spec) if key is None else []
        if key is None and not tests:
            return scan(self, spec)
        store = self._store
        store._remove_expired_documents()
        with store._rwlock.reader():
            if key is not None:
                docs = [d for d in (store._documents.get(key),) if d is not None]
            else:
                # dict's own view of the OrderedDict: the same (insertion) order, since
                # mongomock never reorders it, without a key lookup (an ObjectId hash) per
                # document
                docs = narrow(dict.values(store._documents), tests)
        if not docs:
            filtering.filter_applies(spec, {})  # validates the filter like a scan would
        if key is not None or len(tests) != len(spec):
            # the whole filter decides on every candidate
            return (d for d in docs if filtering.filter_applies(spec, d))
        # every condition is a test: they decided on the documents of plain types; the
        # whole filter decides on the rest (arrays, missing fields, other types)
        return (d for d in docs if plain(d, tests) or filtering.filter_applies(spec, d))

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
