"""A local stack for load runs: the app (APP_WORKERS processes), the Wati sandbox as its own
process, optionally Rasa, and the seeded load patients.

- APP_WORKERS=1: the embedded default (in-process MongoDB stand-in and Redis stand-in).
  The app runs as `python -m loadtest.stack serve`: the same app as `python -m app`
  (create_app + run_app), with the load patients inserted into its in-process store before
  it serves, and the double bookings counted from that store when it stops.
- APP_WORKERS>1 (or LOAD_STORE=wire): `python -m app` with N workers on one port, a
  MongoDB wire-protocol server (MONGODB_URL when given, else nx-27017 on a free port) and a
  private redis-server (REDIS_URL when given); patients and demo clinics are seeded into
  the database first; double bookings are counted there afterwards.

Seeded patients share one argon2 hash (hashing 10,000 passwords would take longer than the
run) and each gets a refresh token, as a browser that remembers its session has: the
locustfile uses it for most visits and logs in with the password for the others.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOAD_PASSWORD = "load-pass-0123"  # noqa: S105 - the seeded load patients' password
DB_NAME = "klinik_load"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status < 500:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def seed(store: Any, settings: Any, count: int) -> list[dict[str, Any]]:
    """Insert `count` load patients; return their credentials (email, password, refresh)."""
    from app.http.auth import issue_tokens
    from booking.models import Role, User
    from booking.passwords import hash_password

    password_hash = hash_password(LOAD_PASSWORD)
    accounts = []
    for i in range(count):
        user = User(id=f"load-p{i:05d}", name=f"Load Patient {i}",
                    email=f"load{i:05d}@load.test", role=Role.patient,
                    password_hash=password_hash)
        with contextlib.suppress(Exception):  # already there from an earlier run
            store.insert_user(user)
        tokens = issue_tokens(settings, user)
        accounts.append({"email": user.email, "password": LOAD_PASSWORD,
                         "refresh_token": tokens["refresh_token"]})
    return accounts


def drop_id_compound_indexes(store: Any, settle_s: float = 2.0, timeout: float = 60) -> None:
    """nx-27017 0.8.1 only: it cannot maintain an index whose key holds `_id` next to another
    field (every insert then fails with "JSON path error near '_id'"). The analytics role
    declares two such indexes at start (export watermarks); the harness drops them once
    every worker has started (they only speed up the BigQuery export, which is off here).
    A real MongoDB (MONGODB_URL) keeps them; the app's code is the same either way."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        dropped = 0
        for coll in (store.bookings, store.chat_logs, store.outbox):
            for name, spec in coll.index_information().items():
                keys = [k for k, _ in spec["key"]]
                # nx-27017 lists such an index without its _id part; its name keeps it
                if name != "_id_" and ("_id" in keys[1:] or name.endswith("__id")):
                    coll.drop_index(name)
                    dropped += 1
        quiet = quiet + 1 if not dropped else 0
        time.sleep(settle_s)


def active_bookings(store: Any) -> list[dict[str, Any]]:
    return list(store.bookings.find({"status": "confirmed"},
                                    {"_id": 0, "doctor_id": 1, "start": 1, "status": 1}))


