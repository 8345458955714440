#!/usr/bin/env python3
"""`make run` as the README gives it, checked from outside (CI runs this; stdlib only).

Starts `make run`, waits for the app's /health, then writes "halo" as a patient in the
local Wati sandbox (the chat page's own API) and waits for the bot's reply, which has
gone sandbox -> app webhook -> Rasa -> the app's actions -> Wati API -> sandbox. Then
stops everything it started. Uses the default ports (app 8080, sandbox 8081, Rasa 5005):
CI runs it in a network namespace of its own, where nothing else listens.

    python3 scripts/smoke_run.py [--timeout 600]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = "http://127.0.0.1:8080"
SANDBOX = "http://127.0.0.1:8081"
PATIENT = "6281299990001"


def http(method: str, url: str, payload: Any = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - loopback
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read() or b"null")


def wait_for(what: str, check: Any, deadline: float, proc: subprocess.Popen[bytes]) -> Any:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"make run exited ({proc.returncode}) while waiting for {what}")
        try:
            result = check()
            if result:
                return result
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.timeout
    log_path = ROOT / ".run" / "smoke-make-run.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(["make", "run"], cwd=ROOT, stdout=log,  # noqa: S607
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for("the app's /health", lambda: http("GET", APP + "/health") == {"status": "ok"},
                 deadline, proc)
        print(f"app answers /health after {time.monotonic() - started:.0f} s", flush=True)
        http("POST", SANDBOX + "/_sandbox/api/send",
             {"wa_id": PATIENT, "name": "Budi", "text": "halo"})

        def replies() -> list[dict[str, Any]]:
            messages = http("GET", f"{SANDBOX}/_sandbox/api/messages?wa_id={PATIENT}")
            return [m for m in messages["messages"] if m.get("direction") == "out"]

        reply = wait_for("the bot's reply to 'halo'", replies, deadline, proc)[0]
        text = reply.get("text") or reply.get("body") or json.dumps(reply)[:200]
        print(f"bot replied after {time.monotonic() - started:.0f} s: {text[:120]!r}")
        return 0
    except SystemExit:
        sys.stdout.write(log_path.read_text(errors="replace")[-4000:])
        raise
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM make, run.sh, the app and Rasa (one process group); SIGKILL after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # anyone of the group still there?
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
