"""Retention: personal data kept only as long as needed (driver code; the periods are
settings, applied daily by app/retention.py in the scheduler role).

- chat logs older than CHAT_RETENTION_DAYS are deleted (the `at` index serves the range;
  a TTL index is not used because `at` already carries a plain index the analytics need,
  and MongoDB allows one index per key pattern);
- webhook payloads (inbox) older than INBOX_RETENTION_DAYS are deleted, whatever their
  state (processed ones already expire 7 days after processing by the TTL index on
  `expire_at`, store_chat.INBOX_KEEP);
- outbox entries older than OUTBOX_BODY_RETENTION_DAYS that are settled lose their body
  (text, template parameters, fallback address, recipient ciphertext, provider error):
  status, kind, timestamps and the booking/doctor ids stay for analytics;
- handoffs closed more than HANDOFF_RETENTION_DAYS ago lose their transcript (the last
  messages), the patient's name and the closing note: times, reason and outcome stay for
  the staff metrics. Open handoffs are never touched (staff are reading them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking.store import MongoStore, StoreModule, query, store_call
from booking.store_sealed import ENC_SUFFIX

# Entries still on their way keep their body (a dispatcher may be about to send it).
OUTBOX_OPEN = ("pending", "sending", "failed")
OUTBOX_BODY = ("text", "params", "email", "to" + ENC_SUFFIX, "last_error")
HANDOFF_TRANSCRIPT = ("last_messages", "name", "note")


@store_call
def purge_chat_logs(ms: MongoStore, before: datetime) -> int:
    return int(ms.raw_db["chat_logs"].delete_many({"at": {"$lt": before}}).deleted_count)


@store_call
def purge_inbox(ms: MongoStore, before: datetime) -> int:
    return int(ms.raw_db["inbox"].delete_many({"received_at": {"$lt": before}}).deleted_count)


@store_call
def purge_outbox_bodies(ms: MongoStore, before: datetime, at: datetime) -> int:
    unset: dict[str, Any] = {f: "" for f in OUTBOX_BODY}
    res = ms.raw_db["outbox"].update_many(
        {"created_at": {"$lt": before}, "status": {"$nin": list(OUTBOX_OPEN)},
         "body_purged_at": None},
        {"$unset": unset, "$set": {"body_purged_at": at}})
    return int(res.modified_count)


@store_call
def purge_handoff_transcripts(ms: MongoStore, before: datetime, at: datetime) -> int:
    unset: dict[str, Any] = {f: "" for f in HANDOFF_TRANSCRIPT}
    res = ms.raw_db["handoffs"].update_many(
        {"status": "closed", "closed_at": {"$lt": before}, "transcript_purged_at": None},
        {"$unset": unset, "$set": {"transcript_purged_at": at}})
    return int(res.modified_count)


class RetentionStore(StoreModule):
    purge_chat_logs = query(purge_chat_logs)
    purge_inbox = query(purge_inbox)
    purge_outbox_bodies = query(purge_outbox_bodies)
    purge_handoff_transcripts = query(purge_handoff_transcripts)
