"""Training jobs: the committed assistant plus the admins' labels -> a gated candidate model
in the model store. Nothing is written into the checkout.

A job (started by POST /admin/nlu/retrain) runs in the app process as an asyncio task
around Rasa subprocesses (niced):
1. workspace: a temporary directory with copies of domain.yml, config.yml, nlu/,
   dialogue/ and the labelled inbox groups as nlu/zz_inbox_labelled.yml (rechecked:
   unknown intents/entities, conflicts and held-out texts are left out and logged);
2. `rasa data validate --fail-on-warnings`, 3. `rasa train`;
4. the gate: `rasa test nlu` of the candidate and of the served model on the frozen
   held-out set (the served model's figures are reused when it was evaluated on the same
   set), `evaluation.compare` with the retrain rule, the Markdown report;
5. the candidate and its gate results go to the model store (booking/store_nlu_models.py).
Promotion is a separate, audited admin action that the API refuses for a failed gate.

One job at a time (a lock in the store); the job reports a heartbeat every few seconds
with the tail of Rasa's output, so a job whose process died is marked failed by the next
reader (`TrainingJobs.get`) and the lock is released. The served model is only changed by
a promotion, so a failed or killed job never touches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from booking.store import Store
from bot.retrain.evaluation import (
    Evaluation,
    Rule,
    Verdict,
    compare,
    compare_stories,
    parse_results,
    story_success,
)
from bot.retrain.inbox import Knowledge, render_labelled, training_examples
from bot.retrain.project import Project
from bot.retrain.promote import sha256
from bot.retrain.rasa_proc import (
    TEST_TIMEOUT_S,
    TRAIN_TIMEOUT_S,
    RasaError,
    _entity_report,
    expected_entities,
    rasa_env,
)
from bot.retrain.report import RunInfo, render

log = logging.getLogger(__name__)

LABELLED_FILE = "zz_inbox_labelled.yml"
MAX_LINE = 500


@dataclass(frozen=True)
class JobConfig:
    project: Project                      # the assistant (read only)
    rule: Rule = Rule()
    stale_after: timedelta = timedelta(seconds=120)
    heartbeat_s: float = 5.0
    nice: int = 10
    train_timeout_s: float = TRAIN_TIMEOUT_S
    keep_candidates: int = 5              # unserved models kept besides the served/history
    stories: Path | None = None           # the conversation suite (rasa test core); None: skip
    test_timeout_s: float = TEST_TIMEOUT_S


def utcnow() -> datetime:
    return datetime.now(UTC)


def model_id_for(job_id: str, now: datetime) -> str:
    return f"nlu-{now:%Y%m%dT%H%M%SZ}-{job_id[:8]}"


def build_workspace(project: Project, into: Path, labelled_yaml: str | None) -> Project:
    """Copy the assistant's inputs into `into` (plus the labels); a Project over the copy."""
    for name in ("domain.yml", "config.yml"):
        shutil.copyfile(project.root / name, into / name)
    for data in project.data:
        if data.is_dir():
            shutil.copytree(data, into / data.name)
        elif data.exists():
            shutil.copyfile(data, into / data.name)
    (into / "nlu").mkdir(exist_ok=True)
    if labelled_yaml is not None:
        (into / "nlu" / LABELLED_FILE).write_text(labelled_yaml, encoding="utf-8")
    return Project.at(into, rasa_bin=project.rasa_bin, test_set=project.test_set,
                      reports_dir=into / "reports")


@dataclass
class _Run:
    """One job's running state: output lines not yet flushed, the current subprocess."""

    job_id: str
    pending: list[str] = field(default_factory=list)
    pid: int | None = None
    phase: str = "queued"


