"""Two fixes for the in-process stand-in's cursor (mongomock 4.3).

- It iterated in O(n^2): `Cursor.__next__` sliced the whole remaining result list
  (`results[skip:]`) on every call, so reading n documents copied n lists of up to n items:
  500,000 chat messages took hours, and every `aggregate()` starts by reading the whole
  collection that way. The replacement returns the same documents in the same order by
  index.
- It copied and projected every matching document before applying skip and limit: the
  NLU inbox's "this sender's last 20 messages" copied all of a busy sender's messages on
  every turn. The replacement copies only the first skip+limit documents of the (sorted)
  result, as a database with an index reads only those; sorting still sees every match.

Applied once, by `MongoStore.from_url`, the only place that creates mongomock clients; a
real MongoDB is untouched. Other cursor methods keep mongomock's own full result.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

_APPLIED = False


def _window(cursor: Any) -> list[Any]:
    """The documents from skip to skip+limit, computed once per query (sort, skip and limit
    as they are at the first read, as pymongo fixes them then)."""
    key = (cursor._factory, cursor._skip, cursor._limit)
    if getattr(cursor, "_window_key", None) != key:
        from mongomock import helpers

        end = cursor._skip + abs(cursor._limit) if cursor._limit else None
        docs: Iterator[Any] = islice(cursor._factory(), cursor._skip, end)
        if cursor.collection.codec_options.tz_aware:
            docs = map(helpers.make_datetime_timezone_aware_in_document, docs)
        cursor._window_docs, cursor._window_key = list(docs), key
    docs_in_window: list[Any] = cursor._window_docs
    return docs_in_window


def _next(self: Any) -> Any:
    results = _window(self)
    if self._emitted >= len(results):
        raise StopIteration
    self._emitted += 1
    return results[self._emitted - 1]


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    import mongomock
    from mongomock.collection import Cursor

    # Only the version whose internals were read (4.x); another keeps its own iteration.
    version = str(getattr(mongomock, "__version__", ""))
    if version.startswith("4.") and hasattr(Cursor, "_compute_results"):
        Cursor.__next__ = _next   # type: ignore[method-assign]
        Cursor.next = _next
    _APPLIED = True
