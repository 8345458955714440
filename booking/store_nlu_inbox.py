"""Mongo queries of the NLU inbox (bot/retrain/inbox.py): patient messages the assistant
was unsure about, masked before they get here, grouped with similar ones.

Collections:
- `nlu_inbox` one document per group: {_id, norm (normalised text of the representative,
  unique), text (masked plain text), example (masked, predicted entities annotated),
  state open|labelled|ignored, count, senders (hashed sender ids, capped), intents
  {intent: count}, conf_min, conf_max, reasons {reason: count}, variants (other masked
  texts, capped), first_at, last_at, label {intent, entities, by, at} | None}
- `nlu_inbox_items` one document per chat-log message fed in: {_id: chat-log id,
  group_id, reasons}: a message is counted once, however often it is seen again.

Which group a message joins is decided above (pure similarity in bot/retrain); this
module only stores it. Values are checked to be plain scalars before they reach a query.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from booking.store import MongoStore, StoreModule, query, store_call

GROUPS = "nlu_inbox"
ITEMS = "nlu_inbox_items"
MAX_VARIANTS = 10
MAX_SENDERS = 50
MAX_REPRESENTATIVES = 5000
STATES = ("open", "labelled", "ignored")


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string")
    return value


@store_call
def ensure_indexes(ms: MongoStore) -> None:
    groups = ms.db[GROUPS]
    groups.create_index("norm", unique=True)
    groups.create_index([("state", ASCENDING), ("count", DESCENDING), ("last_at", DESCENDING)])
    ms.db[ITEMS].create_index("group_id")


@store_call
def seen(ms: MongoStore, message_ids: list[str]) -> dict[str, list[str]]:
    """Chat-log ids already in the inbox -> the reasons they were counted for."""
    ids = [i for i in message_ids if isinstance(i, str)]
    return {d["_id"]: list(d.get("reasons") or [])
            for d in ms.db[ITEMS].find({"_id": {"$in": ids}})}


@store_call
def representatives(ms: MongoStore, limit: int = MAX_REPRESENTATIVES) -> list[tuple[str, str]]:
    """(group id, normalised text) of the groups a new message may join, largest first."""
    cursor = ms.db[GROUPS].find({}, {"norm": 1}).sort(
        [("count", DESCENDING), ("_id", ASCENDING)]).limit(limit)
    return [(d["_id"], d["norm"]) for d in cursor]


def _bump(item: dict[str, Any], reasons: list[str]) -> dict[str, Any]:
    inc: dict[str, Any] = {"count": 1, f"intents.{item['intent']}": 1}
    for r in reasons:
        inc[f"reasons.{r}"] = 1
    return inc


@store_call
def add_message(ms: MongoStore, item: dict[str, Any], group_id: str | None) -> str:
    """Count one masked message into `group_id` (None: a new group with it as representative;
    if another writer created the same text meanwhile, it joins that one). Returns the group.

    item: {message_id, sender (hashed), text, example, norm, intent, confidence, reasons, at}.
    A message already counted only adds reasons it was not counted for before.
    """
    message_id = _str(item["message_id"], "message_id")
    intent = _str(item["intent"], "intent").replace(".", "_").replace("$", "_")
    item = {**item, "intent": intent}
    reasons = [r for r in item["reasons"] if isinstance(r, str) and r.isidentifier()]
    items, groups = ms.db[ITEMS], ms.db[GROUPS]
    before = items.find_one({"_id": message_id})
    if before is not None:
        new = [r for r in reasons if r not in (before.get("reasons") or [])]
        if new:
            items.update_one({"_id": message_id}, {"$addToSet": {"reasons": {"$each": new}}})
            groups.update_one({"_id": before["group_id"]},
                              {"$inc": {f"reasons.{r}": 1 for r in new}})
        return str(before["group_id"])
    if group_id is None:
        doc = {"_id": uuid.uuid4().hex, "norm": _str(item["norm"], "norm"),
               "text": item["text"], "example": item["example"], "state": "open",
               "count": 0, "senders": [], "intents": {}, "reasons": {}, "variants": [],
               "conf_min": item["confidence"], "conf_max": item["confidence"],
               "first_at": item["at"], "last_at": item["at"], "label": None}
        try:
            groups.insert_one(doc)
            group_id = doc["_id"]
        except DuplicateKeyError:
            existing = groups.find_one({"norm": doc["norm"]}, {"_id": 1})
            if existing is None:
                raise
            group_id = existing["_id"]
    group_id = _str(group_id, "group_id")
    current = groups.find_one({"_id": group_id}, {"text": 1, "variants": 1})
    if current is None:
        raise LookupError(f"inbox group {group_id} is gone")
    update: dict[str, Any] = {
        "$inc": _bump(item, reasons),
        "$min": {"conf_min": item["confidence"], "first_at": item["at"]},
        "$max": {"conf_max": item["confidence"], "last_at": item["at"]},
        "$set": {"updated_at": datetime.now(UTC)},
    }
    push: dict[str, Any] = {}
    if item["text"] != current.get("text") and item["text"] not in (current.get("variants") or []):
        push["variants"] = {"$each": [item["text"]], "$slice": MAX_VARIANTS}
    sender = item.get("sender")
    if isinstance(sender, str):
        update["$addToSet"] = {"senders": sender}
    if push:
        update["$push"] = push
    groups.update_one({"_id": group_id}, update)
    if isinstance(sender, str):
        groups.update_one({"_id": group_id}, {"$push": {"senders": {"$each": [],
                                                                      "$slice": -MAX_SENDERS}}})
    items.insert_one({"_id": message_id, "group_id": group_id, "reasons": reasons,
                      "at": item["at"]})
    return group_id


@store_call
def list_groups(ms: MongoStore, state: str = "open", limit: int = 50, offset: int = 0
                ) -> tuple[list[dict[str, Any]], int]:
    """Groups in `state`, most frequent first; and how many there are."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    flt = {"state": state}
    total = ms.db[GROUPS].count_documents(flt)
    cursor = ms.db[GROUPS].find(flt, {"norm": 0}).sort(
        [("count", DESCENDING), ("last_at", DESCENDING), ("_id", ASCENDING)]
    ).skip(max(0, offset)).limit(max(1, limit))
    return list(cursor), total


