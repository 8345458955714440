"""The export with the real google-cloud-bigquery client against the local fake REST server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud.bigquery.retry import DEFAULT_RETRY

from analytics.bigquery_export import (
    TABLES,
    WATERMARK_PREFIX,
    BigQueryExporter,
    ExportError,
    export_job,
    make_client,
)
from app.keys import SETTINGS, STORE
from app.settings import Settings
from booking.store import MongoStore, Store
from tests.analytics.conftest import BOOKINGS, DOCTORS, MESSAGES, OUTBOX, PATIENT_NAMES, WA, L
from tests.analytics.fake_bigquery import FakeBigQuery, FakeBigQueryServer

PROJECT, DATASET = "klinik-test", "analytics_test"
NOW = datetime(2026, 12, 20, tzinfo=UTC)
FAST_RETRY = DEFAULT_RETRY.with_delay(initial=0.01, maximum=0.02).with_timeout(0.5)


@pytest.fixture
def server() -> Iterator[FakeBigQueryServer]:
    with FakeBigQueryServer() as srv:
        yield srv


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def exporter(seeded: MongoStore, server: FakeBigQueryServer, clock: Clock
             ) -> Iterator[BigQueryExporter]:
    client = make_client(PROJECT, api_endpoint=server.url)
    yield BigQueryExporter(seeded, client, DATASET, batch_size=500, retry=FAST_RETRY,
                           clock=clock)
    client.close()


def rows(fake: FakeBigQuery, table: str) -> list[dict[str, Any]]:
    return fake.table_rows(PROJECT, DATASET, table)


def test_creates_dataset_and_tables_with_explicit_schemas(exporter: BigQueryExporter,
                                                          server: FakeBigQueryServer) -> None:
    exporter.run()
    fake = server.fake
    assert (PROJECT, DATASET) in fake.datasets
    assert fake.datasets[(PROJECT, DATASET)]["location"] == "asia-southeast2"
    created = {b["tableReference"]["tableId"]: b for m, p, b in fake.requests
               if m == "POST" and p.endswith("/tables")}
    assert set(created) == {"bookings", "chat_logs", "outbox_outcomes"}
    for spec in TABLES:
        sent = created[spec.table]["schema"]["fields"]
        assert [(f["name"], f["type"], f["mode"]) for f in sent] == [
            (f.name, f.field_type, f.mode) for f in spec.schema]
        assert created[spec.table]["timePartitioning"] == {"type": "DAY",
                                                           "field": spec.partition}
    chat = {f["name"]: f for f in created["chat_logs"]["schema"]["fields"]}
    assert chat["entity_names"]["mode"] == "REPEATED"
    assert chat["patient_id"]["mode"] == "NULLABLE" and "wa_id" not in chat and "text" not in chat
    # a second run finds everything and creates nothing
    before = len(created)
    exporter.run()
    assert len([1 for m, p, _ in fake.requests if m == "POST" and p.endswith("/tables")]) == before


def test_rows_received_and_pii_left_out(exporter: BigQueryExporter,
                                        server: FakeBigQueryServer) -> None:
    result = exporter.run()
    assert result.rows == {"bookings": len(BOOKINGS), "chat_logs": len(MESSAGES),
                           "outbox_outcomes": len(OUTBOX)}
    fake = server.fake
    b5 = next(r for r in rows(fake, "bookings") if r["booking_id"] == "b5")
    assert b5 == {"booking_id": "b5", "patient_id": "p1", "doctor_id": "dB",
                  "status": "confirmed", "source": "admin",
                  "start": L(11, 11).isoformat(), "end": (L(11, 11) + timedelta(minutes=30))
                  .isoformat(), "created_at": L(9, 12).isoformat(),
                  "updated_at": (L(9, 12) + timedelta(hours=1)).isoformat(),
                  "rescheduled_from": "b4", "rescheduled_to": None, "lead_minutes": 47 * 60,
                  "exported_at": NOW.isoformat()}
    chat = {r["message_id"]: r for r in rows(fake, "chat_logs")}
    assert chat["m3"] == {"message_id": "m3", "patient_id": "p1", "direction": "in",
                          "type": "text", "intent": "inform", "confidence": 0.9,
                          "entity_names": ["person_name"], "at": L(7, 8, 5).isoformat(),
                          "latency_ms": None, "fallback": False, "handoff": False,
                          "language": "id", "exported_at": NOW.isoformat()}
    assert chat["m8"]["patient_id"] is None and chat["m8"]["latency_ms"] == 2000.0
    assert chat["m5"]["fallback"] is True
    outbox = {r["entry_id"]: r for r in rows(fake, "outbox_outcomes")}
    assert outbox["r5"] == {"entry_id": "r5", "kind": "appointment_reminder",
                            "booking_id": "b10", "status": "failed", "attempts": 1,
                            "language": "id", "template": "appointment_reminder_v1",
                            "created_at": L(11, 10).isoformat(),
                            "next_attempt_at": L(11, 10).isoformat(),
                            "exported_at": NOW.isoformat()}
    # Nothing identifying went over the wire: no numbers, names, texts, emails, reasons.
    wire = json.dumps([body for _, _, body in fake.requests])
    forbidden = [*WA.values(), *PATIENT_NAMES.values(), *(d.name for d in DOCTORS),
                 "pesan m", "@example.com", "sakit", "Pengingat", "umum", "REFB"]
    leaked = [word for word in forbidden if word in wire]
    assert leaked == []


def test_incremental_with_watermarks(exporter: BigQueryExporter, server: FakeBigQueryServer,
                                     seeded: MongoStore, clock: Clock) -> None:
    exporter.run()
    mark = seeded.kv_get(WATERMARK_PREFIX + "chat_logs")
    assert mark["id"] == "m14" and mark["oid"] is False
    assert exporter.run().rows == {"bookings": 0, "chat_logs": 0, "outbox_outcomes": 0}
    # New data: a message (and one at the same instant as the watermark: ties resume by _id),
    # a booking version, and a message too fresh to export yet (settle lag).
    clock.now = NOW + timedelta(days=1)
    last_at = seeded.chat_logs.find_one({"_id": "m14"})["at"]
    seeded.chat_logs.insert_many([
        {"_id": "m16", "wa_id": WA["p1"], "direction": "in", "at": NOW, "intent": "greet"},
        {"_id": "m15b", "wa_id": WA["p1"], "direction": "in", "at": last_at, "intent": "x"},
        {"_id": "m17", "wa_id": WA["p1"], "direction": "in",
         "at": clock.now - timedelta(minutes=1), "intent": "greet"}])
    seeded.bookings.update_one({"_id": "b8"}, {"$set": {"status": "cancelled",
                                                        "updated_at": NOW}})
    assert exporter.run().rows == {"bookings": 1, "chat_logs": 2, "outbox_outcomes": 0}
    fake = server.fake
    assert [r["message_id"] for r in rows(fake, "chat_logs")][-2:] == ["m15b", "m16"]
    assert [r["status"] for r in rows(fake, "bookings") if r["booking_id"] == "b8"] == [
        "confirmed", "cancelled"]                       # one row per version
    clock.now = NOW + timedelta(days=2)
    assert exporter.run().rows["chat_logs"] == 1        # m17 once it has settled


def test_outbox_waits_until_outcomes_settle(exporter: BigQueryExporter, clock: Clock) -> None:
    clock.now = L(13, 22) + timedelta(days=3)
    # r7 (22:00 on the 13th) and r8 (23:00) are not yet three days old at this moment
    assert exporter.run().rows["outbox_outcomes"] == 8


def test_transient_failures_are_retried_without_duplicates(
        exporter: BigQueryExporter, server: FakeBigQueryServer) -> None:
    fake = server.fake
    fake.fail_next_insert(after_store=True)      # stored, but the answer is a 500
    fake.fail_next_insert(after_store=False)     # refused outright once
    exporter.run()
    ids = fake.insert_ids(PROJECT, DATASET, "bookings")
    assert len(ids) == len(set(ids)) == len(BOOKINGS)
    posted = [b for m, p, b in fake.requests if p.endswith("/bookings/insertAll")]
    assert len(posted) == 3                      # the client resent the same batch twice
    assert [r["insertId"] for r in posted[0]["rows"]] == [r["insertId"] for r in posted[1]["rows"]]


def test_failure_mid_batch_then_rerun_gives_no_duplicates(
        seeded: MongoStore, server: FakeBigQueryServer, clock: Clock) -> None:
    client = make_client(PROJECT, api_endpoint=server.url)
    exporter = BigQueryExporter(seeded, client, DATASET, batch_size=4, retry=FAST_RETRY,
                                clock=clock)
    fake = server.fake
    try:
        exporter.ensure_tables()
        real_insert = client.insert_rows_json
        calls = {"n": 0}

        def flaky(*args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:    # the 2nd batch reaches BigQuery, then every answer is lost
                fake.fail_next_insert(after_store=True, times=1000)
            return real_insert(*args, **kwargs)

        client.insert_rows_json = flaky  # type: ignore[method-assign]
        with pytest.raises(ExportError):
            exporter.run(["bookings"])
        mark = seeded.kv_get(WATERMARK_PREFIX + "bookings")
        assert mark is not None                  # batch 1 is safe behind the watermark
        stored_before = len(fake.insert_ids(PROJECT, DATASET, "bookings"))
        assert stored_before == 8                # batch 1 plus the unacknowledged batch 2
        fake.faults.clear()
        client.insert_rows_json = real_insert  # type: ignore[method-assign]
        assert exporter.run(["bookings"]).rows == {"bookings": len(BOOKINGS) - 4}
        ids = fake.insert_ids(PROJECT, DATASET, "bookings")
        assert len(ids) == len(set(ids)) == len(BOOKINGS)
        assert sorted(r["booking_id"] for r in rows(fake, "bookings")) == sorted(BOOKINGS)
    finally:
        client.close()


def test_refused_rows_keep_the_watermark(exporter: BigQueryExporter, seeded: MongoStore,
                                         server: FakeBigQueryServer) -> None:
    exporter.ensure_tables()
    key = (PROJECT, DATASET, "chat_logs")
    server.fake.tables[key]["schema"]["fields"] = [
        f for f in server.fake.tables[key]["schema"]["fields"] if f["name"] != "language"]
    with pytest.raises(ExportError, match="lacks columns"):
        exporter.run()
    server.fake.tables[key]["schema"]["fields"].append(
        {"name": "language", "type": "STRING", "mode": "NULLABLE"})
    seeded.chat_logs.update_one({"_id": "m1"}, {"$set": {"direction": None}})  # REQUIRED
    with pytest.raises(ExportError, match="refused"):
        exporter.run(["chat_logs"])
    assert seeded.kv_get(WATERMARK_PREFIX + "chat_logs") is None
    assert server.fake.table_rows(*key) == []


async def test_export_job_for_the_scheduler(seeded: MongoStore, server: FakeBigQueryServer
                                            ) -> None:
    app: dict[Any, Any] = {STORE: Store(seeded),
                           SETTINGS: Settings(bigquery_project=PROJECT, bigquery_dataset=DATASET,
                                              bigquery_api_endpoint=server.url)}
    result = await export_job(app, clock=Clock())
    assert result == {"bookings": len(BOOKINGS), "chat_logs": len(MESSAGES),
                      "outbox_outcomes": len(OUTBOX)}
    assert await export_job(app, clock=Clock()) == {"bookings": 0, "chat_logs": 0,
                                                    "outbox_outcomes": 0}
    off = {STORE: Store(seeded), SETTINGS: Settings()}
    assert await export_job(off) == {}


def test_watermark_only_moves_forward(seeded: MongoStore) -> None:
    from booking.store_analytics import advance_watermark

    key = WATERMARK_PREFIX + "test"
    assert advance_watermark(seeded, key, NOW, "b", {"oid": False})
    assert not advance_watermark(seeded, key, NOW - timedelta(seconds=1), "z", {"oid": False})
    assert not advance_watermark(seeded, key, NOW, "a", {"oid": False})
    assert advance_watermark(seeded, key, NOW, "c", {"oid": False})
    assert seeded.kv_get(key)["id"] == "c"
