"""Each sender's latest inbound chat-log rows, as the NLU inbox feeder of this process last
saw them (pure; no I/O).

On every turn the feeder looks at the sender's last few messages. When this process saw
the sender's previous message itself, the rows it held then plus the one just logged are
those messages, and the store need not be read back. The proof is the contact's
`last_inbound_at` as it was before this message (the store returns it when the message
touches the contact): it must be the time of the last row held here. Otherwise something
came in between that the feeder did not see (another process's turn, a handoff, a
reminder or privacy reply, a sticker) and the caller reads the store.

Rows hold what patients typed: they are dropped once older than the review window, when
the number is erased, and beyond `max_senders` (least recently used first).
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

# What the feeder's selection reads of a row (booking/store_retrain.py FIELDS, with _id).
ROW_FIELDS = ("_id", "wa_id", "direction", "text", "type", "intent", "confidence",
              "entities", "at", "fallback", "handoff")


def stored_time(at: datetime) -> datetime:
    """A time as MongoDB gives it back (milliseconds)."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def as_row(doc: dict[str, Any]) -> dict[str, Any]:
    """A just-logged chat-log document as the store would return it to the feeder."""
    row = {k: doc.get(k) for k in ROW_FIELDS}
    row["at"] = stored_time(doc["at"])
    return row


class RecentInbound:
    def __init__(self, keep: int, window: timedelta, max_senders: int = 10_000) -> None:
        self.keep_rows = keep
        self.window = window
        self.max_senders = max_senders
        self._rows: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def rows_with(self, wa_id: str, latest: dict[str, Any], previous_at: datetime | None,
                  now: datetime) -> list[dict[str, Any]] | None:
        """The sender's recent rows ending with `latest` (oldest first, at most `keep`
        within the window), or None when the rows held do not end at `previous_at`."""
        held = self._rows.get(wa_id)
        if not held or previous_at is None or \
                stored_time(held[-1]["at"]) != stored_time(previous_at):
            return None
        return self._recent([*held, as_row(latest)], now)

    def remember(self, wa_id: str, rows: list[dict[str, Any]], now: datetime) -> None:
        """The rows the feeder just looked at (oldest first) are the sender's latest."""
        self._expire(now)
        recent = self._recent(rows, now)
        if not recent:
            self._rows.pop(wa_id, None)
            return
        self._rows[wa_id] = recent
        self._rows.move_to_end(wa_id)
        while len(self._rows) > self.max_senders:
            self._rows.popitem(last=False)

    def forget(self, wa_id: str) -> None:
        self._rows.pop(wa_id, None)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, wa_id: object) -> bool:
        return wa_id in self._rows

    def _recent(self, rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        since = now - self.window
        return [r for r in rows if r["at"] >= since][-self.keep_rows:]

    def _expire(self, now: datetime) -> None:
        """Drop senders idle for longer than the window (kept in order of last use)."""
        since = now - self.window
        while self._rows:
            oldest = next(iter(self._rows.values()))
            if oldest[-1]["at"] >= since:
                break
            self._rows.popitem(last=False)
