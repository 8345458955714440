"""The capacity curve: `python -m loadtest` for each setting and user count, in sequence;
every load-report.json is appended to one JSON file (docs/benchmarks-load.json).

    nice -n 10 .venv/bin/python -m loadtest.curve --users 200 1000 3000 \\
        --setting embedded:1 --setting wire:1 --setting wire:2 [--steady 90] [--rate 50]

A setting is STORE:APP_WORKERS (embedded only with 1 worker). Each run: spawn at --rate
users/s, then --steady seconds measured (statistics reset after the ramp-up).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from loadtest.stack import ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[200, 1000, 3000])
    parser.add_argument("--setting", action="append", default=[])
    parser.add_argument("--steady", type=int, default=90)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--mix", default="web")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-load.json")
    args = parser.parse_args()
    results = json.loads(args.out.read_text()) if args.out.exists() else []
    for setting in args.setting or ["embedded:1"]:
        store, workers = setting.split(":")
        for users in args.users:
            outdir = Path(tempfile.mkdtemp(prefix="klinik-curve-"))
            seconds = math.ceil(users / args.rate) + args.steady
            env = {**os.environ, "LOAD_USERS": str(users), "LOAD_SPAWN_RATE": str(args.rate),
                   "LOAD_SECONDS": str(seconds), "LOAD_MIX": args.mix, "LOAD_STORE": store,
                   "APP_WORKERS": str(workers), "LOAD_RESET_STATS": "1",
                   "LOAD_OUT": str(outdir)}
            env.pop("LOAD_HOST", None)
            env.pop("KLINIK_APP_WORKERS", None)
            proc = subprocess.run([sys.executable, "-m", "loadtest"], env=env, cwd=ROOT,
                                  check=False, capture_output=True, text=True)
            report = outdir / "load-report.json"
            if not report.exists():
                print(f"{setting} {users}: no report\n{proc.stderr[-2000:]}")  # noqa: T201
                continue
            result = json.loads(report.read_text())
            result.update(setting=setting, steady_s=args.steady)
            results.append(result)
            args.out.write_text(json.dumps(results, indent=1) + "\n")
            print(setting, users, {k: result.get(k) for k in (  # noqa: T201
                "requests", "failures", "p50_ms", "p95_ms", "rps", "double_bookings",
                "app_cpu_s", "loadavg_1m_before")}, flush=True)


if __name__ == "__main__":
    main()
