"""The package structure holds (docs/architecture.md): import-linter checks the contracts of
pyproject.toml on every run, and a planted violation is caught (the check can fail)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_import_contracts_are_kept() -> None:
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "4 kept, 0 broken" in proc.stdout


def test_a_core_import_of_a_role_breaks_the_contract(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".venv*", ".git", "node_modules", "models", ".run", "*.tar.gz", "web", "dashboard"))
    (copy / "booking" / "planted.py").write_text("from notify import window  # noqa\n")
    proc = _lint(copy)
    assert proc.returncode != 0
    assert "booking/ is the core" in proc.stdout and "BROKEN" in proc.stdout
