"""I/O: the Rasa CLI (in its own Python 3.10 venv, by subprocess) and the Rasa server's
HTTP model endpoint."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bot.retrain.evaluation import Evaluation, parse_results
from bot.retrain.nlu_yaml import AnnotationError, parse_example, read_blocks
from bot.retrain.project import Project

log = logging.getLogger(__name__)

TRAIN_TIMEOUT_S = 3600
TEST_TIMEOUT_S = 1800
RELOAD_TIMEOUT_S = 300     # loading a full model takes about a minute on 2 CPUs


class RasaError(RuntimeError):
    """A Rasa command failed; the message carries the tail of its output."""


class ReloadFailed(RasaError):
    """The running Rasa server did not load the model."""


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "PYTHONHASHSEED": "0", "RASA_TELEMETRY_ENABLED": "false",
                "PYTHONWARNINGS": "ignore"})
    return env


def run_rasa(project: Project, args: list[str], *, timeout: float,
             log_file: Path | None = None) -> str:
    cmd = [str(project.rasa_bin), *args]
    log.info("running rasa %s", args[0] if args else "")
    try:
        proc = subprocess.run(cmd, cwd=project.root, env=rasa_env(), capture_output=True,  # noqa: S603
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RasaError(f"rasa {' '.join(args[:2])} timed out after {timeout:.0f} s") from exc
    output = proc.stdout + proc.stderr
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text(output)
    if proc.returncode != 0:
        raise RasaError(f"rasa {' '.join(args[:2])} failed (exit {proc.returncode}):\n"
                        f"{output[-3000:]}")
    return output


def validate_data(project: Project) -> None:
    """`rasa data validate --fail-on-warnings`; RasaError when it is not clean."""
    run_rasa(project, ["data", "validate", "--fail-on-warnings", "--domain",
                       str(project.domain), "--config", str(project.config), "--data",
                       *[str(d) for d in project.data]], timeout=TEST_TIMEOUT_S)


def train(project: Project, name: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    run_rasa(project, ["train", "--data", *[str(d) for d in project.data], "--domain",
                       str(project.domain), "--config", str(project.config), "--out",
                       str(out_dir), "--fixed-model-name", name],
             timeout=TRAIN_TIMEOUT_S, log_file=out_dir / f"{name}.train.log")
    model = out_dir / f"{name}.tar.gz"
    if not model.exists():
        raise RasaError(f"rasa train did not write {model}")
    return model


def _entity_report(out: Path) -> dict[str, Any] | None:
    """The entity report of the extractor that is evaluated (DIET first, else any)."""
    reports = sorted(p for p in out.glob("*_report.json")
                     if p.name not in ("intent_report.json", "response_selection_report.json"))
    preferred = [p for p in reports if p.name == "DIETClassifier_report.json"]
    candidates = preferred or reports
    if not candidates:
        return None
    chosen = candidates[0]
    data: dict[str, Any] = json.loads(chosen.read_text())
    return data


def expected_entities(test_set: Path) -> dict[str, int]:
    """Entity annotations of the test set: name -> count."""
    counts: dict[str, int] = {}
    for _, examples in read_blocks(test_set):
        for raw in examples:
            try:
                for e in parse_example(raw).entities:
                    counts[e.entity] = counts.get(e.entity, 0) + 1
            except AnnotationError:
                continue
    return counts


def evaluate_model(project: Project, model: Path, test_set: Path) -> Evaluation:
    """`rasa test nlu` of one model on the held-out set."""
    with tempfile.TemporaryDirectory(prefix="rasa-test-nlu-") as tmp:
        out = Path(tmp)
        run_rasa(project, ["test", "nlu", "--nlu", str(test_set), "--model", str(model),
                           "--out", str(out), "--no-plot"], timeout=TEST_TIMEOUT_S)
        intents = json.loads((out / "intent_report.json").read_text())
        errors_file = out / "intent_errors.json"
        errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
        return parse_results(intents, _entity_report(out), errors, expected_entities(test_set))


def cross_validate(project: Project, folds: int) -> dict[str, float]:
    """`rasa test nlu --cross-validation`: test-fold intent macro-F1 / accuracy (costs about
    `folds` trainings; for nightly runs, not every save)."""
    with tempfile.TemporaryDirectory(prefix="rasa-cv-") as tmp:
        run_rasa(project, ["test", "nlu", "--nlu", str(project.nlu_dir), "--config",
                           str(project.config), "--cross-validation", "--folds",
                           str(folds), "--out", tmp, "--no-plot"], timeout=TRAIN_TIMEOUT_S * 2)
        report = json.loads((Path(tmp) / "intent_report.json").read_text())
    macro = report.get("macro avg") or {}
    return {"cv intent macro-F1": float(macro.get("f1-score", 0.0)),
            "cv intent accuracy": float(report.get("accuracy", 0.0)), "folds": float(folds)}


# ---- the running server --------------------------------------------------------------------
def _with_token(url: str) -> str:
    """Rasa's HTTP API runs with --auth-token: pass RASA_TOKEN from the environment."""
    token = os.environ.get("KLINIK_RASA_TOKEN") or os.environ.get("RASA_TOKEN")
    if not token:
        return url
    return url + ("&" if "?" in url else "?") + urllib.parse.urlencode({"token": token})


def _request(method: str, url: str, payload: Any = None, timeout: float = 10.0) -> Any:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http URL: {url}")
    url = _with_token(url)
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - checked above
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - checked above
        body = resp.read()
    return json.loads(body) if body else None


def server_model(url: str) -> str | None:
    """The model file the Rasa server at `url` has loaded (GET /status), None if unknown."""
    try:
        status = _request("GET", url.rstrip("/") + "/status", timeout=5)
    except (OSError, ValueError, urllib.error.URLError):
        return None
    model = status.get("model_file") if isinstance(status, dict) else None
    return model if isinstance(model, str) and model else None


def load_model(url: str, model: Path, timeout: float = RELOAD_TIMEOUT_S) -> None:
    """`PUT /model {"model_file": path}`: the server swaps to the model when it answers."""
    started = time.monotonic()
    try:
        _request("PUT", url.rstrip("/") + "/model", {"model_file": str(model.resolve())},
                 timeout=timeout)
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode(errors="replace")
        raise ReloadFailed(f"{url} refused the model (HTTP {exc.code}): {detail}") from exc
    except (OSError, urllib.error.URLError) as exc:
        raise ReloadFailed(f"{url} did not load the model: {exc}") from exc
    log.info("rasa server loaded the model in %.1f s", time.monotonic() - started)
