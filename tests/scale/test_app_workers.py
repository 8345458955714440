"""APP_WORKERS=N: N app processes answer on one port (SO_REUSEPORT), the scheduler runs in
one of them only, the embedded default refuses it (its stores cannot be shared), and a
worker that dies takes the set down with a non-zero exit so the supervisor restarts it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from booking.crypto import new_key_b64
from tests.conftest import REDIS_TEST_URL
from tests.rasa.server import free_port
from tests.wire_mongodb import WireMongo

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    """The worker processes (not multiprocessing's own resource tracker)."""
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout
    return [int(line.split()[0]) for line in out.splitlines()
            if line.strip() and "resource_tracker" not in line]


@pytest.mark.timeout(120)
def test_two_workers_share_the_port(wire_mongodb: WireMongo, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "app.log"
    env = {**os.environ, "KLINIK_APP_WORKERS": "2", "KLINIK_APP_PORT": str(port),
           "KLINIK_ROLES": "api,scheduler", "KLINIK_ACTIONS_PORT": str(free_port()),
           "KLINIK_MONGODB_URL": wire_mongodb.url.rstrip("/") + f"/w_{uuid.uuid4().hex[:8]}",
           "KLINIK_REDIS_URL": REDIS_TEST_URL,
           "KLINIK_REDIS_NAMESPACE": f"test:{uuid.uuid4().hex[:8]}:",
           "KLINIK_JWT_SECRET": "j" * 40, "KLINIK_WATI_WEBHOOK_TOKEN": "w" * 40,
           "KLINIK_ACTIONS_TOKEN": "a" * 40, "KLINIK_RASA_TOKEN": "r" * 40,
           # production mode (a configured MongoDB) needs data keys
           "KLINIK_DATA_KEYS": f"t1:{new_key_b64()}", "KLINIK_DATA_INDEX_KEY": new_key_b64()}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env,  # noqa: S603
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline:
            workers = _children(proc.pid)
            try:
                ok = requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok
            except requests.RequestException:
                ok = False
            text = log.read_text()
            if ok and len(workers) == 2 and text.count("internal listener") == 2 \
                    and "scheduler started" in text:
                break
            time.sleep(0.3)
        text = log.read_text()
        assert len(workers) == 2, text[-2000:]
        assert "starting roles=api,scheduler" in text and "starting roles=api " in text
        assert text.count("scheduler started") == 1  # in worker 0 only
        statuses = {requests.get(f"http://127.0.0.1:{port}/doctors", timeout=5).status_code
                    for _ in range(40)}
        assert statuses == {200}
        os.kill(workers[1], signal.SIGKILL)  # a worker crashes: the set goes down, loudly
        assert proc.wait(timeout=60) == 1
        assert "exited" in log.read_text()
    finally:
        for pid in [proc.pid, *_children(proc.pid)]:  # never leave a worker behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)


def test_workers_refused_on_the_embedded_default() -> None:
    env = {k: v for k, v in os.environ.items()
           if k.removeprefix("KLINIK_") not in ("MONGODB_URL", "REDIS_URL")}
    env["KLINIK_APP_WORKERS"] = "2"
    proc = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env,  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "APP_WORKERS > 1 needs MONGODB_URL and REDIS_URL" in proc.stderr
