"""The web app's own checks, run by `make test` too: the TypeScript compiler (strict) and
the Vitest unit tests of the pure parts (time zones, slot grouping, form validation)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
BIN = WEB / "node_modules" / ".bin"


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    assert (BIN / cmd[0]).exists(), "npm ci --prefix web (make install)"
    assert shutil.which("node"), "node is needed"
    return subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=WEB, capture_output=True,
                          text=True, timeout=300, check=False)


def test_typescript_compiles_strictly() -> None:
    proc = run("tsc", "--noEmit")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vitest_unit_tests_pass() -> None:
    proc = run("vitest", "run", "--reporter=verbose")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # the suites ran (an empty run would pass too)
    for name in ("shows one instant in each clinic's clock", "groups by clinic-local day",
                 "names each wrong field"):
        assert name in out, out
