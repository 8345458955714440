#!/usr/bin/env python3
"""`make run` as the README gives it, checked from outside (CI runs this).

Starts `make run`, waits for the app's /health and the Rasa server's loaded model, then
writes as a patient in the local Wati sandbox (the chat page's own API) and waits for the
bot's replies, which go sandbox -> app webhook -> Rasa -> the app's actions (doctor search
on the demo data) -> Wati API -> sandbox. Then stops everything it started. Uses the
default ports (app 8080, sandbox 8081, Rasa 5005): CI runs it in a network namespace of
its own, where nothing else listens.

    .venv/bin/python scripts/smoke_run.py [--timeout 600]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.texts import say  # noqa: E402 - the gateway's own 'busy' text

ROOT = Path(__file__).resolve().parent.parent
APP = "http://127.0.0.1:8080"
SANDBOX = "http://127.0.0.1:8081"
RASA = "http://127.0.0.1:5005"
PATIENT = "6281299990001"
# (what the patient writes, a word the bot's replies must contain)
CHAT = [("halo", "Halo"), ("cari dokter gigi di Bandung", "Bandung")]


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


def bot_replies(after: int, expected: str) -> list[dict[str, Any]]:
    """The bot's messages after seq `after`, once one of them contains `expected`."""
    messages = http("GET", f"{SANDBOX}/_sandbox/api/messages?wa_id={PATIENT}&after={after}")
    out = [m for m in messages["messages"] if m.get("direction") == "out"]
    if any(say("busy", lang) in json.dumps(m, ensure_ascii=False) for m in out
           for lang in ("id", "en")):
        raise SystemExit(f"the bot answered 'busy': {out}")
    return out if any(expected in json.dumps(m, ensure_ascii=False) for m in out) else []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.timeout
    log_path = ROOT / ".run" / "smoke-make-run.log"
    log_path.parent.mkdir(exist_ok=True)
    # run.sh takes the Rasa API token from here instead of a random one, so /status answers
    rasa_token = secrets.token_urlsafe(32)
    env = {**os.environ, "KLINIK_RASA_TOKEN": rasa_token}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(["make", "run"], cwd=ROOT, stdout=log, env=env,  # noqa: S607
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for("the app's /health", lambda: http("GET", APP + "/health") == {"status": "ok"},
                 deadline, proc)
        print(f"app answers /health after {time.monotonic() - started:.0f} s", flush=True)
        wait_for("Rasa's model",
                 lambda: http("GET", f"{RASA}/status?token={rasa_token}").get("model_file"),
                 deadline, proc)
        print(f"Rasa has loaded its model after {time.monotonic() - started:.0f} s", flush=True)
        seen = 0
        for text, expected in CHAT:
            http("POST", SANDBOX + "/_sandbox/api/send",
                 {"wa_id": PATIENT, "name": "Budi", "text": text})
            replies = wait_for(f"the bot's reply to {text!r}",
                               functools.partial(bot_replies, seen, expected), deadline, proc)
            seen = max(m["seq"] for m in replies)
            shown = " | ".join(json.dumps(m, ensure_ascii=False)[:300] for m in replies)
            print(f"{text!r} -> {shown}", flush=True)
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
