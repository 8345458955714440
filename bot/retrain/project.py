"""Where an assistant project keeps its files (the real one, or a tiny one in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEST_SET = Path("tests/rasa/nlu_test_set.yml")
# `rasa run -m models/served/current.tar.gz` serves the promoted model; previous.tar.gz is
# the rollback target.
SERVED_DIR = Path("models/served")
REVIEWED_FILE = Path("nlu/reviewed.yml")


@dataclass(frozen=True)
class Project:
    root: Path
    rasa_bin: Path
    test_set: Path
    domain: Path
    config: Path
    data: tuple[Path, ...]          # training data (NLU + stories/rules)
    nlu_dir: Path                   # NLU files (existing examples, merge target)
    reviewed_file: Path
    models_dir: Path
    served_dir: Path
    reports_dir: Path

    @classmethod
    def at(cls, root: Path | str = REPO_ROOT, *, rasa_bin: Path | str | None = None,
           test_set: Path | str | None = None, reviewed_file: Path | str | None = None,
           reports_dir: Path | str | None = None) -> Project:
        root = Path(root).resolve()

        def rel(p: Path | str | None, default: Path) -> Path:
            q = Path(p) if p is not None else default
            return q if q.is_absolute() else root / q

        data = tuple(root / d for d in ("nlu", "dialogue", "data") if (root / d).exists())
        return cls(
            root=root,
            rasa_bin=Path(rasa_bin) if rasa_bin else REPO_ROOT / ".venv-rasa" / "bin" / "rasa",
            test_set=rel(test_set, DEFAULT_TEST_SET),
            domain=root / "domain.yml", config=root / "config.yml",
            data=data or (root / "nlu",), nlu_dir=root / "nlu",
            reviewed_file=rel(reviewed_file, REVIEWED_FILE),
            models_dir=root / "models", served_dir=root / SERVED_DIR,
            reports_dir=rel(reports_dir, Path("reports/nlu")))

    @property
    def review_dir(self) -> Path:
        return self.reports_dir / "review"
