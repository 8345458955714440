"""Export bookings, chat logs and outbox outcomes to BigQuery: incremental and retry-safe.

- Explicit schemas, one table per source, created (with day partitioning) when missing.
- Incremental: a watermark per table (last exported (timestamp, _id), kept in the store's
  kv collection) moves forward only after BigQuery accepted a batch.
- Retry-safe: every row carries a deterministic insertId, so a batch retried after a failure
  (by the client's own retry, or by the next run) is de-duplicated by BigQuery instead of
  appended twice. BigQuery's insertId de-duplication is best effort (about a minute), so
  analysts should still read through the views documented in docs (latest row per id).
- PII minimised: ids, statuses, times and categories only. No phone numbers (chat rows
  carry the patient's user id, not the wa_id), no names, no message texts, no entity values,
  no email addresses, no free-text reasons or provider errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import bigquery
from google.cloud.bigquery import SchemaField
from google.cloud.bigquery.retry import DEFAULT_RETRY

from booking import store_analytics as q
from booking.models import as_utc
from booking.store import MongoStore

log = logging.getLogger(__name__)

WATERMARK_PREFIX = "analytics:bq:watermark:"
BATCH_SIZE = 500           # rows per insertAll request (BigQuery recommends <= 500)
# Documents written "now" can still arrive a moment late (a slow writer stamped `at`
# before inserting): rows younger than this wait for the next run.
SETTLE_LAG = timedelta(minutes=5)
# Outbox entries are exported once, when their outcome has settled (a reminder is
# delivered or read within hours; after three days its status no longer changes).
OUTBOX_SETTLE = timedelta(days=3)


class ExportError(Exception):
    """BigQuery refused rows or the table does not match the schema; the watermark stays."""


def _ts(value: Any) -> str | None:
    return as_utc(value).isoformat() if isinstance(value, datetime) else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _entity_names(entities: Any) -> list[str]:
    """Entity types only (e.g. "specialty"); the values may be names or phone numbers."""
    names: list[str] = []
    if isinstance(entities, dict):
        names = [str(k) for k in entities]
    elif isinstance(entities, list):
        for e in entities:
            if isinstance(e, dict) and e.get("entity"):
                names.append(str(e["entity"]))
            elif isinstance(e, str):
                names.append(e)
    return sorted(set(names))


def booking_row(doc: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    start, created = doc.get("start"), doc.get("created_at")
    lead = (int((as_utc(start) - as_utc(created)).total_seconds() // 60)
            if isinstance(start, datetime) and isinstance(created, datetime) else None)
    return {"booking_id": str(doc["_id"]), "patient_id": _str(doc.get("patient_id")),
            "doctor_id": _str(doc.get("doctor_id")), "status": _str(doc.get("status")),
            "source": _str(doc.get("source")), "start": _ts(start), "end": _ts(doc.get("end")),
            "created_at": _ts(created), "updated_at": _ts(doc.get("updated_at")),
            "rescheduled_from": _str(doc.get("rescheduled_from")),
            "rescheduled_to": _str(doc.get("rescheduled_to")), "lead_minutes": lead,
            "exported_at": ctx["exported_at"]}


def chat_row(doc: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    latency = doc.get("latency_ms")
    confidence = doc.get("confidence")
    return {"message_id": str(doc["_id"]),
            "patient_id": ctx["patients"].get(doc.get("wa_id") or ""),
            "direction": _str(doc.get("direction")), "type": _str(doc.get("type")),
            "intent": _str(doc.get("intent")),
            "confidence": float(confidence) if isinstance(confidence, (int, float)) else None,
            "entity_names": _entity_names(doc.get("entities")),
            "at": _ts(doc.get("at")),
            "latency_ms": float(latency) if isinstance(latency, (int, float)) else None,
            "fallback": bool(doc.get("fallback", False)),
            "handoff": bool(doc.get("handoff", False)),
            "language": _str(doc.get("language")), "exported_at": ctx["exported_at"]}


def outbox_row(doc: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    return {"entry_id": str(doc["_id"]), "kind": _str(doc.get("kind")),
            "booking_id": _str(doc.get("booking_id")), "status": _str(doc.get("status")),
            "attempts": int(doc.get("attempts") or 0), "language": _str(doc.get("language")),
            "template": _str(doc.get("template")), "created_at": _ts(doc.get("created_at")),
            "next_attempt_at": _ts(doc.get("next_attempt_at")),
            "exported_at": ctx["exported_at"]}


def _millis(value: Any) -> int:
    return int(as_utc(value).timestamp() * 1000)


@dataclass(frozen=True)
class TableSpec:
    table: str
    collection: str
    watermark: str               # the document field the watermark follows
    lag: timedelta
    partition: str               # TIMESTAMP column the table is partitioned by (day)
    schema: tuple[SchemaField, ...]
    projection: dict[str, int]
    row: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
    row_id: Callable[[dict[str, Any]], str]
    description: str = ""


def _f(name: str, kind: str, mode: str = "NULLABLE", description: str = "") -> SchemaField:
    return SchemaField(name, kind, mode=mode, description=description)


EXPORTED_AT = _f("exported_at", "TIMESTAMP", "REQUIRED", "When this row was exported")

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "bookings", "bookings", "updated_at", SETTLE_LAG, "created_at",
        (_f("booking_id", "STRING", "REQUIRED"), _f("patient_id", "STRING", "REQUIRED"),
         _f("doctor_id", "STRING", "REQUIRED"), _f("status", "STRING", "REQUIRED"),
         _f("source", "STRING"), _f("start", "TIMESTAMP", "REQUIRED"), _f("end", "TIMESTAMP"),
         _f("created_at", "TIMESTAMP", "REQUIRED"), _f("updated_at", "TIMESTAMP", "REQUIRED"),
         _f("rescheduled_from", "STRING"), _f("rescheduled_to", "STRING"),
         _f("lead_minutes", "INTEGER", description="start - created_at in minutes"),
         EXPORTED_AT),
        {"patient_id": 1, "doctor_id": 1, "status": 1, "source": 1, "start": 1, "end": 1,
         "created_at": 1, "rescheduled_from": 1, "rescheduled_to": 1},
        booking_row,
        # One row per version: a status change is a new row; the same version, re-sent, is not.
        lambda d: f"{d['_id']}@{_millis(d['updated_at'])}",
        "One row per booking version (latest updated_at per booking_id is current)."),
    TableSpec(
        "chat_logs", "chat_logs", "at", SETTLE_LAG, "at",
        (_f("message_id", "STRING", "REQUIRED"),
         _f("patient_id", "STRING", description="users._id of the sender; null if unknown"),
         _f("direction", "STRING", "REQUIRED"), _f("type", "STRING"), _f("intent", "STRING"),
         _f("confidence", "FLOAT"), _f("entity_names", "STRING", "REPEATED"),
         _f("at", "TIMESTAMP", "REQUIRED"), _f("latency_ms", "FLOAT"),
         _f("fallback", "BOOLEAN"), _f("handoff", "BOOLEAN"), _f("language", "STRING"),
         EXPORTED_AT),
        {"wa_id": 1, "direction": 1, "type": 1, "intent": 1, "confidence": 1, "entities": 1,
         "latency_ms": 1, "fallback": 1, "handoff": 1, "language": 1},
        chat_row, lambda d: str(d["_id"]),
        "WhatsApp messages without text or phone numbers."),
    TableSpec(
        "outbox_outcomes", "outbox", "created_at", OUTBOX_SETTLE, "created_at",
        (_f("entry_id", "STRING", "REQUIRED"), _f("kind", "STRING", "REQUIRED"),
         _f("booking_id", "STRING"), _f("status", "STRING", "REQUIRED"),
         _f("attempts", "INTEGER"), _f("language", "STRING"), _f("template", "STRING"),
         _f("created_at", "TIMESTAMP", "REQUIRED"), _f("next_attempt_at", "TIMESTAMP"),
         EXPORTED_AT),
        {"kind": 1, "booking_id": 1, "status": 1, "attempts": 1, "language": 1, "template": 1,
         "next_attempt_at": 1},
        outbox_row, lambda d: str(d["_id"]),
        "Notification outcomes, exported once their status has settled."),
)
TABLE_BY_NAME = {t.table: t for t in TABLES}


# ---- watermark ---------------------------------------------------------------------------


def _decode_mark(value: Any) -> tuple[datetime, Any] | None:
    if not isinstance(value, dict) or "at" not in value:
        return None
    from bson import ObjectId

    doc_id: Any = ObjectId(value["id"]) if value.get("oid") else value["id"]
    return as_utc(value["at"]), doc_id


def make_client(project: str, *, api_endpoint: str | None = None) -> bigquery.Client:
    """The real client; with api_endpoint (an emulator or a test server) anonymously."""
    if api_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(project=project, credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": api_endpoint})
    return bigquery.Client(project=project)  # application default credentials


@dataclass
class ExportResult:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


class BigQueryExporter:
    """Synchronous (the client is): run it in a thread from async code."""

    def __init__(self, store: MongoStore, client: bigquery.Client, dataset: str, *,
                 location: str = "asia-southeast2", batch_size: int = BATCH_SIZE,
                 retry: Any = DEFAULT_RETRY.with_timeout(120),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.client = client
        self.dataset = bigquery.DatasetReference(client.project, dataset)
        self.location = location
        self.batch_size = batch_size
        self.retry = retry
        self.clock = clock

    def ensure_tables(self) -> None:
        """Create the dataset and tables when missing; refuse a table lacking our columns."""
        try:
            self.client.get_dataset(self.dataset, retry=self.retry)
        except gexc.NotFound:
            ds = bigquery.Dataset(self.dataset)
            ds.location = self.location
            self.client.create_dataset(ds, exists_ok=True, retry=self.retry)
        for spec in TABLES:
            ref = self.dataset.table(spec.table)
            try:
                table = self.client.get_table(ref, retry=self.retry)
            except gexc.NotFound:
                table = bigquery.Table(ref, schema=list(spec.schema))
                table.description = spec.description
                table.time_partitioning = bigquery.TimePartitioning(
                    type_=bigquery.TimePartitioningType.DAY, field=spec.partition)
                self.client.create_table(table, exists_ok=True, retry=self.retry)
                log.info("bigquery table %s created", spec.table)
                continue
            have = {f.name for f in table.schema}
            missing = [f.name for f in spec.schema if f.name not in have]
            if missing:
                raise ExportError(f"table {spec.table} lacks columns {missing}")

    def watermark(self, table: str) -> tuple[datetime, Any] | None:
        return _decode_mark(self.store.kv_get(WATERMARK_PREFIX + table))

    def _advance(self, table: str, at: datetime, doc_id: Any) -> None:
        from bson import ObjectId

        if not q.advance_watermark(self.store, WATERMARK_PREFIX + table, at, str(doc_id),
                                   {"oid": isinstance(doc_id, ObjectId)}):
            log.warning("bigquery export %s: a concurrent run is ahead", table)

    def export_table(self, spec: TableSpec, now: datetime) -> int:
        until = now - spec.lag
        after = self.watermark(spec.table)
        ref = self.dataset.table(spec.table)
        exported = 0
        while True:
            docs = q.export_batch(self.store, spec.collection, spec.watermark, after, until,
                                  self.batch_size, spec.projection)
            if not docs:
                break
            ctx: dict[str, Any] = {"exported_at": now.isoformat(), "patients": {}}
            if spec.collection == "chat_logs":
                wa_ids = sorted({d["wa_id"] for d in docs if isinstance(d.get("wa_id"), str)})
                ctx["patients"] = q.user_ids_by_whatsapp(self.store, wa_ids) if wa_ids else {}
            rows = [spec.row(d, ctx) for d in docs]
            ids = [spec.row_id(d) for d in docs]
            try:
                errors = self.client.insert_rows_json(ref, rows, row_ids=ids, retry=self.retry,
                                                      timeout=60)
            except gexc.GoogleAPIError as exc:
                raise ExportError(f"insert into {spec.table} failed: {type(exc).__name__}"
                                  ) from exc
            if errors:
                raise ExportError(f"BigQuery refused {len(errors)} rows of {spec.table}: "
                                  f"{errors[:3]}")
            last = docs[-1]
            after = (as_utc(last[spec.watermark]), last["_id"])
            self._advance(spec.table, *after)
            exported += len(docs)
            if len(docs) < self.batch_size:
                break
        log.info("bigquery export %s: %d rows", spec.table, exported)
        return exported

    def run(self, tables: list[str] | None = None) -> ExportResult:
        now = self.clock()
        self.ensure_tables()
        result = ExportResult()
        for spec in TABLES:
            if tables and spec.table not in tables:
                continue
            result.rows[spec.table] = self.export_table(spec, now)
        return result


def exporter_from_settings(settings: Any, store: MongoStore, *,
                           clock: Callable[[], datetime] | None = None
                           ) -> BigQueryExporter | None:
    """None when no BIGQUERY_PROJECT is configured (the export is off)."""
    if not settings.bigquery_project:
        return None
    client = make_client(settings.bigquery_project, api_endpoint=settings.bigquery_api_endpoint)
    return BigQueryExporter(store, client, settings.bigquery_dataset,
                            location=settings.bigquery_location,
                            clock=clock or (lambda: datetime.now(UTC)))


async def export_job(app: Any, *, clock: Callable[[], datetime] | None = None
                     ) -> dict[str, int]:
    """Daily scheduler job: export everything new since the last run (no-op when off).

    Meant to run once a day (the scheduler's job claim). Two overlapping runs stay harmless:
    they send the same rows with the same insertIds, and a watermark only moves forward.
    """
    from app.keys import SETTINGS, STORE

    store = app[STORE]
    exporter = exporter_from_settings(app[SETTINGS], store.sync, clock=clock)
    if exporter is None:
        log.info("bigquery export skipped: BIGQUERY_PROJECT not set")
        return {}
    try:
        result = await asyncio.to_thread(exporter.run)
    finally:
        exporter.client.close()
    return result.rows
