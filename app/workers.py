"""APP_WORKERS=N: N app processes on one port (SO_REUSEPORT: the kernel spreads the
connections), each with every role of ROLES except the scheduler, which runs in worker 0
only (its jobs are exactly-once across instances anyway; one instance is enough per host).

Workers are spawned, not forked (no state copied across), and share nothing in memory: they
need MONGODB_URL and REDIS_URL. If a worker dies, the others are stopped and the exit code
is non-zero, so the process supervisor (Kubernetes, systemd) restarts the set; a plain
supervisor of our own would only hide the crash.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any

from app.settings import Settings, SettingsError

log = logging.getLogger(__name__)


def worker_roles(roles: str, index: int) -> str:
    """The scheduler runs in worker 0 only; an otherwise empty worker still serves /health."""
    mine = [r for r in roles.split(",") if r != "scheduler" or index == 0]
    return ",".join(mine) if mine else "api"


def check(settings: Settings) -> None:
    if settings.app_workers > 1 and settings.embedded:
        raise SettingsError("APP_WORKERS > 1 needs MONGODB_URL and REDIS_URL: the embedded "
                            "in-process stand-ins cannot be shared between processes")


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed (SIGKILL, OOM) must not serve on, orphaned."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve(index: int, overrides: dict[str, Any], parent: int) -> None:
    from app.main import serve  # in the child: its own imports, loggers and event loop
    from app.settings import load_settings

    _exit_with_parent(parent)
    settings = load_settings(**overrides)
    settings = settings.model_copy(update={"roles": worker_roles(settings.roles, index)})
    serve(settings, reuse_port=True, worker=index)


def run(settings: Settings, overrides: dict[str, Any]) -> int:
    """Start the workers and wait; returns the exit code for the parent process."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_serve, args=(i, overrides, os.getpid()),
                         name=f"app-worker-{i}")
             for i in range(settings.app_workers)]
    for proc in procs:
        proc.start()
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for proc in procs:
            if proc.is_alive():
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("%d app workers on port %d", len(procs), settings.app_port)
    while True:
        dead = [p for p in procs if not p.is_alive()]
        if dead:
            if not stopping:
                log.error("app worker %s exited (%s): stopping the others", dead[0].name,
                          dead[0].exitcode)
                stop(signal.SIGTERM, None)
            for proc in procs:
                proc.join(timeout=30)
            return 0 if stopping and all(p.exitcode in (0, -signal.SIGTERM) for p in procs) \
                else 1
        time.sleep(0.5)


if __name__ == "__main__":  # pragma: no cover - use `python -m app`
    sys.exit("run `python -m app` with APP_WORKERS=N")