class TrainingJobs:
    def __init__(self, store: Store, config: JobConfig,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store, self.config, self.clock = store, config, clock
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._knowledge: Knowledge | None = None

    @property
    def knowledge(self) -> Knowledge:
        if self._knowledge is None:
            p = self.config.project
            self._knowledge = Knowledge.load(p.domain, p.data, p.test_set)
        return self._knowledge

    # ---- API ------------------------------------------------------------------------------
    async def start(self, by: str) -> dict[str, Any] | None:
        """Start a job; None when one is running already."""
        job_id = uuid.uuid4().hex
        job = await self.store.nlu_models.start_job(
            {"_id": job_id, "by": by}, self.clock(), self.config.stale_after)
        if job is None:
            return None
        self.tasks[job_id] = asyncio.create_task(self._run(_Run(job_id)), name=f"nlu-{job_id}")
        self.tasks[job_id].add_done_callback(lambda _: self.tasks.pop(job_id, None))
        return job

    async def get(self, job_id: str) -> dict[str, Any] | None:
        """The job; one that stopped reporting (its process died) is marked failed first."""
        if job_id not in self.tasks:
            await self.store.nlu_models.fail_if_stale(job_id, self.clock(),
                                                      self.config.stale_after)
        return await self.store.nlu_models.get_job(job_id)

    async def wait(self, job_id: str) -> None:
        task = self.tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def close(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ---- the job --------------------------------------------------------------------------
    async def _run(self, run: _Run) -> None:
        ticker = asyncio.create_task(self._tick(run))
        state, fields = "failed", {}
        try:
            fields = await self._train_and_gate(run)
            state = "succeeded"
        except asyncio.CancelledError:
            fields = {"error": "the job was stopped (the app shut down)"}
            raise
        except (RasaError, OSError, ValueError, LookupError) as exc:
            log.warning("nlu training job %s failed: %s", run.job_id, str(exc)[:300])
            fields = {"error": str(exc)[-3000:]}
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            lines, run.pending = run.pending, []
            await asyncio.shield(self._finish(run, state, fields, lines))

    async def _finish(self, run: _Run, state: str, fields: dict[str, Any],
                      lines: list[str]) -> None:
        now = self.clock()
        if lines:
            await self.store.nlu_models.heartbeat(run.job_id, now, None, lines)
        await self.store.nlu_models.finish_job(run.job_id, state, now,
                                               {**fields, "phase": "done", "pid": None})

    async def _tick(self, run: _Run) -> None:
        while True:
            lines, run.pending = run.pending, []
            await self.store.nlu_models.heartbeat(
                run.job_id, self.clock(), {"phase": run.phase, "pid": run.pid,
                                           "state": "running"}, lines)
            await asyncio.sleep(self.config.heartbeat_s)

    def _say(self, run: _Run, line: str) -> None:
        run.pending.append(line[:MAX_LINE])

    async def _rasa(self, run: _Run, ws: Project, args: list[str], timeout: float) -> None:
        cmd = [str(ws.rasa_bin), *args]
        if self.config.nice and shutil.which("nice"):
            cmd = ["nice", "-n", str(self.config.nice), *cmd]
        self._say(run, f"$ rasa {' '.join(args[:2])}")
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=ws.root, env=rasa_env(), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        run.pid = proc.pid
        tail: list[str] = []
        try:
            async with asyncio.timeout(timeout):
                assert proc.stdout is not None
                while line := await proc.stdout.readline():
                    text = line.decode(errors="replace").rstrip()
                    if text:
                        self._say(run, text)
                        tail = (tail + [text])[-30:]
                code = await proc.wait()
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise
        finally:
            run.pid = None
        if code != 0:
            how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
            raise RasaError(f"rasa {' '.join(args[:2])} failed ({how}):\n" + "\n".join(tail))

    async def _evaluate(self, run: _Run, ws: Project, model: Path) -> Evaluation:
        with tempfile.TemporaryDirectory(prefix="nlu-eval-", dir=ws.root) as tmp:
            out = Path(tmp)
            await self._rasa(run, ws, ["test", "nlu", "--nlu", str(ws.test_set), "--model",
                                       str(model), "--out", str(out), "--no-plot"],
                             self.config.test_timeout_s)
            intents = json.loads((out / "intent_report.json").read_text())
            errors_file = out / "intent_errors.json"
            errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
            return parse_results(intents, _entity_report(out), errors,
                                 expected_entities(ws.test_set))

    async def _stories(self, run: _Run, ws: Project, model: Path) -> float:
        """Task success of `model` on the conversation suite (`rasa test core`)."""
        stories = self.config.stories
        assert stories is not None
        with tempfile.TemporaryDirectory(prefix="nlu-core-", dir=ws.root) as tmp:
            out = Path(tmp)
            await self._rasa(run, ws, ["test", "core", "--stories", str(stories), "--model",
                                       str(model), "--out", str(out), "--no-plot"],
                             self.config.test_timeout_s)
            failed_file = out / "failed_test_stories.yml"
            failed = 0
            if failed_file.exists():
                data = yaml.safe_load(failed_file.read_text(encoding="utf-8")) or {}
                failed = len(data.get("stories") or []) if isinstance(data, dict) else 0
        data = yaml.safe_load(stories.read_text(encoding="utf-8")) or {}
        total = len(data.get("stories") or []) if isinstance(data, dict) else 0
        self._say(run, f"== conversation suite: {total - failed}/{total} stories succeed")
        return story_success(total, failed)

    async def _served_file(self, ws: Project, serving: dict[str, Any]) -> Path:
        path = ws.root / "served.tar.gz"
        if not path.exists():
            model_id = str(serving["model_id"])
            with path.open("wb") as f:
                for n in range(int(serving.get("chunks") or 0)):
                    f.write(await self.store.nlu_models.model_chunk(model_id, n))
        return path

    async def _baseline_stories(self, run: _Run, ws: Project, stories_sha: str
                                ) -> float | None:
        serving = await self.store.nlu_models.serving()
        if not serving:
            return None
        meta = await self.store.nlu_models.get_model(str(serving["model_id"]))
        known = ((meta or {}).get("gate") or {}).get("stories") or {}
        if known.get("sha256") == stories_sha and known.get("after") is not None:
            return float(known["after"])
        self._say(run, "== conversation suite of the served model")
        return await self._stories(run, ws, await self._served_file(ws, serving))

    async def _baseline(self, run: _Run, ws: Project, test_sha: str
                        ) -> tuple[str | None, Evaluation | None]:
        """The served model and its figures on this test set (evaluated if not known)."""
        serving = await self.store.nlu_models.serving()
        if not serving:
            return None, None
        model_id = str(serving["model_id"])
        meta = await self.store.nlu_models.get_model(model_id)
        known = ((meta or {}).get("gate") or {})
        if known.get("test_set_sha256") == test_sha and known.get("after"):
            return model_id, Evaluation.from_json(known["after"])
        path = await self._served_file(ws, serving)
        self._say(run, f"== evaluating the served model {model_id}")
        return model_id, await self._evaluate(run, ws, path)

    async def _train_and_gate(self, run: _Run) -> dict[str, Any]:
        started = self.clock()
        project = self.config.project
        if not project.test_set.exists():
            raise FileNotFoundError(f"held-out test set not found: {project.test_set}")
        labels_at = self.clock()   # labels made after this are not in the candidate
        groups = await self.store.nlu_inbox.labelled()
        examples, notes = training_examples(groups, self.knowledge)
        added = sum(len(v) for v in examples.values())
        run.phase = "preparing"
        self._say(run, f"== {added} labelled examples from {len(groups)} groups")
        for note in notes:
            self._say(run, note)
        with tempfile.TemporaryDirectory(prefix="nlu-job-") as tmp:
            ws = await asyncio.to_thread(build_workspace, project, Path(tmp),
                                         render_labelled(examples) if examples else None)
            run.phase = "validating"
            await self._rasa(run, ws, ["data", "validate", "--fail-on-warnings", "--domain",
                                       str(ws.domain), "--config", str(ws.config), "--data",
                                       *[str(d) for d in ws.data]], self.config.test_timeout_s)
            run.phase = "training"
            mid = model_id_for(run.job_id, started)
            out = ws.root / "models"
            t0 = time.monotonic()
            await self._rasa(run, ws, ["train", "--data", *[str(d) for d in ws.data],
                                       "--domain", str(ws.domain), "--config", str(ws.config),
                                       "--out", str(out), "--fixed-model-name", mid],
                             self.config.train_timeout_s)
            train_s = time.monotonic() - t0
            candidate = out / f"{mid}.tar.gz"
            if not candidate.exists():
                raise RasaError(f"rasa train did not write {candidate.name}")
            run.phase = "evaluating"
            test_sha = sha256(ws.test_set)
            self._say(run, "== evaluating the candidate on the held-out set")
            after = await self._evaluate(run, ws, candidate)
            current_id, before = await self._baseline(run, ws, test_sha)
            verdict = compare(before, after, self.config.rule)
            stories_gate: dict[str, Any] | None = None
            note = ""
            if self.config.stories is not None and self.config.stories.exists():
                stories_sha = sha256(self.config.stories)
                s_after = await self._stories(run, ws, candidate)
                s_before = await self._baseline_stories(run, ws, stories_sha)
                why = compare_stories(s_before, s_after)
                stories_gate = {"before": s_before, "after": s_after, "sha256": stories_sha,
                                "file": self.config.stories.name}
                shown = "–" if s_before is None else f"{s_before:.3f}"
                note = f"conversation suite task success {shown} -> {s_after:.3f}"
                verdict = Verdict(verdict.promote and why is None,
                                  (*verdict.reasons, why) if why else verdict.reasons,
                                  verdict.notes if why else (*verdict.notes, note))
            info = RunInfo(started.strftime("%Y-%m-%d %H:%M UTC"), mid, current_id,
                           str(project.test_set.name), test_sha,
                           "evaluated", train_s, (f"{added} labelled examples added",
                                                  *([note] if stories_gate else [])))
            gate = {"passed": verdict.promote, "reasons": list(verdict.reasons),
                    "notes": list(verdict.notes), "before": before.to_json() if before else None,
                    "after": after.to_json(), "baseline": current_id,
                    "test_set_sha256": test_sha, "stories": stories_gate,
                    "report": render(info, before, after, verdict, self.config.rule)}
            run.phase = "storing"
            model = await self.store.nlu_models.put_model(
                mid, candidate, {"created_at": self.clock(), "job_id": run.job_id,
                                 "labels_at": labels_at,
                                 "examples_added": added, "gate": gate,
                                 "train_seconds": round(train_s, 1)})
            pruned = await self.store.nlu_models.prune_models(self.config.keep_candidates)
            if pruned:
                self._say(run, "== pruned older unserved models: " + ", ".join(pruned))
            self._say(run, f"== stored {mid} ({model['size']} bytes); gate "
                           + ("passed" if verdict.promote else "FAILED: "
                              + "; ".join(verdict.reasons)))
            return {"model_id": mid, "gate": {k: v for k, v in gate.items() if k != "report"},
                    "examples": added, "left_out": notes[:50]}
