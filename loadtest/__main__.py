"""`make load` / `python -m loadtest`: Locust headless against a stack, then load-report.json.

Environment:
  LOAD_USERS (200)        concurrent simulated users
  LOAD_SPAWN_RATE (20)    users started per second
  LOAD_SECONDS (60)       run time after the first user started
  LOAD_MIX (web)          web | whatsapp | both  (admins are always a few among them)
  LOAD_HOST               a running app (then also LOAD_SANDBOX_URL for whatsapp, and
                          LOAD_ADMIN_TOKEN, LOAD_USERS_FILE, LOAD_MONGODB_URL to count
                          double bookings); unset: a local stack is started (loadtest/stack.py)
  APP_WORKERS (1)         local stack: app processes (> 1: nx-27017 + redis-server)
  LOAD_STORE (embedded)   local stack with 1 worker: embedded | wire
  LOAD_RASA (0)           local stack: start a Rasa server too (needed by the whatsapp mix)
  RASA_REPLICAS (1)       local stack with LOAD_RASA: Rasa servers (the gateway's sticky routing)
  LOAD_ADMINS (1)         admins among the users; 0: none (the local stack on nx-27017
                          leaves them out: its aggregation lacks what GET /analytics uses)
  LOAD_RESET_STATS (0)    1: statistics restart once every user has spawned (the ramp-up,
                          with its password logins, is left out: steady state)
  LOAD_OUT (.)            where load-report.json, load-report.html and the CSVs go

Exit status 1 when any request failed or a double booking was found.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from loadtest import report
from loadtest.stack import ROOT, LocalStack, active_bookings

LOCUST_START_S = 1.5  # from starting locust to its first user
MIXES = {"web": ["WebPatient", "Admin"], "whatsapp": ["WhatsAppPatient", "Admin"],
         "both": ["WebPatient", "WhatsAppPatient", "Admin"]}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def run_locust(host: str, classes: list[str], users: int, spawn_rate: float, seconds: int,
               out: Path, env: dict[str, str]) -> int:
    locust = Path(sys.executable).with_name("locust")
    cmd = [str(locust) if locust.exists() else "locust", "-f",
           str(ROOT / "loadtest" / "locustfile.py"), "--headless", "--host", host,
           "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s",
           "--csv", str(out / "load"), "--html", str(out / "load-report.html"),
           "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING",
           "--exit-code-on-error", "0", *classes]
    if os.environ.get("LOAD_RESET_STATS", "0") in ("1", "true"):
        cmd.insert(-len(classes), "--reset-stats")  # steady state: the ramp-up not counted
    return subprocess.run(cmd, env=env, cwd=ROOT, check=False).returncode  # noqa: S603


def count_remote(mongodb_url: str | None) -> int | None:
    if not mongodb_url:
        return None
    from booking.store import MongoStore

    store = MongoStore.from_url(mongodb_url)
    try:
        return report.double_bookings(active_bookings(store))
    finally:
        store.close()


def main() -> int:
    # stopped from outside (CI timeout, Ctrl-C): the finally blocks stop the stack
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    users = env_int("LOAD_USERS", 200)
    spawn_rate = float(os.environ.get("LOAD_SPAWN_RATE") or 20)
    seconds = env_int("LOAD_SECONDS", 60)
    mix = os.environ.get("LOAD_MIX", "web")
    if mix not in MIXES:
        sys.exit(f"LOAD_MIX must be one of {', '.join(MIXES)}")
    out = Path(os.environ.get("LOAD_OUT") or ".").resolve()
    out.mkdir(parents=True, exist_ok=True)
    workers = env_int("KLINIK_APP_WORKERS", env_int("APP_WORKERS", 1))
    host = os.environ.get("LOAD_HOST")
    env = dict(os.environ)
    stack: LocalStack | None = None
    extra: dict[str, Any] = {"mix": mix, "seconds": seconds, "spawn_rate": spawn_rate}
    if not host:
        stack = LocalStack(workers=workers, users=users,
                           rasa=os.environ.get("LOAD_RASA", "0") in ("1", "true"),
                           rasa_replicas=env_int("RASA_REPLICAS", 1),
                           store=os.environ.get("LOAD_STORE", "embedded")).start()
        host = stack.host
        env.update(LOAD_USERS_FILE=str(stack.users_file), LOAD_SANDBOX_URL=stack.sandbox_url,
                   LOAD_ADMIN_TOKEN=stack.admin_token)
        extra.update(app_workers=stack.workers, store=stack.store, rasa=stack.rasa,
                     rasa_replicas=stack.rasa_replicas if stack.rasa else 0)
    classes = list(MIXES[mix])
    standin = stack is not None and stack.store == "wire" and stack.standin
    if os.environ.get("LOAD_ADMINS", "1") in ("0", "false") or standin:
        classes.remove("Admin")
    load_before = os.getloadavg()[0]
    started = time.time()
    cpu_before = stack.cpu_seconds() if stack is not None else {}
    timer = None
    if stack is not None and os.environ.get("LOAD_RESET_STATS", "0") in ("1", "true"):
        # the statistics restart when the last user has spawned: CPU from then on too
        def at_reset() -> None:
            cpu_before.update(stack.cpu_seconds())

        timer = threading.Timer(users / spawn_rate + LOCUST_START_S, at_reset)
        timer.start()
    try:
        code = run_locust(host, classes, users, spawn_rate, seconds, out, env)
    finally:
        if timer is not None:
            timer.cancel()
        if stack is not None:
            cpu_after = stack.cpu_seconds()
            extra.update(app_cpu_s=round(cpu_after["app"] - cpu_before["app"], 1),
                         stack_other_cpu_s=round(cpu_after["others"] - cpu_before["others"], 1))
            stack.stop()
            doubles = stack.double_bookings()
            stack.close()
        else:
            doubles = count_remote(os.environ.get("LOAD_MONGODB_URL"))
    extra.update(host=host, locust_exit=code, user_classes=classes,
                 wall_s=round(time.time() - started, 1),
                 loadavg_1m_before=round(load_before, 2),
                 loadavg_1m_after=round(os.getloadavg()[0], 2), cpus=os.cpu_count())
    stats = out / "load_stats.csv"
    if not stats.exists():
        print(f"Locust wrote no statistics (exit {code})", file=sys.stderr)  # noqa: T201
        return 1
    result = report.build(users, stats, doubles, extra)
    if result.get("app_cpu_s"):
        result["requests_per_app_cpu_s"] = round(result["requests"] / result["app_cpu_s"], 1)
    result["by_request"] = report.per_request(stats)
    (out / "load-report.json").write_text(json.dumps(result, indent=2) + "\n")
    summary = {k: result[k] for k in ("users", "requests", "failures", "p50_ms", "p95_ms",
                                      "p99_ms", "rps", "double_bookings")}
    print(json.dumps(summary))  # noqa: T201
    return 1 if result["failures"] or result["double_bookings"] else 0


if __name__ == "__main__":
    sys.exit(main())