@store_call
def get_group(ms: MongoStore, group_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = ms.db[GROUPS].find_one({"_id": _str(group_id, "group_id")},
                                                       {"norm": 0})
    return doc


@store_call
def set_label(ms: MongoStore, group_id: str, state: str, label: dict[str, Any] | None
              ) -> dict[str, Any] | None:
    """Label a group (state labelled), ignore it, or reopen it; None: no such group."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    doc: dict[str, Any] | None = ms.db[GROUPS].find_one_and_update(
        {"_id": _str(group_id, "group_id")}, {"$set": {"state": state, "label": label}},
        projection={"norm": 0}, return_document=ReturnDocument.AFTER)
    return doc


@store_call
def labelled(ms: MongoStore) -> list[dict[str, Any]]:
    """Every labelled group (the admin-approved training examples), oldest label first."""
    return list(ms.db[GROUPS].find({"state": "labelled"}, {"norm": 0}).sort(
        [("label.at", ASCENDING), ("_id", ASCENDING)]))


@store_call
def labelled_since(ms: MongoStore, since: datetime | None, limit: int = 50
                   ) -> tuple[list[dict[str, Any]], int]:
    """Groups labelled after `since` (None: all), newest first, and how many there are:
    what a new training job would add to the served model."""
    flt: dict[str, Any] = {"state": "labelled"}
    if since is not None:
        if not isinstance(since, datetime):
            raise TypeError("since must be a datetime")
        flt["label.at"] = {"$gt": since}
    total = ms.db[GROUPS].count_documents(flt)
    docs = list(ms.db[GROUPS].find(flt, {"text": 1, "label": 1}).sort(
        [("label.at", DESCENDING)]).limit(limit))
    return docs, total


@store_call
def counts(ms: MongoStore) -> dict[str, int]:
    out = {s: 0 for s in STATES}
    for row in ms.db[GROUPS].aggregate([{"$group": {"_id": "$state", "n": {"$sum": 1}}}]):
        if row["_id"] in out:
            out[row["_id"]] = int(row["n"])
    return out


class NluInboxStore(StoreModule):
    ensure_indexes = query(ensure_indexes)
    seen = query(seen)
    representatives = query(representatives)
    add_message = query(add_message)
    list_groups = query(list_groups)
    get_group = query(get_group)
    set_label = query(set_label)
    labelled = query(labelled)
    counts = query(counts)
    labelled_since = query(labelled_since)
