"""A stand-in for the `rasa` executable in the job tests (the real one is in test_e2e_jobs):
`data validate`, `train` and `test nlu` with the files and exit codes Rasa gives, in
milliseconds. The "model" is a JSON file whose score depends on the labelled examples:
none -> 0.80; careful labels -> 0.95; labels that call booking or cancelling a greeting
(the careless admin) -> 0.50. Environment: FAKE_RASA_INVALID=1 makes validate fail,
FAKE_RASA_TRAIN_SLEEP=<s> makes training take that long (to kill it meanwhile).
`test core` (the conversation suite) fails one story for a model scoring below 0.9, or
always with FAKE_RASA_STORY_FAIL=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

LABELLED = "zz_inbox_labelled.yml"
INTENTS = ("greet", "book", "cancel", "thank")


def arg(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def score_of(data_dirs: list[Path]) -> float:
    labelled = [p for d in data_dirs for p in d.rglob(LABELLED)]
    if not labelled:
        return 0.80
    text = labelled[0].read_text()
    greet = text.split("- intent: greet", 1)[1].split("- intent:", 1)[0] \
        if "- intent: greet" in text else ""
    return 0.50 if ("book" in greet or "cancel" in greet) else 0.95


def main(args: list[str]) -> int:
    if args[:2] == ["data", "validate"]:
        if os.environ.get("FAKE_RASA_INVALID"):
            print("UserWarning: intent 'x' is not in the domain")
            return 1
        print("data validation: no problems")
        return 0
    if args[0] == "train":
        data = [Path(a) for a in args[args.index("--data") + 1:args.index("--domain")]]
        print("Training NLU model...")
        time.sleep(float(os.environ.get("FAKE_RASA_TRAIN_SLEEP", "0")))
        out = Path(arg(args, "--out"))
        out.mkdir(parents=True, exist_ok=True)
        labelled = b"".join(p.read_bytes() for d in data for p in sorted(d.rglob(LABELLED)))
        model = {"score": score_of(data), "data": hashlib.sha256(labelled).hexdigest()}
        (out / f"{arg(args, '--fixed-model-name')}.tar.gz").write_text(json.dumps(model))
        print("Your Rasa model is trained and saved")
        return 0
    if args[:2] == ["test", "nlu"]:
        score = json.loads(Path(arg(args, "--model")).read_text())["score"]
        out = Path(arg(args, "--out"))
        out.mkdir(parents=True, exist_ok=True)
        row = {"precision": score, "recall": score, "f1-score": score, "support": 5}
        report = {i: dict(row) for i in INTENTS}
        report.update({"accuracy": score, "macro avg": {**row, "support": 20},
                       "weighted avg": {**row, "support": 20}})
        (out / "intent_report.json").write_text(json.dumps(report))
        print(f"intent evaluation: macro F1 {score}")
        return 0
    if args[:2] == ["test", "core"]:   # the conversation suite: a weak model fails a story
        score = json.loads(Path(arg(args, "--model")).read_text())["score"]
        out = Path(arg(args, "--out"))
        out.mkdir(parents=True, exist_ok=True)
        failed = out / "failed_test_stories.yml"
        if score < 0.9 or os.environ.get("FAKE_RASA_STORY_FAIL"):
            failed.write_text("version: \"3.1\"\nstories:\n- story: greet (failed)\n  steps: []\n")
        else:
            failed.write_text("# None of the test stories failed - all good!\n")
        return 0
    print(f"fake rasa: unknown command {args}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
