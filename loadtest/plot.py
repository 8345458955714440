"""docs/benchmarks-load.png and the markdown table from docs/benchmarks-load.json
(loadtest/curve.py's output). Needs matplotlib (`pip install -e '.[plots]'`); without it
only the table is printed.

    .venv/bin/python -m loadtest.plot [--json docs/benchmarks-load.json] [--png ...]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from loadtest.stack import ROOT

LABELS = {"embedded:1": "1 worker, embedded store (mongomock + fakeredis)",
          "wire:1": "1 worker, nx-27017 + redis-server",
          "wire:2": "2 workers, nx-27017 + redis-server",
          "embedded:1-quiet": "1 worker, embedded, 09:19-09:27 (load avg 4.7-9.7)",
          "embedded:1-nologin": "1 worker, embedded, sessions resumed (no argon2 logins)",
          "embedded:1-idle": "1 worker, embedded, idle machine, FastHttpUser (15:27-15:50)",
          "whatsapp:rasa1": "WhatsApp patients, 1 app worker, 1 Rasa (WA reply time)",
          "whatsapp:rasa2": "WhatsApp patients, 1 app worker, RASA_REPLICAS=2",
          "whatsapp:rasa1-events": "WhatsApp patients, 1 Rasa, event-type table (19:11)",
          "both:rasa1": "web + WhatsApp patients, 1 app worker, 1 Rasa"}


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| setting | users | requests | failures | p50 ms | p95 ms | p99 ms | req/s | "
             "app CPU s | req per app CPU-s | double bookings | load avg before/after |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r.get('setting', '?')} | {r['users']} | {r['requests']} | {r['failures']} | "
            f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['rps']:.1f} | "
            f"{r.get('app_cpu_s', float('nan')):.0f} | "
            f"{r.get('requests_per_app_cpu_s', float('nan')):.0f} | {r['double_bookings']} | "
            f"{r.get('loadavg_1m_before', 0):.1f} / {r.get('loadavg_1m_after', 0):.1f} |")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        series[r.get("setting", "?")].append(r)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for setting, runs in series.items():
        runs.sort(key=lambda r: r["users"])
        users = [r["users"] for r in runs]
        label = LABELS.get(setting, setting)
        ax1.plot(users, [r["p95_ms"] / 1000 for r in runs], marker="o", label=label)
        ax2.plot(users, [r["rps"] for r in runs], marker="o", label=label)
    ax1.axhline(2.0, color="grey", linestyle="--", linewidth=1, label="target p95 2 s")
    mix = results[0].get("mix", "web") if results else "web"
    ax1.set(xlabel=f"concurrent users, {mix} mix (5-15 s think time)", ylabel="p95 latency (s)",
            yscale="log", title="p95 vs users (steady state)")
    ax2.set(xlabel="concurrent users", ylabel="requests/s", title="throughput vs users")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
    ax1.legend(fontsize=7)
    note = ("busy series: other test runs on the machine, see load avg; idle: nothing else "
            "running") if mix == "web" else "idle machine"
    fig.suptitle(f"{mix.capitalize()} mix on 2 cores ({note})", fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "docs" / "benchmarks-load.json")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "benchmarks-load.png")
    args = parser.parse_args()
    results = json.loads(args.json.read_text())
    print(table(results))  # noqa: T201
    try:
        plot(results, args.png)
    except ImportError:
        print("matplotlib is not installed: no PNG (pip install -e '.[plots]')")  # noqa: T201


if __name__ == "__main__":
    main()
