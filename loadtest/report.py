"""load-report.json from Locust's CSV statistics and the store's bookings (pure: no I/O
beyond reading the CSV file it is given)."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ACTIVE = "confirmed"  # booking.models.ACTIVE_STATUSES


def double_bookings(bookings: Iterable[dict[str, Any]]) -> int:
    """Extra active bookings on one (doctor, start): 0 when every slot has at most one."""
    counts = Counter((b["doctor_id"], str(b["start"])) for b in bookings
                     if b.get("status") == ACTIVE)
    return sum(n - 1 for n in counts.values() if n > 1)


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def aggregated(stats_csv: Path) -> dict[str, float]:
    """The `Aggregated` row of Locust's <prefix>_stats.csv."""
    with stats_csv.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") == "Aggregated":
                return {
                    "requests": _number(row["Request Count"]),
                    "failures": _number(row["Failure Count"]),
                    "p50_ms": _number(row["50%"]),
                    "p95_ms": _number(row["95%"]),
                    "p99_ms": _number(row["99%"]),
                    "rps": _number(row["Requests/s"]),
                }
    raise ValueError(f"no Aggregated row in {stats_csv}")


def per_request(stats_csv: Path) -> list[dict[str, Any]]:
    """One row per request name: count, failures, p50/p95 (for the docs)."""
    with stats_csv.open(newline="") as fh:
        return [{"type": row["Type"], "name": row["Name"],
                 "requests": int(_number(row["Request Count"])),
                 "failures": int(_number(row["Failure Count"])),
                 "p50_ms": _number(row["50%"]), "p95_ms": _number(row["95%"])}
                for row in csv.DictReader(fh) if row.get("Name") != "Aggregated"]


def build(users: int, stats_csv: Path, doubles: int | None,
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    agg = aggregated(stats_csv)
    report: dict[str, Any] = {
        "users": users,
        "requests": int(agg["requests"]),
        "failures": int(agg["failures"]),
        "p50_ms": agg["p50_ms"],
        "p95_ms": agg["p95_ms"],
        "p99_ms": agg["p99_ms"],
        "rps": round(agg["rps"], 2),
        "double_bookings": doubles,
    }
    if extra:
        report.update(extra)
    return report
