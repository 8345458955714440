"""The NLU inbox: what the assistant was unsure about, masked and grouped, for admins to label.

Fed by the gateway after each patient message (`InboxFeeder.observe`): the sender's last
messages (held from the previous turn when this process saw it, bot/retrain/recent.py;
else read back from the store) go through the review's selection (`select_candidates`:
fallback, low confidence, a correction right after a reply, messages before a handoff),
are masked (`pii.mask`) and join the group of the first similar representative
(`similarity`, the review's threshold), else start a group. Stored by
booking/store_nlu_inbox.py.

Pure: `inbox_items`, `choose_group`, `check_label`, `training_examples`, `render_labelled`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.settings import Settings
from booking.errors import BookingError
from booking.store import Store
from bot.retrain import nlu_yaml
from bot.retrain.merge import DomainInfo, check_examples
from bot.retrain.pii import PLACEHOLDERS, PiiContext, mask
from bot.retrain.recent import RecentInbound
from bot.retrain.review import (
    Candidate,
    ReviewOptions,
    _safe_text,
    annotate,
    select_candidates,
)
from bot.retrain.similarity import normalise, similarity

log = logging.getLogger(__name__)

MAX_ENTITIES = 20
MAX_INTENT_CHARS = 80
MAX_VALUE_CHARS = 100
LABEL_HEADER = ("Examples labelled by admins in the NLU inbox (PII masked); written by the",
                "training job into its temporary copy of the assistant, never into nlu/.")


class LabelRejected(ValueError):
    """A label the training data must not get (the message says why)."""


def inbox_key(settings: Settings) -> bytes:
    """The key of the sender hashes (derived from JWT_SECRET: stable across restarts in a
    deployment, unknown outside the app)."""
    return hashlib.sha256(b"nlu-inbox-senders:" +
                          settings.jwt_secret.get_secret_value().encode()).digest()


def sender_hash(wa_id: str, key: bytes) -> str:
    """Distinct senders are counted without storing who they are."""
    return hmac.new(key, wa_id.encode(), hashlib.sha256).hexdigest()[:16]


def reviewable(logs: Sequence[dict[str, Any]], opts: ReviewOptions) -> list[Candidate]:
    """The messages of one sender's recent ones worth an admin's look (none for fine ones)."""
    return [c for c in select_candidates(logs, opts) if c.message_id]


def inbox_items(candidates: Sequence[Candidate], pii: PiiContext, key: bytes
                ) -> list[dict[str, Any]]:
    """The inbox entries of these candidates (masked)."""
    items = []
    for c in candidates:
        plain = mask(_safe_text(c.text), pii)
        items.append({"message_id": c.message_id, "sender": sender_hash(c.wa_id, key),
                      "text": plain, "example": mask(annotate(_safe_text(c.text), c.entities),
                                                     pii),
                      "norm": normalise(plain), "intent": c.intent,
                      "confidence": round(c.confidence, 4), "reasons": sorted(c.reasons),
                      "at": c.at})
    return items


def choose_group(norm: str, representatives: Iterable[tuple[str, str]],
                 threshold: float = ReviewOptions.group_threshold) -> str | None:
    """The group whose representative is the same text, else the first similar one."""
    reps = list(representatives)
    for group_id, rep in reps:
        if rep == norm:
            return group_id
    for group_id, rep in reps:
        if similarity(rep, norm) >= threshold:
            return group_id
    return None


class InboxFeeder:
    """Feeds the inbox from the chat logs, one sender at a time (I/O around the pure parts)."""

    def __init__(self, store: Store, key: bytes, opts: ReviewOptions = ReviewOptions()) -> None:
        self.store, self.key, self.opts = store, key, opts
        self.window = timedelta(seconds=max(opts.rephrase_window_s, opts.handoff_window_s))
        self.recent = RecentInbound(opts.handoff_lookback + 1, self.window)

    async def observe(self, wa_id: str, now: datetime, *, latest: dict[str, Any] | None = None,
                      previous_at: datetime | None = None) -> int:
        """Look at the sender's latest messages; returns how many were counted in.

        Only the last `handoff_lookback + 1` are looked at: a message's reasons come from
        itself, from the next one (a rephrase) or from a handoff at most that many messages
        later, so the newest message can change nothing older. `latest` is the message just
        logged and `previous_at` the sender's last message time before it: when this
        process saw that one, the rows are known without reading the store. Known ones
        are dropped before the masking context is loaded: most turns after an unsure
        message find only it again."""
        logs = self.recent.rows_with(wa_id, latest, previous_at, now) \
            if latest is not None else None
        if logs is None:
            logs = await self.store.retrain.recent_inbound(wa_id, now - self.window,
                                                           self.opts.handoff_lookback + 1)
        self.recent.remember(wa_id, logs, now)
        candidates = reviewable(logs, self.opts) if logs else []
        if not candidates:
            return 0  # the usual turn: nothing to review, so no masking context to load
        seen = await self.store.nlu_inbox.seen([c.message_id for c in candidates])
        fresh = [c for c in candidates if not c.reasons <= set(seen.get(c.message_id, ["-"]))]
        if not fresh:
            return 0
        ctx = await self.store.retrain.masking_context([wa_id])
        pii = PiiContext.build(ctx["names"], ctx["doctors"], ctx["refs"])
        reps = await self.store.nlu_inbox.representatives()
        for item in inbox_items(fresh, pii, self.key):
            group = None if item["message_id"] in seen else \
                choose_group(item["norm"], reps, self.opts.group_threshold)
            gid = await self.store.nlu_inbox.add_message(item, group)
            if group is None and all(g != gid for g, _ in reps):
                reps.append((gid, item["norm"]))
        return len(fresh)

    async def observe_safely(self, wa_id: str, now: datetime, *,
                             latest: dict[str, Any] | None = None,
                             previous_at: datetime | None = None) -> None:
        """For the gateway: the patient was answered; a failure here is logged, not raised."""
        try:
            await self.observe(wa_id, now, latest=latest, previous_at=previous_at)
        except (BookingError, LookupError, ValueError, TypeError) as exc:
            log.warning("nlu inbox not fed: %s", type(exc).__name__)

    def forget(self, wa_id: str) -> None:
        """The number was erased: nothing of it stays in this process."""
        self.recent.forget(wa_id)


# ---- labels -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Knowledge:
    """What labels are checked against: the domain, the committed training data, and the
    frozen held-out set (read once from the read-only assistant files)."""

    domain: DomainInfo
    existing: dict[str, list[str]]
    held_out: tuple[str, ...]

    @classmethod
    def load(cls, domain: Path, data: Sequence[Path], test_set: Path) -> Knowledge:
        existing = nlu_yaml.read_training_examples(data)
        held = tuple(ex for _, exs in nlu_yaml.read_blocks(test_set) for ex in exs) \
            if test_set.exists() else ()
        return cls(DomainInfo.load(domain, existing), existing, held)

    @property
    def intents(self) -> list[str]:
        retrieval_bases = {r.split("/", 1)[0] for r in self.domain.retrieval_intents}
        plain = [i for i in self.domain.intents if i not in retrieval_bases]
        return sorted(plain) + sorted(self.domain.retrieval_intents)


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabelRejected(f"{name} must be an integer")
    return value


def annotated(text: str, entities: Sequence[dict[str, Any]], known: DomainInfo) -> str:
    """The example with `[span](entity)` / `[span]{"entity":..,"value":..}` markup; every span
    is checked strictly (bounds, no overlap, no surrounding spaces, known entity)."""
    if len(entities) > MAX_ENTITIES:
        raise LabelRejected(f"at most {MAX_ENTITIES} entities")
    spans = []
    for i, e in enumerate(entities):
        if not isinstance(e, dict) or not set(e) <= {"start", "end", "entity", "value"} \
                or not {"start", "end", "entity"} <= set(e):
            raise LabelRejected(f"entities[{i}] must be {{start, end, entity[, value]}}")
        start, end = _int(e["start"], f"entities[{i}].start"), _int(e["end"], f"entities[{i}].end")
        name, value = e["entity"], e.get("value")
        if not isinstance(name, str) or name not in known.entities:
            raise LabelRejected(f"entities[{i}].entity is not an entity of the domain")
        if value is not None and (not isinstance(value, str) or not value.strip()
                                  or len(value) > MAX_VALUE_CHARS or any(c in value for c in
                                                                        '[]{}()"\n')):
            raise LabelRejected(f"entities[{i}].value must be a short plain string")
        if not 0 <= start < end <= len(text):
            raise LabelRejected(f"entities[{i}] span is outside the text")
        span = text[start:end]
        if span != span.strip() or any(c in span for c in "[]()"):
            raise LabelRejected(f"entities[{i}] span must not start or end with a space "
                                "or hold brackets")
        if any(p in span for p in PLACEHOLDERS):
            raise LabelRejected(f"entities[{i}] span covers masked personal data")
        spans.append((start, end, name, value))
    spans.sort()
    for a, b in zip(spans, spans[1:], strict=False):
        if b[0] < a[1]:
            raise LabelRejected("entity spans overlap")
    out, pos = [], 0
    for start, end, name, value in spans:
        mark = f"({name})" if value is None or value == text[start:end] else \
            f'{{"entity": "{name}", "value": "{value}"}}'
        out += [text[pos:start], f"[{text[start:end]}]{mark}"]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def check_label(group: dict[str, Any], body: Any, know: Knowledge) -> dict[str, Any]:
    """Validate a label request for a group: {"intent": str, "entities": [...]} or
    {"ignore": true}. Returns the label to store; LabelRejected says what is wrong."""
    if not isinstance(body, dict):
        raise LabelRejected("body must be a JSON object")
    if body.get("ignore") is True:
        if set(body) - {"ignore"}:
            raise LabelRejected("ignore takes no other fields")
        return {"ignore": True}
    if set(body) - {"intent", "entities"} or "intent" not in body:
        raise LabelRejected('expected {"intent": ..., "entities": [...]} or {"ignore": true}')
    intent, entities = body["intent"], body.get("entities", [])
    if not isinstance(intent, str) or not 0 < len(intent) <= MAX_INTENT_CHARS:
        raise LabelRejected("intent must be a non-empty string")
    if not isinstance(entities, list):
        raise LabelRejected("entities must be a list")
    text = str(group.get("text") or "")
    example = annotated(text, entities, know.domain)
    decision = check_examples([(intent, example)], know.domain, know.existing,
                              know.held_out)[0]
    if not decision.accepted:
        raise LabelRejected(decision.reason)
    return {"intent": intent, "entities": [
        {k: e[k] for k in ("start", "end", "entity", "value") if k in e} for e in entities],
        "example": example}


def training_examples(groups: Sequence[dict[str, Any]], know: Knowledge
                      ) -> tuple[dict[str, list[str]], list[str]]:
    """intent -> examples of the labelled groups (the annotated representative; its variants
    too when no entity was marked, since unmarked entity text would teach the opposite), and
    the notes on what was left out (rechecked: the committed data may have changed)."""
    items: list[tuple[str, str]] = []
    for g in groups:
        label = g.get("label") or {}
        if not isinstance(label.get("intent"), str) or not isinstance(label.get("example"), str):
            continue
        items.append((label["intent"], label["example"]))
        if not label.get("entities"):
            items += [(label["intent"], v) for v in g.get("variants") or []
                      if isinstance(v, str)]
    decisions = check_examples(items, know.domain, know.existing, know.held_out)
    out: dict[str, list[str]] = {}
    notes = []
    for d in decisions:
        if d.accepted:
            out.setdefault(d.intent, []).append(d.example)
        else:
            notes.append(f"left out {d.intent}: {d.example} ({d.reason})")
    return out, notes


def render_labelled(examples: dict[str, list[str]]) -> str:
    return nlu_yaml.render_file(
        (nlu_yaml.render_block(intent, exs) for intent, exs in sorted(examples.items())),
        LABEL_HEADER)
