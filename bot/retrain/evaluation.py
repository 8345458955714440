"""Pure: NLU evaluation results (from `rasa test nlu`) and the promotion rule.

The rule: promote the candidate unless, on the same frozen held-out set,
- intent macro-F1 drops by more than `tolerance`,
- entity micro-F1 drops by more than `entity_tolerance`, or
- any intent with at least `min_support` test examples drops by more than `sharp_drop` F1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

AGGREGATES = ("accuracy", "macro avg", "weighted avg", "micro avg")


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    intent_macro_f1: float
    intent_accuracy: float
    per_intent: dict[str, Score]
    entity_f1: float | None                  # micro avg over entities; None: no entity data
    per_entity: dict[str, Score] = field(default_factory=dict)
    confusions: dict[str, int] = field(default_factory=dict)   # "true -> predicted": count
    examples: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evaluation:
        return cls(
            intent_macro_f1=float(data["intent_macro_f1"]),
            intent_accuracy=float(data["intent_accuracy"]),
            per_intent={k: Score(**v) for k, v in data["per_intent"].items()},
            entity_f1=None if data.get("entity_f1") is None else float(data["entity_f1"]),
            per_entity={k: Score(**v) for k, v in data.get("per_entity", {}).items()},
            confusions={k: int(v) for k, v in data.get("confusions", {}).items()},
            examples=int(data.get("examples", 0)))


def pair(true: str, predicted: str) -> str:
    return f"{true} -> {predicted}"


def _scores(report: dict[str, Any]) -> dict[str, Score]:
    out = {}
    for name, v in report.items():
        if name in AGGREGATES or not isinstance(v, dict) or "support" not in v:
            continue
        out[name] = Score(float(v.get("precision", 0.0)), float(v.get("recall", 0.0)),
                          float(v.get("f1-score", 0.0)), int(v.get("support", 0)))
    return out


def parse_results(intent_report: dict[str, Any], entity_report: dict[str, Any] | None,
                  intent_errors: list[dict[str, Any]],
                  expected_entities: dict[str, int] | None = None) -> Evaluation:
    """Build an Evaluation from the JSON files `rasa test nlu` writes.

    Rasa writes no entity report when the model predicted no entity at all; if the test set
    has annotations (`expected_entities`: name -> count), that is an entity F1 of 0.
    """
    macro = intent_report.get("macro avg") or {}
    per_intent = _scores(intent_report)
    confusions: Counter[str] = Counter()
    for err in intent_errors:
        predicted = (err.get("intent_prediction") or {}).get("name") or "None"
        confusions[pair(str(err.get("intent")), str(predicted))] += 1
    entity_f1 = None
    per_entity: dict[str, Score] = {}
    if entity_report:
        per_entity = {k: v for k, v in _scores(entity_report).items() if k != "no_entity"}
        micro = entity_report.get("micro avg") or entity_report.get("weighted avg") or {}
        entity_f1 = float(micro.get("f1-score", 0.0)) if per_entity else None
    elif expected_entities:
        per_entity = {k: Score(0.0, 0.0, 0.0, n) for k, n in sorted(expected_entities.items())}
        entity_f1 = 0.0
    return Evaluation(
        intent_macro_f1=float(macro.get("f1-score", 0.0)),
        intent_accuracy=float(intent_report.get("accuracy", 0.0)),
        per_intent=per_intent, entity_f1=entity_f1, per_entity=per_entity,
        confusions=dict(sorted(confusions.items())),
        examples=sum(s.support for s in per_intent.values()))


@dataclass(frozen=True)
class Rule:
    tolerance: float = 0.01          # allowed drop of intent macro-F1
    entity_tolerance: float = 0.01   # allowed drop of entity micro-F1
    sharp_drop: float = 0.10         # allowed drop of one intent's F1
    min_support: int = 3             # intents with fewer test examples are not gated alone


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reasons: tuple[str, ...]         # why not (empty when promoted)
    notes: tuple[str, ...] = ()      # what was checked


def compare(before: Evaluation | None, after: Evaluation, rule: Rule = Rule()) -> Verdict:
    """Apply the promotion rule; `before` None (no current model) promotes."""
    if before is None:
        return Verdict(True, (), ("no current model to compare with: first promotion",))
    reasons: list[str] = []
    notes: list[str] = []
    d_macro = after.intent_macro_f1 - before.intent_macro_f1
    line = (f"intent macro-F1 {before.intent_macro_f1:.3f} -> {after.intent_macro_f1:.3f} "
            f"({d_macro:+.3f}, tolerance {rule.tolerance:.3f})")
    (reasons if d_macro < -rule.tolerance - 1e-9 else notes).append(line)
    if before.entity_f1 is not None or after.entity_f1 is not None:
        b, a = before.entity_f1 or 0.0, after.entity_f1 or 0.0
        line = (f"entity F1 {b:.3f} -> {a:.3f} ({a - b:+.3f}, tolerance "
                f"{rule.entity_tolerance:.3f})")
        (reasons if a - b < -rule.entity_tolerance - 1e-9 else notes).append(line)
    for intent, old in sorted(before.per_intent.items()):
        if old.support < rule.min_support:
            continue
        new = after.per_intent.get(intent)
        new_f1 = new.f1 if new else 0.0
        if new_f1 - old.f1 < -rule.sharp_drop - 1e-9:
            reasons.append(f"intent {intent} F1 {old.f1:.3f} -> {new_f1:.3f} "
                           f"(drop {old.f1 - new_f1:.3f} > {rule.sharp_drop:.3f})")
    if not any(r.startswith("intent ") and " F1 " in r and "drop" in r for r in reasons):
        notes.append(f"no intent with support >= {rule.min_support} dropped more than "
                     f"{rule.sharp_drop:.3f} F1")
    return Verdict(not reasons, tuple(reasons), tuple(notes))


@dataclass(frozen=True)
class ConfusionChange:
    pair: str
    before: int
    after: int


def confusion_changes(before: Evaluation | None, after: Evaluation) -> list[ConfusionChange]:
    """Confusion pairs (true -> predicted) whose error count changed, largest change first."""
    old = before.confusions if before else {}
    keys = set(old) | set(after.confusions)
    changes = [ConfusionChange(k, old.get(k, 0), after.confusions.get(k, 0)) for k in keys
               if old.get(k, 0) != after.confusions.get(k, 0)]
    return sorted(changes, key=lambda c: (-abs(c.after - c.before), c.pair))


def story_success(total: int, failed: int) -> float:
    """Task success of the conversation suite: the share of test stories predicted fully."""
    return 1.0 if total <= 0 else max(0.0, (total - failed) / total)


def compare_stories(before: float | None, after: float, tolerance: float = 0.0) -> str | None:
    """Why the candidate is refused on the conversation suite (None: it is not worse)."""
    if before is None or after >= before - tolerance - 1e-9:
        return None
    return (f"conversation suite task success {before:.3f} -> {after:.3f} "
            f"(drop {before - after:.3f} > {tolerance:.3f})")
