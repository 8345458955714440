"""End to end with real Rasa (train, test nlu, data validate, run) on a tiny assistant:
logged messages -> review file -> scripted labelling -> merge -> retrain -> promoted;
a careless labelling -> refused; rollback restores the old answers on the running server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.retrain import cli, nlu_yaml, rasa_proc
from bot.retrain.project import Project
from tests.rasa.server import RasaServer, start_rasa
from tests.retrain.tiny import (
    BAD_BATCH,
    GOOD_BATCH,
    annotate_cities,
    label_badly,
    label_well,
    write_project,
)

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(1200)]

PROBES = {"cancel my appointment": "cancel", "thanks a lot": "thank",
          "i want to book a doctor": "book"}
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def answers(server: RasaServer) -> dict[str, str]:
    return {text: server.parse(text)["intent"]["name"] for text in PROBES}


def log_messages(server: RasaServer, texts: list[str], first_sender: int) -> list[dict[str, Any]]:
    """chat_logs documents as the gateway writes them, scored by the running model."""
    docs = []
    for i, text in enumerate(texts):
        parsed = server.parse(text)
        intent = parsed["intent"]["name"]
        docs.append({
            "_id": f"log-{first_sender + i}", "wa_id": f"6281200{first_sender + i:06d}",
            "direction": "in", "text": text, "type": "text", "intent": intent,
            "confidence": parsed["intent"]["confidence"], "entities": parsed["entities"],
            "message_id": f"wamid.{first_sender + i}",
            "at": (T0 + timedelta(minutes=30 * i)).isoformat(), "latency_ms": None,
            "fallback": intent == "nlu_fallback", "handoff": False, "language": "en"})
        docs.append({**docs[-1], "_id": f"out-{first_sender + i}", "direction": "out",
                     "text": "Baik kak", "intent": None, "confidence": None, "entities": []})
    return docs


def label(review_file: Path, labeller: Callable[[str], str], out: Path) -> int:
    """The scripted admin edits the review file: an intent per block, city annotations."""
    data = yaml.safe_load(review_file.read_text())
    blocks = []
    for block in data["nlu"]:
        for raw in nlu_yaml.examples_of(block):
            text = nlu_yaml.parse_example(raw).text
            blocks.append(nlu_yaml.render_block(labeller(text), [annotate_cities(text)]))
    out.write_text(nlu_yaml.render_file(blocks))
    return len(blocks)


def run_cli(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, Any]:
    code = cli.main(["--project", str(project), "--test-set", "tests/nlu_test_set.yml",
                     *args, "--json"])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]) if out else None


def test_review_merge_retrain_promote_refuse_rollback(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    root = write_project(tmp_path / "assistant")
    project = Project.at(root, test_set="tests/nlu_test_set.yml")
    base = rasa_proc.train(project, "base", root / "models")
    server = start_rasa(base)
    monkeypatch.setenv("RASA_TOKEN", server.auth_token)  # the CLI reaches Rasa's HTTP API
    try:
        before = answers(server)
        assert sum(before[t] != want for t, want in PROBES.items()) >= 2, before

        # 1. export -> review file (PII masked, near-duplicates grouped)
        logs = root / "logs.jsonl"
        logs.write_text("\n".join(json.dumps(d) for d in log_messages(server, GOOD_BATCH, 0)))
        review = tmp_path / "review.yml"
        code, summary = run_cli(capsys, root, "review", "--from-jsonl", str(logs),
                                "--threshold", "0.99", "--out", str(review))
        assert code == 0 and summary["messages"] == len(GOOD_BATCH)
        assert summary["groups"] == len(GOOD_BATCH) - 1        # "cancel my booking pls"
        text = review.read_text()
        assert "Budi" not in text and "081234567890" not in text
        assert "my name is <NAME>, book a doctor for me" in text
        assert "<PHONE>" in text and "# variant: cancel my booking pls" in text
        assert "# predicted " in text and "confidence" in text

        # 2. scripted labelling + merge (real `rasa data validate`)
        edited = tmp_path / "edited.yml"
        label(review, label_well, edited)
        code, merged = run_cli(capsys, root, "merge", str(edited))
        assert code == 0 and merged["validated"] is True
        refused = {d["example"]: d["reason"] for d in merged["refused"]}
        assert refused == {"halo": "already present in the training data",
                           "terima kasih": "already present in the training data"}
        assert len(merged["taken"]) == len(GOOD_BATCH) - 3
        assert "[medan](city)" in (root / "nlu" / "reviewed.yml").read_text()

        # 3. retrain: better -> promoted, and the running server answers with it
        # no model promoted yet: the one to beat is what the server runs (GET /status)
        code, outcome = run_cli(capsys, root, "retrain", "--rasa-url", server.url)
        assert code == 0, outcome
        assert outcome["decision"] == "promoted" and outcome["current"] == "base.tar.gz"
        assert outcome["after"]["intent_macro_f1"] > outcome["before"]["intent_macro_f1"]
        assert answers(server) == PROBES
        served = root / "models" / "served"
        promoted_sha = sha(served / "current.tar.gz")
        assert sha(served / "previous.tar.gz") == sha(base)
        report = (root / "reports" / "nlu" / "latest.md").read_text()
        assert "promoted" in report.splitlines()[0]
        assert "| cancel |" in report and "cancel -> greet" in report

        # 4. a careless labelling makes it worse -> refused, nothing changes
        logs.write_text("\n".join(json.dumps(d) for d in log_messages(server, BAD_BATCH, 100)))
        code, summary = run_cli(capsys, root, "review", "--from-jsonl", str(logs),
                                "--threshold", "1.01", "--out", str(review))
        assert code == 0 and summary["messages"] == len(BAD_BATCH)
        label(review, label_badly, edited)
        code, merged = run_cli(capsys, root, "merge", str(edited))
        assert code == 0 and len(merged["taken"]) >= 12
        code, outcome = run_cli(capsys, root, "retrain", "--rasa-url", server.url,
                                "--cross-validation", "2")
        assert code == cli.REFUSED, outcome
        assert outcome["decision"] == "refused" and outcome["reasons"]
        assert any("macro-F1" in r or "drop" in r for r in outcome["reasons"])
        assert sha(served / "current.tar.gz") == promoted_sha
        assert answers(server) == PROBES
        report = (root / "reports" / "nlu" / "latest.md").read_text()
        assert "REFUSED" in report.splitlines()[0]
        assert "## Cross-validation" in report and "cv intent macro-F1" in report

        # 5. rollback restores the old answers
        code, rolled = run_cli(capsys, root, "rollback", "--rasa-url", server.url)
        assert code == 0 and rolled["now_serving"] == "base.tar.gz"
        assert answers(server) == before
        assert sha(served / "current.tar.gz") == sha(base)
        assert "Rolled back" in (root / "reports" / "nlu" / "latest.md").read_text()
    finally:
        server.stop()