@dataclass
class LocalStack:
    workers: int = 1
    users: int = 100
    rasa: bool = False
    rasa_replicas: int = 1   # RASA_REPLICAS: Rasa servers, each patient on its hashed replica
    store: str = "embedded"  # or "wire"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="klinik-load-")))
    host: str = ""
    sandbox_url: str = ""
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    users_file: Path = Path()
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _app: subprocess.Popen[bytes] | None = None
    _mongo_url: str = ""
    _cleanups: list[Any] = field(default_factory=list)
    _standin: bool = False
    _seed_env: dict[str, str] = field(default_factory=dict)

    def start(self) -> LocalStack:
        try:
            return self._start()
        except BaseException:
            self.close()  # nothing left running when the start fails
            raise

    def _start(self) -> LocalStack:
        from booking.crypto import new_key_b64

        if self.workers > 1:
            self.store = "wire"
        self.users_file = self.workdir / "users.json"
        app_port, actions_port, sandbox_port = free_port(), free_port(), free_port()
        self.host = f"http://127.0.0.1:{app_port}"
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        hook_token, wati_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        env = {**os.environ,
               "KLINIK_APP_PORT": str(app_port), "KLINIK_ACTIONS_PORT": str(actions_port),
               "KLINIK_APP_WORKERS": str(self.workers),
               "KLINIK_JWT_SECRET": secrets.token_urlsafe(32),
               "KLINIK_WATI_WEBHOOK_TOKEN": hook_token,
               "KLINIK_ACTIONS_TOKEN": secrets.token_urlsafe(32),
               "KLINIK_RASA_TOKEN": secrets.token_urlsafe(32),
               "KLINIK_ADMIN_TOKEN": self.admin_token,
               "KLINIK_WATI_API_URL": self.sandbox_url, "KLINIK_WATI_API_TOKEN": wati_token,
               # one client address for every simulated user: the per-IP limits would
               # stop the run, they are not what is measured
               "KLINIK_LOGIN_LIMIT_PER_IP": "1000000", "KLINIK_REGISTER_LIMIT_PER_IP": "1000000",
               "KLINIK_ACCESS_TOKEN_MINUTES": "120", "KLINIK_LOG_LEVEL": "WARNING",
               "KLINIK_PHOTO_DIR": str(self.workdir / "photos"),
               # the app's workers and the seeding below share one set of data keys
               # (a configured MongoDB is production mode: it refuses to start without)
               "KLINIK_DATA_KEYS": f"load:{new_key_b64()}",
               "KLINIK_DATA_INDEX_KEY": new_key_b64()}
        for name in ("MONGODB_URL", "REDIS_URL"):
            env.pop(name, None)
            env.pop("KLINIK_" + name, None)
        self._start_sandbox(sandbox_port, wati_token,
                            f"{self.host}/whatsapp/webhook?token={hook_token}")
        if self.rasa:
            from tests.rasa.server import ensure_model

            model = ensure_model()
            urls = [self._start_rasa(model, actions_port, env)
                    for _ in range(self.rasa_replicas)]
            env["KLINIK_RASA_URL"], env["KLINIK_RASA_URLS"] = urls[0], ",".join(urls)
        if self.store == "wire":
            self._start_wire(env)
            cmd = [sys.executable, "-m", "app"]
        else:
            cmd = [sys.executable, "-m", "loadtest.stack", "serve", "--users", str(self.users),
                   "--users-file", str(self.users_file),
                   "--result", str(self.workdir / "result.json")]
        log = (self.workdir / "app.log").open("wb")
        self._app = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,  # noqa: S603
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_http(self.host + "/health", 120, self._app)
            if self.store == "wire":
                self._seed_wire()
            deadline = time.monotonic() + 120
            while not self.users_file.exists():
                if time.monotonic() > deadline or self._app.poll() is not None:
                    raise RuntimeError("the load patients were not seeded")
                time.sleep(0.2)
        except RuntimeError:
            raise RuntimeError("the app did not start:\n" +
                               (self.workdir / "app.log").read_text()[-3000:]) from None
        return self

    def _start_sandbox(self, port: int, token: str, webhook_url: str) -> None:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "sandbox", "--port", str(port), "--token", token,
             "--webhook-url", webhook_url], cwd=ROOT,
            stdout=(self.workdir / "sandbox.log").open("wb"), stderr=subprocess.STDOUT)
        self._procs.append(proc)
        wait_http(self.sandbox_url + "/_sandbox/sent", 30, proc)

    def _start_rasa(self, model: Path, actions_port: int, env: dict[str, str]) -> str:
        from tests.rasa.server import start_rasa

        # with REDIS_URL the replicas share the tracker store there (as make run does); else
        # each keeps its own in memory, which the sticky routing allows
        server = start_rasa(model, f"http://127.0.0.1:{actions_port}/webhook/actions",
                            action_token=env["KLINIK_ACTIONS_TOKEN"],
                            auth_token=env["KLINIK_RASA_TOKEN"],
                            redis_url=os.environ.get("REDIS_URL") or None)
        self._cleanups.append(server.stop)
        return str(server.url)

    def _start_wire(self, env: dict[str, str]) -> None:
        url = os.environ.get("MONGODB_URL") or ""
        self._standin = not url
        url = url or self._start_nx()
        self._mongo_url = url.rstrip("/") + "/" + DB_NAME if url.count("/") <= 3 else url
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            from tests import redis_server

            server = redis_server.start()
            self._cleanups.append(server.stop)
            redis_url = server.url
        env.update(KLINIK_MONGODB_URL=self._mongo_url, KLINIK_REDIS_URL=redis_url,
                   KLINIK_REDIS_NAMESPACE=f"load:{secrets.token_hex(4)}:",
                   KLINIK_LOAD_DEMO_DATA="false")
        self._seed_env = env

    def _seed_wire(self) -> None:
        """After the app has started on the empty database: demo clinics and load patients."""
        from pydantic import SecretStr

        from app.settings import Settings
        from booking import demo
        from booking.crypto import Keyring
        from booking.store import MongoStore

        store = MongoStore.from_url(self._mongo_url, keyring=Keyring.from_env(self._seed_env))
        try:
            if self._standin:
                drop_id_compound_indexes(store)
            demo.load(store, password_hash=None)
            settings = Settings(jwt_secret=SecretStr(self._seed_env["KLINIK_JWT_SECRET"]))
            tmp = self.users_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(seed(store, settings, self.users)))
            tmp.replace(self.users_file)
        finally:
            store.close()

    def _start_nx(self) -> str:
        from tests import mongo_standin

        data = self.workdir / "nx"
        data.mkdir()
        proc, url = mongo_standin.start(data)
        self._procs.append(proc)
        return url

    @property
    def standin(self) -> bool:
        """The wire database is nx-27017 (not a real MongoDB from MONGODB_URL)."""
        return self._standin

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by the app processes and by the rest of the
        stack (sandbox, nx-27017): on a shared machine, requests per CPU-second of the app
        is the figure that does not depend on what else runs."""
        import psutil

        def tree(pid: int) -> float:
            try:
                root = psutil.Process(pid)
                total = 0.0
                for proc in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        t = proc.cpu_times()
                        total += t.user + t.system
                return total
            except psutil.Error:
                return 0.0

        app = tree(self._app.pid) if self._app is not None else 0.0
        return {"app": app, "others": sum(tree(p.pid) for p in self._procs)}

    def double_bookings(self) -> int | None:
        """After stop(): counted from the store (None if it could not be read)."""
        from loadtest.report import double_bookings

        if self.store == "wire":
            from booking.crypto import Keyring
            from booking.store import MongoStore

            store = MongoStore.from_url(self._mongo_url, keyring=Keyring.from_env(self._seed_env))
            try:
                return double_bookings(active_bookings(store))
            finally:
                store.close()
        result = self.workdir / "result.json"
        return int(json.loads(result.read_text())["double_bookings"]) \
            if result.exists() else None

    def stop(self) -> None:
        """Stop the app first (the embedded one writes its count), then the rest; the
        wire database stays up until double_bookings() has read it: call close()."""
        if self._app is not None and self._app.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._app.pid, signal.SIGTERM)
            try:
                self._app.wait(timeout=90)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._app.pid, signal.SIGKILL)
                self._app.wait(10)

    def close(self) -> None:
        self.stop()
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for cleanup in self._cleanups:
            with contextlib.suppress(Exception):
                cleanup()
        self._procs.clear()
        self._cleanups.clear()


def serve(users: int, users_file: Path, result: Path) -> None:
    """The embedded app with the load patients in its store; counts double bookings at exit."""
    from aiohttp import web

    from app.logsafety import RedactingAccessLogger
    from app.main import configure_logging, create_app
    from app.settings import load_settings
    from booking.store import MongoStore

    settings = load_settings()
    configure_logging(settings.log_level)
    store = MongoStore.from_url(None)
    accounts = seed(store, settings, users)
    tmp = users_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(accounts))
    tmp.replace(users_file)
    try:
        web.run_app(create_app(settings, store=store), host=settings.app_host,
                    port=settings.app_port, print=None, access_log=None,
                    shutdown_timeout=5,  # open keep-alive connections of 10,000 users
                    access_log_class=RedactingAccessLogger)
    finally:
        from loadtest.report import double_bookings

        result.write_text(json.dumps({"double_bookings": double_bookings(
            active_bookings(store))}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve", help="the embedded app with seeded load patients")
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--users-file", type=Path, required=True)
    p.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.users, args.users_file, args.result)


if __name__ == "__main__":
    main()
