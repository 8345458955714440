"""Retrain, evaluate against the served model on the frozen held-out set, promote or refuse,
and roll back.

Served layout (`models/served/`): `current.tar.gz` is what the Rasa server runs (start it
with `-m models/served/current.tar.gz`; promotion also tells running servers with
`PUT /model`), `previous.tar.gz` is the rollback target, `state.json` says which
candidate each file came from. One retrain or rollback at a time (file lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.retrain import nlu_yaml, rasa_proc
from bot.retrain.evaluation import Evaluation, Rule, Verdict, compare
from bot.retrain.project import Project
from bot.retrain.report import RunInfo, render
from bot.retrain.similarity import canonical

log = logging.getLogger(__name__)

CURRENT = "current.tar.gz"
PREVIOUS = "previous.tar.gz"
ROLLED_BACK = "rolled_back.tar.gz"
STATE = "state.json"
LATEST_MD = "latest.md"
LATEST_JSON = "latest.json"


class NothingToRollBack(RuntimeError):
    """No previous model is kept."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


@contextlib.contextmanager
def exclusive(project: Project) -> Iterator[None]:
    project.served_dir.mkdir(parents=True, exist_ok=True)
    with (project.served_dir / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RuntimeError("another retrain or rollback is running") from exc
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_state(project: Project) -> dict[str, Any]:
    path = project.served_dir / STATE
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return data


def _write_state(project: Project, state: dict[str, Any]) -> None:
    nlu_yaml.write_text_atomic(project.served_dir / STATE, json.dumps(state, indent=2) + "\n")


def evaluate(project: Project, model: Path) -> Evaluation:
    """`rasa test nlu` on the frozen test set, cached by (model, test set) content."""
    key = f"{sha256(model)[:16]}-{sha256(project.test_set)[:16]}"
    cache = project.models_dir / "evals" / f"{key}.json"
    if cache.exists():
        return Evaluation.from_json(json.loads(cache.read_text()))
    result = rasa_proc.evaluate_model(project, model, project.test_set)
    nlu_yaml.write_text_atomic(cache, json.dumps(result.to_json(), indent=1))
    return result


def current_model(project: Project, explicit: Path | None,
                  rasa_urls: Sequence[str]) -> Path | None:
    """The model to beat: the served one, else the one given, else what the server runs."""
    served = project.served_dir / CURRENT
    if served.exists():
        return served
    if explicit is not None:
        return explicit
    for url in rasa_urls:
        name = rasa_proc.server_model(url)
        if name:  # Rasa reports the file name only: look where models are kept
            for path in (Path(name), project.root / name, project.models_dir / name):
                if path.is_absolute() and path.exists():
                    return path
    return None


def _meta(model: Path, name: str, now: datetime, **extra: Any) -> dict[str, Any]:
    return {"name": name, "sha256": sha256(model), "at": now.isoformat(), **extra}


def _reload(urls: Sequence[str], model: Path) -> list[str]:
    done = []
    for url in urls:
        rasa_proc.load_model(url, model)
        done.append(url)
    return done


def promote(project: Project, candidate: Path, rasa_urls: Sequence[str],
            baseline: Path | None, now: datetime) -> None:
    """Install the candidate as current (previous kept) and make the servers load it.

    If a server refuses it, the files are restored and servers that already switched are
    told to load the old model again; ReloadFailed is raised.
    """
    d = project.served_dir
    d.mkdir(parents=True, exist_ok=True)
    current, previous, backup = d / CURRENT, d / PREVIOUS, d / ".previous.bak"
    incoming = d / ".incoming.tar.gz"
    state = read_state(project)
    shutil.copyfile(candidate, incoming)
    had_previous, had_current = previous.exists(), current.exists()
    if had_previous:
        os.replace(previous, backup)
    old_meta = state.get("current")
    if had_current:
        os.replace(current, previous)
    elif baseline is not None and baseline.exists():
        shutil.copyfile(baseline, previous)
        old_meta = _meta(previous, baseline.name, now, source=str(baseline))
    os.replace(incoming, current)
    done: list[str] = []
    try:
        for url in rasa_urls:
            rasa_proc.load_model(url, current)
            done.append(url)
    except rasa_proc.ReloadFailed:
        if had_current:
            os.replace(previous, current)
        else:
            current.unlink()
            previous.unlink(missing_ok=True)
        if had_previous:
            os.replace(backup, previous)
        restore = current if had_current else baseline
        for url in done:
            if restore is not None:
                with contextlib.suppress(rasa_proc.ReloadFailed):
                    rasa_proc.load_model(url, restore)
        raise
    backup.unlink(missing_ok=True)
    _write_state(project, {"current": _meta(current, candidate.name, now),
                           "previous": old_meta if previous.exists() else None,
                           "history": (state.get("history") or [])[-20:] + [
                               {"promoted": candidate.name, "at": now.isoformat()}]})


@dataclass
class RetrainOutcome:
    decision: str                     # promoted | refused | evaluated
    verdict: Verdict
    before: Evaluation | None
    after: Evaluation
    candidate: Path
    current: Path | None
    report: Path
    markdown: str

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "promote": self.verdict.promote,
                "reasons": list(self.verdict.reasons), "notes": list(self.verdict.notes),
                "candidate": self.candidate.name,
                "current": self.current.name if self.current else None,
                "report": str(self.report),
                "before": self.before.to_json() if self.before else None,
                "after": self.after.to_json()}


