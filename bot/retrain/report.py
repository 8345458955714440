"""Pure: the Markdown report of a retraining run (shown at GET /admin/nlu/report)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.retrain.evaluation import Evaluation, Rule, Verdict, confusion_changes


@dataclass(frozen=True)
class RunInfo:
    started_at: str
    candidate: str
    current: str | None
    test_set: str
    test_set_sha256: str
    decision: str                      # promoted | refused | evaluated (dry run)
    train_seconds: float | None = None
    extra: tuple[str, ...] = field(default_factory=tuple)


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _delta(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return "–"
    d = after - before
    return f"**{d:+.3f}**" if abs(d) >= 0.0005 else "0.000"


def render(info: RunInfo, before: Evaluation | None, after: Evaluation, verdict: Verdict,
           rule: Rule, cross_validation: dict[str, float] | None = None) -> str:
    title = {"promoted": "promoted", "refused": "REFUSED", "evaluated": "evaluated only"}
    lines = [f"# NLU retraining {info.started_at}: {title.get(info.decision, info.decision)}",
             "",
             f"- candidate: `{info.candidate}`"
             + (f" (trained in {info.train_seconds:.0f} s)" if info.train_seconds else ""),
             f"- current model: `{info.current}`" if info.current else "- current model: none",
             f"- held-out test set: `{info.test_set}` (sha256 {info.test_set_sha256[:12]}, "
             f"{after.examples} messages)",
             f"- rule: intent macro-F1 may drop by at most {rule.tolerance:.3f}, entity F1 by "
             f"at most {rule.entity_tolerance:.3f}; no intent with >= {rule.min_support} "
             f"test messages may drop by more than {rule.sharp_drop:.3f} F1",
             *[f"- {x}" for x in info.extra], ""]
    if verdict.reasons:
        lines += ["## Why it was refused", "", *[f"- {r}" for r in verdict.reasons], ""]
    lines += ["## Summary", "", "| metric | current | candidate | change |", "|---|---|---|---|",
              f"| intent macro-F1 | {_f(before.intent_macro_f1 if before else None)} | "
              f"{_f(after.intent_macro_f1)} | "
              f"{_delta(before.intent_macro_f1 if before else None, after.intent_macro_f1)} |",
              f"| intent accuracy | {_f(before.intent_accuracy if before else None)} | "
              f"{_f(after.intent_accuracy)} | "
              f"{_delta(before.intent_accuracy if before else None, after.intent_accuracy)} |",
              f"| entity F1 (micro) | {_f(before.entity_f1 if before else None)} | "
              f"{_f(after.entity_f1)} | "
              f"{_delta(before.entity_f1 if before else None, after.entity_f1)} |", ""]
    if verdict.notes:
        lines += ["Checks passed:", "", *[f"- {n}" for n in verdict.notes], ""]
    lines += ["## Per intent", "",
              "| intent | support | P before | R before | F1 before | P after | R after | "
              "F1 after | ΔF1 |", "|---|---|---|---|---|---|---|---|---|"]
    names = sorted(set(after.per_intent) | set(before.per_intent if before else {}))
    for name in names:
        b = before.per_intent.get(name) if before else None
        a = after.per_intent.get(name)
        either = a or b
        support = either.support if either is not None else 0
        lines.append(
            f"| {name} | {support} | {_f(b.precision if b else None)} | "
            f"{_f(b.recall if b else None)} | {_f(b.f1 if b else None)} | "
            f"{_f(a.precision if a else None)} | {_f(a.recall if a else None)} | "
            f"{_f(a.f1 if a else None)} | {_delta(b.f1 if b else None, a.f1 if a else None)} |")
    entities = sorted(set(after.per_entity) | set(before.per_entity if before else {}))
    if entities:
        lines += ["", "## Per entity", "", "| entity | F1 before | F1 after | ΔF1 |",
                  "|---|---|---|---|"]
        for name in entities:
            b = before.per_entity.get(name) if before else None
            a = after.per_entity.get(name)
            lines.append(f"| {name} | {_f(b.f1 if b else None)} | {_f(a.f1 if a else None)} | "
                         f"{_delta(b.f1 if b else None, a.f1 if a else None)} |")
    changes = confusion_changes(before, after)
    lines += ["", "## Confusion pairs that changed", ""]
    if changes:
        lines += ["| true -> predicted | errors before | errors after |", "|---|---|---|"]
        lines += [f"| {c.pair} | {c.before} | {c.after} |" for c in changes]
    else:
        lines.append("None.")
    if cross_validation:
        lines += ["", "## Cross-validation of the candidate's training data", "",
                  *[f"- {k}: {v:.3f}" for k, v in sorted(cross_validation.items())]]
    return "\n".join(lines) + "\n"
