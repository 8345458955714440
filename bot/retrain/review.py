"""Build the review file from chat logs: which patient messages the NLU should learn from.

Pure: `select_candidates` (fallback, low confidence, rephrased, ended in handoff),
`build_review` (mask PII, de-duplicate, group near-duplicates, render Rasa NLU YAML
grouped by predicted intent, with prediction and confidence as comments).
The I/O around it (reading chat_logs) is in `load_inbound_jsonl` and bot/retrain/routes.py.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.retrain import nlu_yaml
from bot.retrain.pii import PiiContext, mask
from bot.retrain.similarity import group_near_duplicates, similarity

FALLBACK = "fallback"
LOW_CONFIDENCE = "low_confidence"
REPHRASED = "rephrased"
HANDOFF = "handoff"
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
UNKNOWN_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class ReviewOptions:
    low_confidence: float = 0.6         # below this, the message is reviewed
    rephrase_window_s: float = 120.0    # a next message within this time may be a rephrase
    rephrase_margin: float = 0.1        # ...when it scored at least this much higher
    rephrase_min_similarity: float = 0.3  # ...or predicted another intent and looks alike
    handoff_window_s: float = 600.0     # messages this long before a handoff are reviewed
    handoff_lookback: int = 3           # at most this many of them
    group_threshold: float = 0.85       # near-duplicate similarity
    max_variants: int = 5               # variants listed as comments per group


@dataclass
class Candidate:
    wa_id: str
    text: str
    intent: str
    confidence: float
    entities: list[dict[str, Any]]
    at: datetime
    reasons: set[str] = field(default_factory=set)
    message_id: str = ""              # the chat-log id (the NLU inbox counts each once)


def _as_dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    raise ValueError(f"not a timestamp: {value!r}")


def _reviewable(doc: dict[str, Any]) -> bool:
    text = doc.get("text")
    # Typed text only (button/list taps are our own titles); a message Rasa never scored
    # (intent None: Rasa was unavailable) says nothing about the NLU.
    return (doc.get("direction") == "in" and isinstance(text, str) and bool(text.strip())
            and doc.get("type", "text") == "text" and not text.lstrip().startswith("/")
            and (doc.get("intent") is not None or bool(doc.get("fallback"))))


def _candidate(doc: dict[str, Any]) -> Candidate:
    conf = doc.get("confidence")
    return Candidate(str(doc.get("wa_id", "")), " ".join(str(doc["text"]).split()),
                     str(doc.get("intent") or UNKNOWN_INTENT),
                     float(conf) if isinstance(conf, (int, float)) else 0.0,
                     [e for e in doc.get("entities") or [] if isinstance(e, dict)],
                     _as_dt(doc.get("at")), message_id=str(doc.get("_id") or ""))


def select_candidates(logs: Iterable[dict[str, Any]],
                      opts: ReviewOptions = ReviewOptions()) -> list[Candidate]:
    """Inbound text messages worth a human look, each with the reasons why."""
    by_sender: dict[str, list[tuple[Candidate, dict[str, Any]]]] = {}
    for doc in logs:
        if _reviewable(doc):
            c = _candidate(doc)
            by_sender.setdefault(c.wa_id, []).append((c, doc))
    picked: list[Candidate] = []
    for rows in by_sender.values():
        rows.sort(key=lambda r: r[0].at)
        for i, (c, doc) in enumerate(rows):
            if doc.get("fallback") or c.intent in FALLBACK_INTENTS:
                c.reasons.add(FALLBACK)
            if c.confidence < opts.low_confidence:
                c.reasons.add(LOW_CONFIDENCE)
            if i + 1 < len(rows):
                nxt = rows[i + 1][0]
                close = (nxt.at - c.at).total_seconds() <= opts.rephrase_window_s
                higher = nxt.confidence - c.confidence >= opts.rephrase_margin
                other = nxt.intent != c.intent and \
                    similarity(c.text, nxt.text) >= opts.rephrase_min_similarity
                if close and (higher or other):
                    c.reasons.add(REPHRASED)
            if doc.get("handoff"):
                if c.intent != "human_handoff":
                    c.reasons.add(HANDOFF)
                for j in range(i - 1, max(-1, i - 1 - opts.handoff_lookback), -1):
                    prev = rows[j][0]
                    if (c.at - prev.at).total_seconds() > opts.handoff_window_s:
                        break
                    prev.reasons.add(HANDOFF)
        picked += [c for c, _ in rows if c.reasons]
    return sorted(picked, key=lambda c: c.at)


def annotate(text: str, entities: Sequence[dict[str, Any]]) -> str:
    """Pre-annotate the predicted entities as `[text](entity)` (overlaps: first wins)."""
    spans = []
    for e in entities:
        start, end, name = e.get("start"), e.get("end"), e.get("entity")
        if isinstance(start, int) and isinstance(end, int) and isinstance(name, str) \
                and 0 <= start < end <= len(text) and text[start:end].strip() == text[start:end]:
            spans.append((start, end, name))
    out, pos = [], 0
    for start, end, name in sorted(set(spans)):
        if start < pos or "[" in text[start:end] or "]" in text[start:end]:
            continue
        out += [text[pos:start], f"[{text[start:end]}]({name})"]
        pos = end
    out.append(text[pos:])
    return "".join(out)


@dataclass
class Group:
    example: str                 # masked, annotated representative
    intent: str                  # predicted (majority)
    members: list[Candidate]
    variants: list[str]          # other masked texts in the group
    reasons: Counter[str]

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def senders(self) -> int:
        return len({m.wa_id for m in self.members})


@dataclass
class Review:
    groups: list[Group]
    messages: int
    yaml: str

    def summary(self) -> dict[str, Any]:
        by_intent: Counter[str] = Counter()
        for g in self.groups:
            by_intent[g.intent] += g.count
        reasons: Counter[str] = Counter()
        for g in self.groups:
            reasons.update(g.reasons)
        return {"messages": self.messages, "groups": len(self.groups),
                "by_intent": dict(by_intent.most_common()), "reasons": dict(reasons)}


def _safe_text(text: str) -> str:
    """Brackets in what a patient typed would read as annotations: make them parentheses."""
    return text.replace("[", "(").replace("]", ")")


def build_groups(candidates: Sequence[Candidate], pii: PiiContext,
                 opts: ReviewOptions = ReviewOptions()) -> list[Group]:
    masked = [(c, mask(annotate(_safe_text(c.text), c.entities), pii)) for c in candidates]
    plain_masked = {id(c): mask(_safe_text(c.text), pii) for c in candidates}
    clusters = group_near_duplicates(masked, lambda m: plain_masked[id(m[0])],
                                     opts.group_threshold)
    groups = []
    for cluster in clusters:
        members = [c for c, _ in cluster]
        intents = Counter(c.intent for c in members)
        top = max(intents.items(), key=lambda kv: (kv[1], -min(
            i for i, c in enumerate(members) if c.intent == kv[0])))[0]
        rep_candidate, rep = next((c, m) for c, m in cluster if c.intent == top)
        seen = {plain_masked[id(rep_candidate)]}
        variants = []
        for c, _ in cluster:
            text = plain_masked[id(c)]
            if text not in seen:
                seen.add(text)
                variants.append(text)
        reasons: Counter[str] = Counter()
        for c in members:
            reasons.update(c.reasons)
        groups.append(Group(rep, top, members, variants, reasons))
    return groups


HEADER = (
    "NLU review file: patient messages the assistant was unsure about (PII masked).",
    "Edit each `- intent:` block: set the right intent, fix or add [text](entity)",
    "annotations, delete the blocks or lines you do not want, then run",
    "`python -m bot.retrain merge <this file>`. Blocks left as nlu_fallback are refused.",
)


def render(groups: Sequence[Group], opts: ReviewOptions, generated_at: datetime,
           period: str = "") -> str:
    by_intent: dict[str, list[Group]] = {}
    for g in groups:
        by_intent.setdefault(g.intent, []).append(g)
    order = sorted(by_intent, key=lambda i: (-sum(g.count for g in by_intent[i]), i))
    total = sum(g.count for g in groups)
    header = [*HEADER, "",
              f"generated {generated_at.strftime('%Y-%m-%d %H:%M UTC')}"
              + (f", {period}" if period else "")
              + f": {total} messages in {len(groups)} groups; low-confidence threshold "
              f"{opts.low_confidence:.2f}"]
    blocks = []
    for intent in order:
        gs = sorted(by_intent[intent], key=lambda g: -g.count)
        blocks.append(f"\n# ===== predicted intent: {intent} "
                      f"({sum(g.count for g in gs)} messages, {len(gs)} groups) =====\n")
        for g in gs:
            confs = [c.confidence for c in g.members if c.intent == intent]
            comments = [
                f"predicted {intent} confidence {min(confs):.2f}"
                + (f"-{max(confs):.2f}" if max(confs) - min(confs) >= 0.005 else "")
                + f"; {g.count} message(s) from {g.senders} sender(s); reasons: "
                + ", ".join(f"{r} x{n}" for r, n in sorted(g.reasons.items()))]
            others = Counter(c.intent for c in g.members if c.intent != intent)
            if others:
                comments.append("also predicted: " + ", ".join(
                    f"{i} x{n}" for i, n in others.most_common()))
            for v in g.variants[:opts.max_variants]:
                comments.append(f"variant: {v}")
            if len(g.variants) > opts.max_variants:
                comments.append(f"... and {len(g.variants) - opts.max_variants} more variants")
            blocks.append(nlu_yaml.render_block(intent, [g.example], comments))
    return nlu_yaml.render_file(blocks, header)


def build_review(logs: Iterable[dict[str, Any]], pii: PiiContext = PiiContext(),
                 opts: ReviewOptions = ReviewOptions(), *, now: datetime | None = None,
                 period: str = "") -> Review:
    candidates = select_candidates(logs, opts)
    groups = build_groups(candidates, pii, opts)
    text = render(groups, opts, now or datetime.now(UTC), period)
    return Review(groups, len(candidates), text)


# ---- I/O helpers --------------------------------------------------------------------------
def load_inbound_jsonl(path: Path) -> list[dict[str, Any]]:
    """chat_logs documents exported one JSON object per line (`at` as ISO-8601)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out
