"""Rasa NLU YAML: parse training examples and their entity annotations, read and write files.

Pure functions except `read_*` / `write_text_atomic`. Annotation forms (Rasa 3):
`[text](entity)`, `[text](entity:value)` and `[text]{"entity": "e", "value": "v", ...}`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]*)\](?:\((?P<spec>[^()]*)\)|(?P<json>\{[^{}]*\}))")
_ENTITY_NAME = re.compile(r"^[A-Za-z_][\w-]*$")
NLU_VERSION = '"3.1"'


class AnnotationError(ValueError):
    """An example's entity markup is not well formed."""


@dataclass(frozen=True)
class Entity:
    entity: str
    start: int
    end: int
    text: str
    value: str | None = None
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Example:
    raw: str               # as written, with markup
    text: str              # plain text the model sees
    entities: tuple[Entity, ...]


def parse_example(raw: str) -> Example:
    """Plain text and entities of one example; AnnotationError when the markup is broken."""
    raw = raw.strip()
    plain: list[str] = []
    entities: list[Entity] = []
    pos = 0
    for m in _ANNOTATION.finditer(raw):
        plain.append(_check_plain(raw[pos:m.start()]))
        inner = m.group("text")
        if not inner.strip():
            raise AnnotationError(f"empty entity text in {m.group(0)!r}")
        if inner != inner.strip():
            raise AnnotationError(f"entity text has leading/trailing spaces: {m.group(0)!r}")
        start = sum(len(p) for p in plain)
        name, value, role, group = _spec(m)
        entities.append(Entity(name, start, start + len(inner), inner, value, role, group))
        plain.append(inner)
        pos = m.end()
    plain.append(_check_plain(raw[pos:]))
    text = "".join(plain)
    if not text.strip():
        raise AnnotationError("empty example")
    return Example(raw, text, tuple(entities))


def _check_plain(segment: str) -> str:
    for ch in "[]":
        if ch in segment:
            raise AnnotationError(f"stray {ch!r} (annotation must be [text](entity))")
    if re.search(r"\]\s*\(|\)\s*\[", segment):
        raise AnnotationError("malformed annotation")
    return segment


def _spec(m: re.Match[str]) -> tuple[str, str | None, str | None, str | None]:
    if m.group("json") is not None:
        try:
            data = json.loads(m.group("json"))
        except json.JSONDecodeError as exc:
            raise AnnotationError(f"invalid JSON annotation {m.group(0)!r}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("entity"), str):
            raise AnnotationError(f"JSON annotation needs an 'entity' key: {m.group(0)!r}")
        name = data["entity"]
        extra = {k: data.get(k) for k in ("value", "role", "group")}
        if any(v is not None and not isinstance(v, str) for v in extra.values()):
            raise AnnotationError(f"value/role/group must be strings: {m.group(0)!r}")
        value, role, group = extra["value"], extra["role"], extra["group"]
    else:
        spec = m.group("spec")
        name, _, value_part = spec.partition(":")
        value = value_part.strip() or None if ":" in spec else None
        if ":" in spec and value is None:
            raise AnnotationError(f"empty synonym value in {m.group(0)!r}")
        role = group = None
    name = name.strip()
    if not _ENTITY_NAME.match(name):
        raise AnnotationError(f"invalid entity name {name!r} in {m.group(0)!r}")
    return name, value, role, group


# ---- files ------------------------------------------------------------------------------
def examples_of(block: dict[str, Any]) -> list[str]:
    """The example lines of one `- intent:` block (string or extended list form)."""
    examples = block.get("examples")
    if isinstance(examples, str):
        out = []
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(line[2:].strip())
            elif line == "-":
                out.append("")
            elif line:
                out.append(line)  # not a list item: kept so validation reports it
        return out
    if isinstance(examples, list):
        return [str(e.get("text", "")) if isinstance(e, dict) else str(e) for e in examples]
    return []


def read_blocks(path: Path) -> list[tuple[str, list[str]]]:
    """(intent, example lines) for every `- intent:` block of an NLU YAML file, in order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a Rasa NLU file")
    blocks = data.get("nlu") or []
    if not isinstance(blocks, list):
        raise ValueError(f"{path}: 'nlu' must be a list")
    out = []
    for block in blocks:
        if isinstance(block, dict) and "intent" in block:
            out.append((str(block["intent"]).strip(), examples_of(block)))
    return out


def nlu_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(q for q in p.rglob("*") if q.suffix in (".yml", ".yaml"))
        elif p.is_file():
            files.append(p)
    return files


def read_training_examples(paths: Iterable[Path]) -> dict[str, list[str]]:
    """intent -> raw example lines over all NLU files below `paths` (stories etc. ignored)."""
    out: dict[str, list[str]] = {}
    for file in nlu_files(paths):
        try:
            blocks = read_blocks(file)
        except (ValueError, yaml.YAMLError):
            continue
        for intent, examples in blocks:
            out.setdefault(intent, []).extend(examples)
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_block(intent: str, examples: Iterable[str], comments: Iterable[str] = ()) -> str:
    lines = [f"# {_one_line(c)}" if c else "#" for c in comments]
    lines += [f"- intent: {intent}", "  examples: |"]
    lines += [f"    - {_one_line(e)}" for e in examples]
    return "\n".join(lines) + "\n"


def render_file(blocks: Iterable[str], header: Iterable[str] = ()) -> str:
    head = "".join(f"# {_one_line(h)}\n" if h else "#\n" for h in header)
    return head + f"version: {NLU_VERSION}\nnlu:\n" + "".join(blocks)


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
