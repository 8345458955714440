"""A MongoDB wire-protocol server for the tests that need several OS processes on one
database (mongomock lives inside one process).

`MONGODB_URL` when set (a real MongoDB: every test of this kind runs); otherwise nx-27017, a
MongoDB wire-protocol server over SQLite from PyPI (a test-only dependency), started on a
free port for the session. nx-27017 0.8.1 lacks or mishandles some operators our store uses
(docs/scale-out.md lists them; `scripts/probe_wire_mongodb.py` checks them); a test that
needs one calls `wire_mongodb.skip_unless_real(reason)`: skipped on the stand-in with that
reason, run on a real MongoDB. Production code has no special case for the stand-in.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymongo
import pytest

from tests.conftest import MONGODB_URL

STANDIN = "nx-27017"


@dataclass(frozen=True)
class WireMongo:
    url: str
    standin: bool  # nx-27017, not a real MongoDB

    def skip_unless_real(self, reason: str) -> None:
        if self.standin:
            pytest.skip(f"{STANDIN} lacks it: {reason}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _standin_binary() -> str:
    found = shutil.which(STANDIN, path=str(Path(sys.executable).parent)) or shutil.which(STANDIN)
    if not found:
        raise RuntimeError(f"{STANDIN} is not installed (it is a dev dependency: make install)")
    return found


@pytest.fixture(scope="session")
def wire_mongodb() -> Iterator[WireMongo]:
    if MONGODB_URL and not MONGODB_URL.startswith("mongomock://"):
        yield WireMongo(MONGODB_URL, standin=False)
        return
    workdir = tempfile.mkdtemp(prefix="nx27017-")
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 - our own test dependency
        [_standin_binary(), "--host", "127.0.0.1", "--port", str(port), "--data-dir", workdir,
         "--log-file", os.path.join(workdir, "nx.log"),
         "--pid-file", os.path.join(workdir, "nx.pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"mongodb://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with pymongo.MongoClient(url, serverSelectionTimeoutMS=500) as client:
                    client.admin.command("ping")
                break
            except pymongo.errors.PyMongoError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{STANDIN} did not start on port {port}") from None
                time.sleep(0.2)
        yield WireMongo(url, standin=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(workdir, ignore_errors=True)
