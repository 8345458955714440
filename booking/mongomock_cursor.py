"""A fix for the in-process stand-in: mongomock 4.3 iterates a cursor in O(n^2).

Its `Cursor.__next__` slices the whole remaining result list (`results[skip:]`) on every
call, so reading n documents copies n lists of up to n items: 500,000 chat messages take
hours, and every `aggregate()` starts by reading the whole collection that way. The
replacement returns the same documents in the same order by index. Applied once, by
`MongoStore.from_url`, the only place that creates mongomock clients; a real MongoDB is
untouched.
"""

from __future__ import annotations

from typing import Any

_APPLIED = False


def _next(self: Any) -> Any:
    results = self._compute_results()          # computed once, then cached by the cursor
    if self._limit and self._emitted >= abs(self._limit):
        raise StopIteration
    index = self._skip + self._emitted
    if index >= len(results):
        raise StopIteration
    self._emitted += 1
    return results[index]


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
