"""Command line: `python -m analytics export` (BigQuery) and `python -m analytics metrics`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime


def _export(args: argparse.Namespace) -> int:
    from analytics.bigquery_export import TABLE_BY_NAME, ExportError, exporter_from_settings
    from app.settings import load_settings
    from booking.store import MongoStore
    from booking.store_analytics import ensure_analytics_indexes

    settings = load_settings()
    url = settings.mongodb_url.get_secret_value() if settings.mongodb_url else None
    store = MongoStore.from_url(url)
    try:
        exporter = exporter_from_settings(settings, store)
        if exporter is None:
            print("BIGQUERY_PROJECT is not set: nothing to export", file=sys.stderr)
            return 2
        unknown = [t for t in args.table if t not in TABLE_BY_NAME]
        if unknown:
            print(f"unknown tables {unknown}; known: {sorted(TABLE_BY_NAME)}", file=sys.stderr)
            return 2
        ensure_analytics_indexes(store)
        try:
            result = exporter.run(args.table or None)
        except ExportError as exc:
            print(f"export failed (watermarks kept, re-run to resume): {exc}", file=sys.stderr)
            return 1
        finally:
            exporter.client.close()
        print(json.dumps(result.rows))
        return 0
    finally:
        store.close()


def _metrics(args: argparse.Namespace) -> int:
    from analytics.query import AnalyticsQuery
    from analytics.service import AnalyticsService
    from app.context import build_core
    from app.settings import load_settings

    settings = load_settings()
    params = {k: v for k, v in {"from": args.date_from, "to": args.date_to, "tz": args.tz,
                                "city": args.city, "specialty": args.specialty,
                                "doctor_id": args.doctor}.items() if v}
    query = AnalyticsQuery.from_params(params, today=datetime.now(UTC).date())

    async def run() -> dict[str, object]:
        store, coordinator, _ = build_core(settings)
        try:
            return await AnalyticsService(store, coordinator, cache_ttl_s=0).compute(query)
        finally:
            await coordinator.redis.aclose()
            store.sync.close()

    print(json.dumps(asyncio.run(run()), indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("export", help="export new rows to BigQuery (incremental)")
    exp.add_argument("--table", action="append", default=[],
                     help="only this table (bookings, chat_logs, outbox_outcomes); repeatable")
    met = sub.add_parser("metrics", help="print the analytics JSON for a range")
    met.add_argument("--from", dest="date_from")
    met.add_argument("--to", dest="date_to")
    met.add_argument("--tz")
    met.add_argument("--city")
    met.add_argument("--specialty")
    met.add_argument("--doctor")
    args = parser.parse_args(argv)
    if args.command == "export":
        return _export(args)
    return _metrics(args)


if __name__ == "__main__":
    raise SystemExit(main())
