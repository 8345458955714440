"""Retention: chat logs, webhook payloads, outbox bodies and handoff transcripts go after
their periods; bookings, outbox statuses and handoff times stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.retention import apply_retention
from app.roles import ROLE_MODULES
from app.settings import Settings
from booking.store import MongoStore, Store
from booking.store_chat import insert_chat_logs
from tests.data_protection.conftest import leaks

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
WA = "6281234567890"


def seed(ms: MongoStore) -> None:
    for days in (1, 179, 181, 400):
        at = NOW - timedelta(days=days)
        insert_chat_logs(ms, [{"_id": f"c{days}", "wa_id": WA, "direction": "in",
                               "text": f"pesan {days} hari lalu", "at": at, "entities": []}])
        ms.db["inbox"].insert_one({"_id": f"m:{days}", "wa_id": WA, "received_at": at,
                                   "status": "done" if days > 1 else "pending",
                                   "event": {"text": f"payload {days}"}})
        for status in ("read", "pending"):
            ms.outbox.insert_one({"_id": f"o{days}{status}", "kind": "booking_confirmation",
                                  "dedupe_key": f"k{days}{status}", "to": WA,
                                  "text": f"Halo Budi, booking {days}", "status": status,
                                  "params": {"name": "Budi"}, "created_at": at,
                                  "booking_id": "b1", "doctor_id": "d1"})
        for status in ("closed", "open"):  # closed `days` ago / opened then, still open
            ms.db["handoffs"].insert_one({
                "_id": f"h{days}{status}", "wa_id": WA, "status": status,
                "name": "Budi Handoff", "reason": "requested", "opened_at": at,
                "closed_at": at if status == "closed" else None,
                "note": f"catatan {days}" if status == "closed" else "",
                "last_messages": [{"direction": "in", "text": f"keluhan {days} {status}",
                                   "at": at}]})


async def test_retention_deletes_and_wipes_only_what_is_due(sync_store: MongoStore) -> None:
    seed(sync_store)
    store = Store(sync_store)
    settings = Settings()  # defaults: 180 / 30 / 90 / 180 days
    assert (settings.chat_retention_days, settings.inbox_retention_days,
            settings.outbox_body_retention_days, settings.handoff_retention_days) == \
        (180, 30, 90, 180)
    done = await apply_retention(settings, store, NOW)
    assert done == {"chat_logs": 2, "inbox": 3, "outbox_bodies": 3, "handoff_transcripts": 2}
    assert sorted(d["_id"] for d in sync_store.chat_logs.find()) == ["c1", "c179"]
    assert [d["_id"] for d in sync_store.db["inbox"].find()] == ["m:1"]
    outbox = {d["_id"]: d for d in sync_store.outbox.find()}
    assert len(outbox) == 8  # entries stay, with their status
    for days in (179, 181, 400):
        wiped = outbox[f"o{days}read"]
        assert wiped["status"] == "read" and "text" not in wiped and "params" not in wiped
        assert wiped["body_purged_at"] == NOW and wiped["booking_id"] == "b1"
        assert outbox[f"o{days}pending"]["text"] == f"Halo Budi, booking {days}"  # open
    assert outbox["o1read"]["text"] == "Halo Budi, booking 1"
    handoffs = {d["_id"]: d for d in sync_store.db["handoffs"].find()}
    assert len(handoffs) == 8  # the handoffs stay (staff metrics), only transcripts go
    for days in (181, 400):
        purged = handoffs[f"h{days}closed"]
        assert "last_messages" not in purged and "name" not in purged
        assert "note" not in purged and purged["transcript_purged_at"] == NOW
        assert purged["reason"] == "requested" and purged["closed_at"] is not None
    for days in (1, 179):
        kept = handoffs[f"h{days}closed"]
        assert kept["last_messages"][0]["text"] == f"keluhan {days} closed"
        assert kept["name"] == "Budi Handoff"
    for days in (1, 179, 181, 400):  # open ones are staff's current work
        assert handoffs[f"h{days}open"]["last_messages"][0]["text"] == f"keluhan {days} open"
    # wiped bodies leave nothing readable behind, raw included
    assert leaks(sync_store, ["pesan 181", "payload 400"]) == []
    # a second run finds nothing more to do
    assert await apply_retention(settings, store, NOW) == {
        "chat_logs": 0, "inbox": 0, "outbox_bodies": 0, "handoff_transcripts": 0}


async def test_zero_keeps_everything(sync_store: MongoStore) -> None:
    seed(sync_store)
    settings = Settings(chat_retention_days=0, inbox_retention_days=0,
                        outbox_body_retention_days=0, handoff_retention_days=0)
    assert await apply_retention(settings, Store(sync_store), NOW) == {}
    assert sync_store.chat_logs.count_documents({}) == 4
    assert all(d.get("last_messages") for d in sync_store.db["handoffs"].find())


def test_the_scheduler_role_runs_the_retention_job() -> None:
    assert "app.retention" in ROLE_MODULES["scheduler"]
    from aiohttp import web

    from app import retention
    from app.periodic import DAILY_JOBS

    app = web.Application()
    retention.setup(app)
    assert [(j.name, j.hour_utc, j.minute) for j in app[DAILY_JOBS]] == [("retention", 19, 30)]
