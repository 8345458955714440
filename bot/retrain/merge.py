"""Merge an edited review file into the training data, refusing what would hurt it.

`check_examples` is pure: known intents and entities, well-formed annotations, nothing
already present, nothing that conflicts with an example under another intent, nothing
from the frozen held-out test set. `merge` applies it to files: accepted examples go to
nlu/reviewed.yml, then `rasa data validate --fail-on-warnings` must stay clean (else the
file is restored).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.retrain import nlu_yaml, rasa_proc
from bot.retrain.nlu_yaml import AnnotationError, parse_example
from bot.retrain.project import Project
from bot.retrain.similarity import canonical

log = logging.getLogger(__name__)

REVIEWED_HEADER = (
    "Examples from real conversations, reviewed by an admin and added by",
    "`python -m bot.retrain merge` (PII masked). Edit like any other NLU file.",
)


@dataclass(frozen=True)
class DomainInfo:
    intents: frozenset[str]
    entities: frozenset[str]
    retrieval_intents: frozenset[str] = frozenset()   # full names, e.g. faq/ask_price

    @classmethod
    def load(cls, domain_file: Path, existing: dict[str, list[str]]) -> DomainInfo:
        data = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
        intents = {_name(i) for i in data.get("intents") or []}
        entities = {_name(e) for e in data.get("entities") or []}
        responses = set((data.get("responses") or {}).keys())
        retrieval = {i for i in existing if "/" in i}
        retrieval |= {r.removeprefix("utter_") for r in responses if "/" in r}
        return cls(frozenset(intents), frozenset(entities), frozenset(retrieval))


def _name(item: Any) -> str:
    return str(next(iter(item))) if isinstance(item, dict) else str(item)


@dataclass(frozen=True)
class Decision:
    intent: str
    example: str
    accepted: bool
    reason: str


def _intent_problem(intent: str, domain: DomainInfo) -> str | None:
    if "/" in intent:
        base = intent.split("/", 1)[0]
        if base not in domain.intents:
            return f"unknown intent {base!r}"
        if intent not in domain.retrieval_intents:
            return f"unknown retrieval intent {intent!r} (no response utter_{intent})"
        return None
    if intent not in domain.intents:
        return f"unknown intent {intent!r} (label it with a domain intent or delete it)"
    if any(r.startswith(intent + "/") for r in domain.retrieval_intents):
        return f"{intent!r} is a retrieval intent: use {intent}/<response>"
    return None


def _key(raw: str) -> str:
    """Canonical plain text of an example (markup removed when it parses)."""
    try:
        return canonical(parse_example(raw).text)
    except AnnotationError:
        return canonical(raw)


def _parse(raw: str, domain: DomainInfo) -> tuple[str | None, str | None]:
    """(canonical text, problem) of one edited example."""
    try:
        ex = parse_example(raw)
    except AnnotationError as exc:
        return None, f"malformed annotation: {exc}"
    unknown = next((e.entity for e in ex.entities if e.entity not in domain.entities), None)
    return canonical(ex.text), (f"unknown entity {unknown!r}" if unknown else None)


def _conflict(intent: str, key: str, known: dict[str, set[str]], test_texts: set[str],
              in_file: dict[str, set[str]], taken: set[str]) -> str | None:
    if not key:
        return "empty example"
    if key in test_texts:
        return "in the frozen held-out test set (never train on it)"
    if intent in known.get(key, set()):
        return "already present in the training data"
    if known.get(key):
        return f"conflicts with an existing example under {sorted(known[key])[0]}"
    if len(in_file[key]) > 1:
        return f"conflicts with the same text under {sorted(in_file[key] - {intent})[0]} " \
               "in this file"
    if key in taken:
        return "duplicate in this file"
    return None


def check_examples(items: Sequence[tuple[str, str]], domain: DomainInfo,
                   existing: dict[str, list[str]], held_out: Iterable[str] = ()
                   ) -> list[Decision]:
    """Decide for each (intent, raw example) of the edited file whether it may be added."""
    known: dict[str, set[str]] = {}
    for intent, examples in existing.items():
        for raw in examples:
            known.setdefault(_key(raw), set()).add(intent)
    test_texts = {_key(raw) for raw in held_out}
    parsed = [(intent, raw, *_parse(raw, domain)) for intent, raw in items]
    # Texts given two different intents inside the file itself: all of them are refused.
    in_file: dict[str, set[str]] = {}
    for intent, _, key, _ in parsed:
        if key is not None:
            in_file.setdefault(key, set()).add(intent)
    decisions = []
    taken: set[str] = set()
    for intent, raw, key, problem in parsed:
        problem = _intent_problem(intent, domain) or problem
        if problem is None and key is not None:
            problem = _conflict(intent, key, known, test_texts, in_file, taken)
            if problem is None:
                taken.add(key)
        decisions.append(Decision(intent, raw, problem is None, problem or "ok"))
    return decisions


@dataclass
class MergeResult:
    decisions: list[Decision]
    written: Path | None = None
    validated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def taken(self) -> list[Decision]:
        return [d for d in self.decisions if d.accepted]

    @property
    def refused(self) -> list[Decision]:
        return [d for d in self.decisions if not d.accepted]

    def to_json(self) -> dict[str, Any]:
        return {"taken": [asdict(d) for d in self.taken],
                "refused": [asdict(d) for d in self.refused],
                "written": str(self.written) if self.written else None,
                "validated": self.validated, "notes": self.notes}

    def text(self) -> str:
        lines = [f"taken: {len(self.taken)}, refused: {len(self.refused)}"]
        lines += [f"  + {d.intent}: {d.example}" for d in self.taken]
        lines += [f"  - {d.intent}: {d.example}  ({d.reason})" for d in self.refused]
        if self.written:
            lines.append(f"written to {self.written}"
                         + (" (rasa data validate: clean)" if self.validated else ""))
        lines += self.notes
        return "\n".join(lines)


class ValidationFailed(RuntimeError):
    """`rasa data validate` was not clean after the merge; the data was restored."""


def read_review(path: Path) -> list[tuple[str, str]]:
    return [(intent, ex) for intent, examples in nlu_yaml.read_blocks(path) for ex in examples]


def render_reviewed(blocks: dict[str, list[str]]) -> str:
    return nlu_yaml.render_file(
        (nlu_yaml.render_block(intent, examples) for intent, examples in blocks.items()),
        REVIEWED_HEADER)


def merge(project: Project, review_file: Path, *, validate: bool = True,
          dry_run: bool = False) -> MergeResult:
    items = read_review(review_file)
    existing = nlu_yaml.read_training_examples(project.data)
    domain = DomainInfo.load(project.domain, existing)
    held_out: list[str] = []
    if project.test_set.exists():
        held_out = [ex for _, exs in nlu_yaml.read_blocks(project.test_set) for ex in exs]
    result = MergeResult(check_examples(items, domain, existing, held_out))
    if dry_run or not result.taken:
        return result
    target = project.reviewed_file
    before = target.read_text(encoding="utf-8") if target.exists() else None
    blocks: dict[str, list[str]] = {}
    if before is not None:
        for intent, examples in nlu_yaml.read_blocks(target):
            blocks.setdefault(intent, []).extend(examples)
    for d in result.taken:
        blocks.setdefault(d.intent, []).append(" ".join(d.example.split()))
    nlu_yaml.write_text_atomic(target, render_reviewed(blocks))
    result.written = target
    if validate:
        try:
            rasa_proc.validate_data(project)
        except rasa_proc.RasaError as exc:
            if before is None:
                target.unlink(missing_ok=True)
            else:
                nlu_yaml.write_text_atomic(target, before)
            result.written = None
            raise ValidationFailed(f"rasa data validate is not clean after the merge; "
                                   f"{target.name} restored.\n{exc}") from exc
        result.validated = True
    log.info("merged %d examples (%d refused)", len(result.taken), len(result.refused))
    return result
