"""Start a real Rasa server for tests (reusable by any test folder).

Function API:

    model = ensure_model()                      # trains only when the assistant changed
    server = start_rasa(model, action_url="http://127.0.0.1:8123/webhook/actions")
    # Rasa sends `Authorization: Bearer TEST_ACTIONS_TOKEN` to the actions endpoint and runs
    # its HTTP API with --auth-token TEST_RASA_TOKEN (both overridable per call).
    server.send("6281234567890", "halo", metadata={"senderName": "Budi"})  # REST channel
    server.parse("mau booking dokter gigi")     # POST /model/parse
    server.stop()

or `with rasa_running(model, action_url) as server: ...`.

`start_rasa` runs `rasa run --enable-api -m <model> --endpoints <temp endpoints.yml whose
action_endpoint is action_url> --port <free port>` (through rasa_env/launch.py) from the
project root, waits for /status (about a minute on 2 CPUs) and returns a `RasaServer`; `stop()`
terminates it (kill after 20 s). Conversations are isolated by sender id: use a fresh
WhatsApp-like number per test.

Pytest fixtures (session scope, so Rasa starts once per run; import them into a
conftest.py: `from tests.rasa.server import rasa_action_port, rasa_model, rasa_server`):

- `rasa_model`: path of the up-to-date model (`scripts/rasa_model.py ensure`).
- `rasa_action_port`: a free port reserved for the action endpoint; start your app with its
  internal listener there (`actions_port=rasa_action_port, actions_token=TEST_ACTIONS_TOKEN`;
  it may be started and stopped per test: the URL stays the same).
- `rasa_server`: the running `RasaServer`, action_endpoint
  http://127.0.0.1:<rasa_action_port>/webhook/actions (the app's actions role).

Timeouts: the first test that uses `rasa_server` pays for the start (1-2 minutes, plus a
training of 3-7 minutes when the model is stale), inside pytest-timeout's per-test limit
(120 s in pyproject.toml). Mark such tests `@pytest.mark.timeout(900)`. If the wait is
interrupted anyway, `start_rasa` stops the process before re-raising.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.retrain.rasa_proc import rasa_env

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
# `rasa run` as served everywhere: through rasa_env/launch.py (the action server's answers
# validated by a schema validator built once; see that module)
RASA_SERVE = [str(ROOT / ".venv-rasa" / "bin" / "python"), str(ROOT / "rasa_env" / "launch.py"),
              "run"]
START_TIMEOUT_S = 420.0  # about 60 s on an idle 2-CPU machine; generous under load
TEST_ACTIONS_TOKEN = "test-actions-token-0123456789abcdef0123"  # noqa: S105 - tests only
TEST_RASA_TOKEN = "test-rasa-token-0123456789abcdef012345"  # noqa: S105 - tests only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_model() -> Path:
    """Train if domain/config/nlu/dialogue changed, else reuse; returns the model path."""
    proc = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "scripts" / "rasa_model.py"), "ensure"], cwd=ROOT,
        capture_output=True, text=True, check=False, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"scripts/rasa_model.py ensure failed:\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def _http(method: str, url: str, payload: Any = None, timeout: float = 30.0) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - loopback
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
        body = resp.read()
    return json.loads(body) if body else None


@dataclass
class RasaServer:
    """A running `rasa run` process and helpers to talk to it."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path
    action_url: str | None
    auth_token: str = TEST_RASA_TOKEN
    started_in_s: float = 0.0
    _tmp: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None,
             timeout: float = 60.0) -> list[dict[str, Any]]:
        """One user message through the REST channel; returns the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        result: list[dict[str, Any]] = _http("POST", self.url + "/webhooks/rest/webhook", body,
                                             timeout) or []
        return result

    def api(self, path: str) -> str:
        """URL of an HTTP API route (behind --auth-token), token included."""
        return f"{self.url}{path}?token={self.auth_token}"

    def parse(self, text: str) -> dict[str, Any]:
        result: dict[str, Any] = _http("POST", self.api("/model/parse"), {"text": text})
        return result

    def tracker(self, sender: str) -> dict[str, Any]:
        result: dict[str, Any] = _http("GET", self.api(f"/conversations/{sender}/tracker"))
        return result

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def start_rasa(model: Path, action_url: str | None = None, *, port: int | None = None,
               action_token: str = TEST_ACTIONS_TOKEN, auth_token: str = TEST_RASA_TOKEN,
               redis_url: str | None = None, tracker_prefix: str | None = None,
               timeout: float = START_TIMEOUT_S, serve: list[str] | None = None,
               env: dict[str, str] | None = None) -> RasaServer:
    """Start `rasa run --enable-api` on 127.0.0.1 and wait until /status answers.

    Like scripts/run.sh: the project's endpoints.yml, with the action URL and token given
    through the environment, and the HTTP API behind --auth-token. With `redis_url`, the
    conversations live in Redis (tracker and lock stores, as bot/rasa_endpoints.py renders
    them; `tracker_prefix` keeps a test's keys apart), else in memory. `serve` replaces
    RASA_SERVE (bench.rasa_cost compares it with plain `rasa run`); `env` adds to Rasa's
    environment (bench.rasa_cost's TensorFlow thread settings)."""
    from bot import rasa_endpoints

    tmp = tempfile.TemporaryDirectory(prefix="rasa-server-")
    workdir = Path(tmp.name)
    endpoints = workdir / "endpoints.yml"
    text = rasa_endpoints.render(redis_url) if action_url else "{}\n"
    if redis_url and tracker_prefix:
        text = text.replace(f"key_prefix: {rasa_endpoints.TRACKER_PREFIX}",
                            f"key_prefix: {tracker_prefix}")
    endpoints.write_text(text)
    log_path = workdir / "rasa.log"
    port = port or free_port()
    cmd = [*(serve or RASA_SERVE), "--enable-api", "-m", str(model), "--endpoints", str(endpoints),
           "--credentials", str(ROOT / "credentials.yml"), "--port", str(port),
           "--interface", "127.0.0.1", "--auth-token", auth_token]
    env = {**rasa_env(), **(env or {}), "ACTIONS_URL": action_url or "",
           "ACTIONS_TOKEN": action_token}
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env,  # noqa: S603
                                   stdout=log, stderr=subprocess.STDOUT)
    server = RasaServer(port, process, workdir, log_path, action_url, auth_token, _tmp=tmp)
    try:
        _wait_ready(server, started, timeout)
    except BaseException:  # includes a pytest-timeout interrupt: never leave Rasa running
        server.stop()
        raise
    server.started_in_s = time.monotonic() - started
    return server


def _wait_ready(server: RasaServer, started: float, timeout: float) -> None:
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"rasa run exited with {server.process.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            status = _http("GET", server.api("/status"), timeout=2)
            if status and status.get("model_file"):
                return
        except (OSError, urllib.error.URLError, json.JSONDecodeError):
            pass
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"rasa run not ready after {timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.5)


@contextlib.contextmanager
def rasa_running(model: Path, action_url: str | None = None) -> Iterator[RasaServer]:
    server = start_rasa(model, action_url)
    try:
        yield server
    finally:
        server.stop()


# ---- pytest fixtures (session scope) --------------------------------------------------
@pytest.fixture(scope="session")
def rasa_model() -> Path:
    """The project's model; RASA_TEST_MODEL=<path> runs the tests on a candidate instead
    (e.g. the conversation suite on a model trained with another config)."""
    candidate = os.environ.get("RASA_TEST_MODEL")
    return Path(candidate) if candidate else ensure_model()


@pytest.fixture(scope="session")
def rasa_action_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def rasa_server(rasa_model: Path, rasa_action_port: int) -> Iterator[RasaServer]:
    with rasa_running(rasa_model,
                      f"http://127.0.0.1:{rasa_action_port}/webhook/actions") as server:
        yield server
