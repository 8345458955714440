#!/usr/bin/env python
"""Train, reuse, test and benchmark the Rasa model (run with the app venv).

    .venv/bin/python scripts/rasa_model.py ensure     # train only if the assistant changed
    .venv/bin/python scripts/rasa_model.py train      # always train
    .venv/bin/python scripts/rasa_model.py path       # print the up-to-date model (exit 1: none)
    .venv/bin/python scripts/rasa_model.py test-nlu   # held-out NLU test; fails below thresholds
    .venv/bin/python scripts/rasa_model.py bench      # load time + /model/parse latency

The model is named by a content hash of domain.yml, config.yml, nlu/ and dialogue/
(models/<hash>.tar.gz), so `ensure` reuses it until one of them changes. Rasa runs in
its own environment (.venv-rasa) through subprocess. Figures go to docs/nlu.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bot.retrain.rasa_proc import rasa_env  # one definition of Rasa's quiet, seeded env

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODELS = ROOT / "models"
DOC = ROOT / "docs" / "nlu.md"
TEST_SET = ROOT / "tests" / "rasa" / "nlu_test_set.yml"
INPUTS = ("domain.yml", "config.yml", "nlu", "dialogue")
INTENT_F1_MIN = 0.90
ENTITY_F1_MIN = 0.95
GATED_ENTITIES = ("specialty", "city", "doctor_name")
BENCH_MESSAGES = (
    "mau booking dokter gigi di bandung besok", "halo kak", "jadwal dr. Sari besok ada?",
    "batalin booking saya", "klinik buka jam berapa", "I want to see a pediatrician in Bali",
    "yang jam 10 aja", "ganti jadwal ke jumat", "makasih ya", "bisa pakai bpjs?",
)


def input_files() -> list[Path]:
    files: list[Path] = []
    for name in INPUTS:
        path = ROOT / name
        files += sorted(p for p in path.rglob("*.yml")) if path.is_dir() else [path]
    return files


def content_hash() -> str:
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"{content_hash()}.tar.gz"


def train(*, force: bool = False) -> Path:
    target = model_path()
    if target.exists() and not force:
        return target
    MODELS.mkdir(exist_ok=True)
    started = time.monotonic()
    cmd = [str(RASA), "train", "--data", "nlu", "dialogue", "--domain", "domain.yml",
           "--config", "config.yml", "--out", str(MODELS), "--fixed-model-name",
           target.name.removesuffix(".tar.gz")]
    log = MODELS / f"{target.name}.train.log"
    # A private, empty training cache: a clean, comparable train every time, and no
    # .rasa/ directory left in the project.
    with tempfile.TemporaryDirectory(prefix="rasa-cache-") as cache, log.open("w") as out:
        env = {**rasa_env(), "RASA_CACHE_DIRECTORY": cache}
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out,  # noqa: S603
                              stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0 or not target.exists():
        sys.stderr.write(log.read_text()[-4000:])
        raise SystemExit(f"rasa train failed (exit {proc.returncode}); log: {log}")
    seconds = time.monotonic() - started
    (MODELS / f"{target.name}.json").write_text(json.dumps({"train_seconds": round(seconds, 1)}))
    return target


# ---- NLU quality ---------------------------------------------------------------------
def _f1(report: dict[str, object], label: str) -> float:
    entry = report.get(label)
    return float(entry.get("f1-score", 0.0)) if isinstance(entry, dict) else 0.0


def evaluate(model: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="rasa-test-nlu-") as out:
        cmd = [str(RASA), "test", "nlu", "--nlu", str(TEST_SET), "--model", str(model),
               "--out", out, "--no-plot"]
        proc = subprocess.run(cmd, cwd=ROOT, env=rasa_env(), capture_output=True,  # noqa: S603
                              text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit(f"rasa test nlu failed (exit {proc.returncode})")
        intents = json.loads((Path(out) / "intent_report.json").read_text())
        entities = json.loads((Path(out) / "DIETClassifier_report.json").read_text())
        responses_file = Path(out) / "response_selection_report.json"
        responses = json.loads(responses_file.read_text()) if responses_file.exists() else {}
        errors_file = Path(out) / "intent_errors.json"
        errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
        entity_errors_file = Path(out) / "DIETClassifier_errors.json"
        entity_errors = json.loads(entity_errors_file.read_text()) \
            if entity_errors_file.exists() else []
    per_intent = {k: v for k, v in intents.items() if isinstance(v, dict) and "support" in v
                  and k not in ("macro avg", "weighted avg", "micro avg")}
    return {
        "intent_macro_f1": _f1(intents, "macro avg"),
        "intent_accuracy": float(intents.get("accuracy", 0.0)),
        "per_intent": per_intent,
        "entity_f1": {e: _f1(entities, e) for e in entities
                      if e not in ("macro avg", "weighted avg", "micro avg", "accuracy")},
        "faq_f1": {k: v for k, v in responses.items() if isinstance(v, dict) and "support" in v},
        "errors": errors,
        "entity_errors": entity_errors,
    }


def _replace_section(name: str, body: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = DOC.read_text() if DOC.exists() else "# NLU and dialogue\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text,
                      flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)


def _entities(found: list[dict[str, object]]) -> str:
    return ", ".join(f"{e['entity']}={e.get('value')!r}" for e in found) or "none"


def write_nlu_report(model: Path, result: dict[str, object]) -> None:
    per_intent = result["per_intent"]
    assert isinstance(per_intent, dict)
    lines = [f"Model `{model.name}`, test set `{TEST_SET.relative_to(ROOT)}` "
             f"({sum(int(v['support']) for v in per_intent.values())} messages). "
             f"Command: `.venv/bin/python scripts/rasa_model.py test-nlu`.", "",
             f"- intent macro-F1: **{result['intent_macro_f1']:.3f}** (gate {INTENT_F1_MIN}), "
             f"accuracy {result['intent_accuracy']:.3f}"]
    entity_f1 = result["entity_f1"]
    assert isinstance(entity_f1, dict)
    for name, f1 in sorted(entity_f1.items()):
        gate = f" (gate {ENTITY_F1_MIN})" if name in GATED_ENTITIES else ""
        lines.append(f"- entity `{name}` F1: **{f1:.3f}**{gate}")
    lines += ["", "| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, v in sorted(per_intent.items()):
        lines.append(f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | "
                     f"{v['f1-score']:.3f} | {v['support']} |")
    faq = result["faq_f1"]
    assert isinstance(faq, dict)
    if faq:
        lines += ["", "| faq response (ResponseSelector) | F1 | support |", "|---|---|---|"]
        for name, v in sorted(faq.items()):
            lines.append(f"| {name} | {v['f1-score']:.3f} | {v['support']} |")
    errors = result["errors"]
    assert isinstance(errors, list)
    if errors:
        lines += ["", "Misclassified test messages:", ""]
        lines += [f"- \"{e['text']}\": expected {e['intent']}, got "
                  f"{e['intent_prediction']['name']}" for e in errors[:30]]
    entity_errors = result["entity_errors"]
    assert isinstance(entity_errors, list)
    if entity_errors:
        lines += ["", "Test messages with entity errors:", ""]
        lines += [f"- \"{e['text']}\": expected {_entities(e['entities'])}, got "
                  f"{_entities(e['predicted_entities'])}" for e in entity_errors[:40]]
    _replace_section("nlu-results", "\n".join(lines))


def test_nlu() -> int:
    model = train()
    result = evaluate(model)
    write_nlu_report(model, result)
    entity_f1 = result["entity_f1"]
    assert isinstance(entity_f1, dict)
    failures = []
    if float(result["intent_macro_f1"]) < INTENT_F1_MIN:  # type: ignore[arg-type]
        failures.append(f"intent macro-F1 {result['intent_macro_f1']:.3f} < {INTENT_F1_MIN}")
    for name in GATED_ENTITIES:
        if entity_f1.get(name, 0.0) < ENTITY_F1_MIN:
            failures.append(f"entity {name} F1 {entity_f1.get(name, 0.0):.3f} < {ENTITY_F1_MIN}")
    print(json.dumps({k: result[k] for k in ("intent_macro_f1", "intent_accuracy",
                                             "entity_f1")}, indent=2))
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


# ---- benchmark -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = 2.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return int(resp.status)


def _post(url: str, payload: dict[str, object], timeout: float = 10.0) -> dict[str, object]:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
        data: dict[str, object] = json.loads(resp.read())
        return data


def bench(rounds: int = 20) -> int:
    model = train()
    port = free_port()
    started = time.monotonic()
    proc = subprocess.Popen(  # noqa: S603
        [str(RASA), "run", "--enable-api", "-m", str(model), "--port", str(port),
         "--interface", "127.0.0.1"], cwd=ROOT, env=rasa_env(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                if _get(base + "/status") == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() - started > 300:
                raise SystemExit("rasa run did not come up")
            time.sleep(0.5)
        load_s = time.monotonic() - started
        _post(base + "/model/parse", {"text": "halo"})  # warm-up
        samples = []
        for _ in range(rounds):
            for text in BENCH_MESSAGES:
                t0 = time.perf_counter()
                _post(base + "/model/parse", {"text": text})
                samples.append((time.perf_counter() - t0) * 1000)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    meta_file = MODELS / f"{model.name}.json"
    train_s = json.loads(meta_file.read_text()).get("train_seconds") if meta_file.exists() else None
    body = "\n".join([
        f"Measured on this machine ({os.cpu_count()} CPUs), model `{model.name}`. "
        "Commands: `.venv/bin/python scripts/rasa_model.py train` (train time), "
        "`.venv/bin/python scripts/rasa_model.py bench` (the rest).", "",
        "| figure | value |", "|---|---|",
        f"| train time (`rasa train`, NLU + core) | {train_s} s |",
        f"| model load (`rasa run` start to `/status` 200) | {load_s:.1f} s |",
        f"| NLU parse latency p50 (`POST /model/parse`, sequential, {len(samples)} calls) "
        f"| {p50:.1f} ms |",
        f"| NLU parse latency p95 | {p95:.1f} ms |",
    ])
    _replace_section("benchmarks", body)
    print(body)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["ensure", "train", "path", "test-nlu", "bench",
                                            "hash"])
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.command == "hash":
        print(content_hash())
    elif args.command == "path":
        path = model_path()
        if not path.exists():
            print(f"no model for the current data ({path.name}); run ensure", file=sys.stderr)
            return 1
        print(path)
    elif args.command in ("ensure", "train"):
        print(train(force=args.command == "train"))
    elif args.command == "test-nlu":
        return test_nlu()
    elif args.command == "bench":
        return bench()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
