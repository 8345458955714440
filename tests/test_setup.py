"""The set-up of the two commands: the run's own Redis (tests/redis_server.py) and the
prerequisite checks of scripts/prereqs.sh (make test, make run, make doctor)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis import Redis

from tests import redis_server
from tests.conftest import REDIS_TEST_URL
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[1]
PREREQS = ROOT / "scripts" / "prereqs.sh"
# What the scripts need from the machine; everything else is hidden from its PATH.
BASICS = ["bash", "dirname", "ls", "sort", "id", "grep", "cut", "head", "sed", "awk", "df",
          "printf", "chmod", "rm", "apt-get", "apt-cache"]


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def without_redis_url() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != redis_server.ENV}


# ---- the run's own Redis ------------------------------------------------------------------
def test_every_test_uses_the_runs_redis(session_redis: RedisServer) -> None:
    assert REDIS_TEST_URL == session_redis.url == os.environ[redis_server.ENV]
    if not session_redis.own:
        return  # TEST_REDIS_URL was given: that server is used as it is
    port = urlsplit(session_redis.url).port
    assert port != 6379, "the run's own server never takes the usual port"
    client = Redis.from_url(session_redis.url)
    try:
        assert client.config_get("save") == {"save": ""}  # throw-away: nothing on disk
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("port") == {"port": str(port)}
    finally:
        client.close()
    assert session_redis.process is not None and session_redis.process.poll() is None


def test_a_process_without_the_url_starts_and_stops_its_own() -> None:
    script = ("from tests import redis_server; import os; "
              "print(redis_server.url(), os.environ['TEST_REDIS_URL'])")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=without_redis_url(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    url, env_url = proc.stdout.split()
    assert url == env_url and url != REDIS_TEST_URL
    port = urlsplit(url).port
    assert port and port != 6379
    assert refused(port), "the server stops when its process ends"


def test_subprocesses_inherit_the_runs_server() -> None:
    script = ("from tests import redis_server; u = redis_server.url(); "
              "print(u, redis_server._server.own)")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [REDIS_TEST_URL, "False"]


def test_start_and_stop_a_server() -> None:
    server = redis_server.start()
    assert server.own and server.directory is not None and server.directory.is_dir()
    client = Redis.from_url(server.url)
    try:
        client.set("k", "v")
        assert client.get("k") == b"v"
    finally:
        client.close()
    server.stop()
    assert server.process is not None and server.process.returncode is not None
    assert not server.directory.exists()
    assert refused(urlsplit(server.url).port or 0)


def test_no_redis_server_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(redis_server, "SBIN", str(tmp_path))
    with pytest.raises(RuntimeError) as err:
        redis_server.start()
    assert "apt-get install -y redis-server" in str(err.value)
    assert "TEST_REDIS_URL" in str(err.value)


# ---- scripts/prereqs.sh ---------------------------------------------------------------------
def bare_machine(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has only the basics: no node, npm, redis-server, and a
    HOME without pyenv, so no Python 3.10 (Debian 12 has none of its own)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in BASICS:
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path), "PREREQS_INSTALL": "0"}


def prereqs(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(PREREQS), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False,
                          env=env if env is not None else dict(os.environ))


def test_prereqs_say_exactly_what_to_install(tmp_path: Path) -> None:
    proc = prereqs("ensure", "python3.10", "node", "redis", env=bare_machine(tmp_path))
    assert proc.returncode == 1
    missing = proc.stderr.splitlines()[0]
    assert missing.startswith("missing:") and "node" in missing and "redis" in missing
    if shutil.which("apt-get"):
        assert "apt-get install -y nodejs npm redis-server" in proc.stderr
    if not Path("/usr/bin/python3.10").exists():
        assert "python3.10" in missing and "pyenv install 3.10" in proc.stderr


def test_prereqs_find_what_make_test_installed() -> None:
    proc = prereqs("ensure", "python3.11", "python3.10", "node", "redis", "chromium",
                   env={**os.environ, "PREREQS_INSTALL": "0"})
    assert proc.returncode == 0, proc.stderr
    for version in ("3.10", "3.11"):
        path = prereqs("python", version).stdout.strip()
        out = subprocess.run([path, "-c", "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout
        assert out.strip() == f"({version.replace('.', ', ')})"


def test_doctor_names_each_part() -> None:
    proc = prereqs("doctor")
    assert proc.returncode == 0, proc.stderr
    names = [line[9:22].strip() for line in proc.stdout.splitlines()]
    assert names == ["python 3.11", "python 3.10", "node/npm", "redis", "chromium", "disk",
                     "environments", "model"]
    assert all(line.split()[0] in ("ok", "MISSING", "LOW", "TODO")
               for line in proc.stdout.splitlines())
