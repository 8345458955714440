"""nx-27017 (PyPI: a MongoDB wire-protocol server over SQLite, a test-only dependency) on a
free port: one starter for the multi-process tests (tests/wire_mongodb.py), the load test's
stack (loadtest/stack.py) and the feature probe (scripts/probe_wire_mongodb.py).
docs/scale-out.md lists what it lacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pymongo

from tests.rasa.server import free_port

NAME = "nx-27017"


def binary() -> str:
    found = shutil.which(NAME, path=str(Path(sys.executable).parent)) or shutil.which(NAME)
    if not found:
        raise RuntimeError(f"{NAME} is not installed (it is a dev dependency: make install)")
    return found


def start(data_dir: Path, timeout_s: float = 30.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start it on a free port with its data (and log) in `data_dir`; wait until it answers
    a ping. Returns the process and its mongodb:// URL."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own test dependency
        [binary(), "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
         "--log-file", str(data_dir / "nx.log"), "--pid-file", str(data_dir / "nx.pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client: pymongo.MongoClient[Any]
            with pymongo.MongoClient(url, serverSelectionTimeoutMS=500) as client:
                client.admin.command("ping")
            return proc, url
        except pymongo.errors.PyMongoError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc)
                raise RuntimeError(f"{NAME} did not start on port {port}") from None
            time.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
