"""Smoke of `make load` (the same entry point, `python -m loadtest`): a few hundred web
patients for 45 s against a local embedded stack; any failed request or double booking
fails the test (and the run's exit status)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USERS = 300


@pytest.mark.timeout(180)
def test_load_smoke_web_mix(tmp_path: Path) -> None:
    env = {**os.environ, "LOAD_USERS": str(USERS), "LOAD_SPAWN_RATE": "30",
           "LOAD_SECONDS": "45", "LOAD_MIX": "web", "LOAD_OUT": str(tmp_path),
           "LOAD_LOGIN_SHARE": "0.05", "APP_WORKERS": "1"}
    for name in ("LOAD_HOST", "KLINIK_APP_WORKERS", "LOAD_STORE", "LOAD_RASA", "LOAD_ADMINS"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-m", "loadtest"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=170, check=False)
    tail = (proc.stdout + proc.stderr)[-4000:]
    result = json.loads((tmp_path / "load-report.json").read_text())
    assert result["failures"] == 0, tail
    assert result["double_bookings"] == 0, tail
    assert proc.returncode == 0, tail
    assert result["users"] == USERS
    # every user acted several times (5-15 s think time over ~45 s), bookings included
    assert result["requests"] > 2 * USERS, result
    names = {r["name"]: r["requests"] for r in result["by_request"]}
    assert names.get("/bookings [book]", 0) > 20 and names.get("/bookings/{id}/cancel", 0) > 0
    assert names.get("/analytics", 0) > 0  # admins are part of the web mix
    assert (tmp_path / "load-report.html").stat().st_size > 10_000
