"""The tests' own Redis: a throw-away `redis-server` on a free loopback port.

Unless TEST_REDIS_URL is given, `url()` starts `redis-server --port <free> --save ""
--appendonly no` in a temporary directory the first time it is called (tests/conftest.py
calls it when pytest loads it, before any test module is collected) and puts the URL into
os.environ["TEST_REDIS_URL"]. So module-level reads and subprocesses (spawned workers,
the app or Rasa started as processes) all reach the same server, and a developer's own
Redis on 6379 is neither needed nor touched. The server is stopped when pytest ends
(pytest_unconfigure; atexit as a fallback; on Linux the kernel also stops it if pytest is
killed). The fixture `session_redis` gives tests the running server.

PYTEST_DONT_REWRITE: conftest imports this module before registering it as a plugin.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV = "TEST_REDIS_URL"
START_TIMEOUT_S = 10.0
SBIN = "/usr/sbin"  # not on every PATH
MISSING = ("redis-server not found: the tests start their own Redis server. Install it "
           "(`make test` does so as root on Debian/Ubuntu; else: sudo apt-get install -y "
           "redis-server) or point the tests at a Redis with TEST_REDIS_URL=redis://HOST:PORT/DB")


@dataclass
class RedisServer:
    """The Redis the tests use: our own process, or the one TEST_REDIS_URL names."""

    url: str
    process: subprocess.Popen[bytes] | None = None  # None: given by TEST_REDIS_URL
    directory: Path | None = None

    @property
    def own(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


_server: RedisServer | None = None


def find_binary() -> str:
    found = shutil.which("redis-server") or shutil.which("redis-server", path=SBIN)
    if not found:
        raise RuntimeError(MISSING)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when pytest dies (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start(binary: str | None = None, attempts: int = 3) -> RedisServer:
    """Start a private redis-server on a free port; retried if another process takes the
    port between choosing and binding it."""
    binary = binary or find_binary()
    directory = Path(tempfile.mkdtemp(prefix="klinik-test-redis-"))
    log_path = directory / "redis.log"
    for _ in range(attempts):
        port = _free_port()
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own binary, fixed arguments
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(directory), "--daemonize", "no"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)  # noqa: PLW1509 - no threads yet at this point
        deadline = time.monotonic() + START_TIMEOUT_S
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(port):
                return RedisServer(f"redis://127.0.0.1:{port}/0", process, directory)
            time.sleep(0.02)
        RedisServer("", process).stop()
    log_text = log_path.read_text(errors="replace")[-2000:]
    shutil.rmtree(directory, ignore_errors=True)
    raise RuntimeError(f"redis-server did not start ({binary}):\n{log_text}")


def url() -> str:
    """The tests' Redis URL: TEST_REDIS_URL when given, else our own server's (started on
    the first call, once per process; subprocesses inherit it through the environment)."""
    global _server
    if _server is None:
        given = os.environ.get(ENV)
        if given:
            _server = RedisServer(given)
        else:
            _server = start()
            os.environ[ENV] = _server.url
            atexit.register(_server.stop)
    return _server.url


def pytest_unconfigure(config: pytest.Config) -> None:
    if _server is not None and _server.own:
        _server.stop()


@pytest.fixture(scope="session")
def session_redis() -> RedisServer:
    url()
    assert _server is not None
    return _server
