"""File side of merge, promotion and rollback on a tiny project (no Rasa process: merge
without `rasa data validate`, promotion to no server or to a port nobody listens on)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.retrain import promote, rasa_proc
from bot.retrain.merge import merge
from bot.retrain.project import Project
from tests.retrain.tiny import write_project

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project.at(write_project(tmp_path), test_set="tests/nlu_test_set.yml")


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


REVIEW = """\
# comments are ignored
version: "3.1"
nlu:
- intent: book
  examples: |
    - i need a doctor in [medan](city)
- intent: cancel
  examples: |
    - cancel it please
    - hapus booking saya
- intent: nlu_fallback
  examples: |
    - asdf
- intent: thank
  examples: |
    - thank you
"""


def test_merge_writes_reviewed_file_and_refuses_the_rest(project: Project,
                                                         tmp_path: Path) -> None:
    result = merge(project, write(tmp_path / "r.yml", REVIEW), validate=False)
    assert [(d.intent, d.example) for d in result.taken] == [
        ("book", "i need a doctor in [medan](city)"), ("cancel", "cancel it please")]
    assert {d.example: d.reason for d in result.refused} == {
        "hapus booking saya": "already present in the training data",
        "asdf": "unknown intent 'nlu_fallback' (label it with a domain intent or delete it)",
        "thank you": "in the frozen held-out test set (never train on it)"}
    data = yaml.safe_load(project.reviewed_file.read_text())
    assert data["nlu"] == [
        {"intent": "book", "examples": "- i need a doctor in [medan](city)\n"},
        {"intent": "cancel", "examples": "- cancel it please\n"}]
    # a second merge appends, and what is there now counts as present
    again = merge(project, write(tmp_path / "r2.yml", REVIEW.replace(
        "cancel it please", "cancel that")), validate=False)
    assert [d.example for d in again.taken] == ["cancel that"]
    assert "i need a doctor in [medan](city)" in [d.example for d in again.refused]
    cancel = yaml.safe_load(project.reviewed_file.read_text())["nlu"][1]
    assert cancel["examples"] == "- cancel it please\n- cancel that\n"
    assert "taken: 1, refused: 4" in again.text()


def test_merge_dry_run_writes_nothing(project: Project, tmp_path: Path) -> None:
    result = merge(project, write(tmp_path / "r.yml", REVIEW), validate=False, dry_run=True)
    assert len(result.taken) == 2 and result.written is None
    assert not project.reviewed_file.exists()


def model(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def served(project: Project, name: str) -> bytes | None:
    path = project.served_dir / name
    return path.read_bytes() if path.exists() else None


def test_promote_keeps_previous_and_rollback_restores(project: Project) -> None:
    base = model(project.models_dir / "base.tar.gz", b"base")
    promote.promote(project, model(project.models_dir / "c1.tar.gz", b"one"), [], base, NOW)
    assert (served(project, "current.tar.gz"), served(project, "previous.tar.gz")) == \
        (b"one", b"base")
    promote.promote(project, model(project.models_dir / "c2.tar.gz", b"two"), [], base, NOW)
    assert (served(project, "current.tar.gz"), served(project, "previous.tar.gz")) == \
        (b"two", b"one")
    state = promote.read_state(project)
    assert state["current"]["name"] == "c2.tar.gz" and state["previous"]["name"] == "c1.tar.gz"
    outcome = promote.rollback(project, [], NOW)
    assert (outcome.now_serving, outcome.rolled_back) == ("c1.tar.gz", "c2.tar.gz")
    assert served(project, "current.tar.gz") == b"one"
    assert served(project, "previous.tar.gz") is None
    with pytest.raises(promote.NothingToRollBack):
        promote.rollback(project, [], NOW)


def test_promote_restores_files_when_the_server_refuses(project: Project) -> None:
    base = model(project.models_dir / "base.tar.gz", b"base")
    promote.promote(project, model(project.models_dir / "c1.tar.gz", b"one"), [], base, NOW)
    with pytest.raises(rasa_proc.ReloadFailed):
        promote.promote(project, model(project.models_dir / "c2.tar.gz", b"two"),
                        [closed_port_url()], base, NOW)
    assert (served(project, "current.tar.gz"), served(project, "previous.tar.gz")) == \
        (b"one", b"base")
    assert promote.read_state(project)["current"]["name"] == "c1.tar.gz"


def test_first_promotion_refused_by_server_leaves_nothing_served(project: Project) -> None:
    base = model(project.models_dir / "base.tar.gz", b"base")
    with pytest.raises(rasa_proc.ReloadFailed):
        promote.promote(project, model(project.models_dir / "c1.tar.gz", b"one"),
                        [closed_port_url()], base, NOW)
    assert served(project, "current.tar.gz") is None
    assert served(project, "previous.tar.gz") is None


def test_current_model_prefers_served_then_explicit(project: Project) -> None:
    explicit = model(project.models_dir / "x.tar.gz", b"x")
    assert promote.current_model(project, None, [closed_port_url()]) is None
    assert promote.current_model(project, explicit, []) == explicit
    promote.promote(project, model(project.models_dir / "c1.tar.gz", b"one"), [], None, NOW)
    assert promote.current_model(project, explicit, []) == \
        project.served_dir / "current.tar.gz"


def test_one_run_at_a_time(project: Project) -> None:
    with promote.exclusive(project), pytest.raises(RuntimeError, match="another retrain"):
        promote.rollback(project, [], NOW)


def test_held_out_overlap(project: Project) -> None:
    assert promote.held_out_overlap(project) == 0
    (project.nlu_dir / "leak.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: thank\n  examples: |\n    - Thank you!\n')
    assert promote.held_out_overlap(project) == 1