def held_out_overlap(project: Project) -> int:
    """How many held-out test messages also appear in the training data (should be 0)."""
    test = {canonical(_plain(ex)) for _, exs in nlu_yaml.read_blocks(project.test_set)
            for ex in exs}
    train = {canonical(_plain(ex)) for exs in
             nlu_yaml.read_training_examples(project.data).values() for ex in exs}
    return len(test & train)


def _plain(raw: str) -> str:
    try:
        return nlu_yaml.parse_example(raw).text
    except nlu_yaml.AnnotationError:
        return raw


def retrain(project: Project, *, rasa_urls: Sequence[str] = (), rule: Rule = Rule(),
            current: Path | None = None, cross_validation: int = 0, dry_run: bool = False,
            now: datetime | None = None) -> RetrainOutcome:
    now = now or datetime.now(UTC)
    if not project.test_set.exists():
        raise FileNotFoundError(f"held-out test set not found: {project.test_set}")
    with exclusive(project):
        baseline = current_model(project, current, rasa_urls)
        name = f"candidate-{_stamp(now)}"
        started = time.monotonic()
        candidate = rasa_proc.train(project, name, project.models_dir / "candidates")
        train_s = time.monotonic() - started
        after = evaluate(project, candidate)
        before = evaluate(project, baseline) if baseline is not None else None
        verdict = compare(before, after, rule)
        cv = rasa_proc.cross_validate(project, cross_validation) if cross_validation else None
        decision = "evaluated" if dry_run else ("promoted" if verdict.promote else "refused")
        extra = []
        overlap = held_out_overlap(project)
        if overlap:
            extra.append(f"WARNING: {overlap} test messages are also in the training data")
        if decision == "promoted":
            try:
                promote(project, candidate, rasa_urls, baseline, now)
            except rasa_proc.ReloadFailed as exc:
                decision = "refused"
                verdict = Verdict(False, (*verdict.reasons, f"reload failed: {exc}"),
                                  verdict.notes)
        if decision == "promoted" and rasa_urls:
            extra.append("loaded by " + ", ".join(rasa_urls))
        state = read_state(project)
        current_name = None
        if baseline is not None:
            current_name = (state.get("previous") or {}).get("name") if decision == "promoted" \
                else (state.get("current") or {}).get("name")
            current_name = current_name or baseline.name
        info = RunInfo(now.strftime("%Y-%m-%d %H:%M UTC"), candidate.name, current_name,
                       str(_rel(project.test_set, project.root)), sha256(project.test_set),
                       decision, train_s, tuple(extra))
        markdown = render(info, before, after, verdict, rule, cv)
        report = _write_report(project, now, markdown)
        outcome = RetrainOutcome(decision, verdict, before, after, candidate, baseline, report,
                                 markdown)
        nlu_yaml.write_text_atomic(project.reports_dir / LATEST_JSON,
                                   json.dumps(outcome.to_json(), indent=1))
        if decision != "evaluated":
            candidate.unlink(missing_ok=True)   # promoted: copied to served/; refused: dropped
        log.info("retrain %s: %s", decision, "; ".join(verdict.reasons) or "no regression")
        return outcome


def _rel(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root)
    except ValueError:
        return path


def _write_report(project: Project, now: datetime, markdown: str) -> Path:
    path = project.reports_dir / f"retrain-{_stamp(now)}.md"
    nlu_yaml.write_text_atomic(path, markdown)
    nlu_yaml.write_text_atomic(project.reports_dir / LATEST_MD, markdown)
    return path


@dataclass
class RollbackOutcome:
    now_serving: str
    rolled_back: str


def rollback(project: Project, rasa_urls: Sequence[str] = (),
             now: datetime | None = None) -> RollbackOutcome:
    """Serve the previous model again (files, then `PUT /model` on each server)."""
    now = now or datetime.now(UTC)
    with exclusive(project):
        d = project.served_dir
        current, previous = d / CURRENT, d / PREVIOUS
        if not previous.exists():
            raise NothingToRollBack("no previous model is kept: nothing to roll back to")
        state = read_state(project)
        if current.exists():
            os.replace(current, d / ROLLED_BACK)
        os.replace(previous, current)
        old = (state.get("current") or {}).get("name", "unknown")
        new = (state.get("previous") or {}).get("name", "previous model")
        _write_state(project, {"current": state.get("previous"), "previous": None,
                               "rolled_back": {**(state.get("current") or {}),
                                               "rolled_back_at": now.isoformat()},
                               "history": (state.get("history") or [])[-20:] + [
                                   {"rolled_back": old, "at": now.isoformat()}]})
        _reload(rasa_urls, current)
        note = (f"> **Rolled back** {now.strftime('%Y-%m-%d %H:%M UTC')}: `{old}` was "
                f"replaced by `{new}` again.\n\n")
        latest = project.reports_dir / LATEST_MD
        body = latest.read_text() if latest.exists() else ""
        nlu_yaml.write_text_atomic(latest, note + body)
        nlu_yaml.write_text_atomic(project.reports_dir / f"rollback-{_stamp(now)}.md", note)
        log.info("rolled back %s -> %s", old, new)
        return RollbackOutcome(new, old)
