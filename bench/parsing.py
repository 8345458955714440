"""Benchmark: what the actions' own reading of a message costs (issue 13 §3).

    .venv/bin/python -m bench.parsing [--repeat 20]

Every typed patient message of the conversation suite (tests/conversations) goes through
the deterministic readers the actions run besides the NLU: the date/time parser
(booking/dates.py), the catalogue's fuzzy matching of specialty and city (booking/fuzzy.py),
the yes/no reader (booking/yesno.py) and the "does this answer the form?" check
(actions/forms.py). Per message p50/p95 in microseconds; compare with a turn's latency
through the gateway (docs/benchmarks-gateway.md, tens of milliseconds). Figures go to
docs/benchmarks-parsing.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from actions.base import Message
from actions.forms import answers_question
from booking.dates import parse_when
from booking.fuzzy import find_city, find_specialty
from booking.yesno import yes_no
from tests.conversations.runner import fill, load_scripts

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-parsing.md"


def messages() -> list[str]:
    today = date.today()
    out = []
    for script in load_scripts():
        for step in script["turns"]:
            text = step if isinstance(step, str) else step.get("text") if isinstance(
                step, dict) else None
            if text:
                out.append(fill(str(text), today, ["K7M-4QX"]))
    return out


def timed(fn: Callable[[str], Any], texts: list[str], repeat: int) -> list[float]:
    per_message = []
    for text in texts:
        started = time.perf_counter()
        for _ in range(repeat):
            fn(text)
        per_message.append((time.perf_counter() - started) / repeat * 1e6)
    return per_message


def pct(data: list[float], q: float) -> float:
    ordered = sorted(data)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(repeat: int) -> str:
    texts = messages()
    now = datetime.now(UTC)
    readers: dict[str, Callable[[str], Any]] = {
        "parse_when (dates)": lambda t: parse_when(t, now),
        "find_specialty (fuzzy)": find_specialty,
        "find_city (fuzzy)": find_city,
        "yes_no": lambda t: yes_no(t, "inform"),
        "answers_question": lambda t: answers_question(
            Message(text=t, intent="list_appointments", entities=[]), "slot_start"),
    }
    rows = {name: timed(fn, texts, repeat) for name, fn in readers.items()}
    total = [sum(v[i] for v in rows.values()) for i in range(len(texts))]
    lines = ["# Benchmark: the actions' own reading of a message", "",
             f"`.venv/bin/python -m bench.parsing --repeat {repeat}` on {platform.machine()}, "
             f"{os.cpu_count()} CPUs, Python {platform.python_version()}: the "
             f"{len(texts)} typed patient messages of the conversation suite, each read "
             f"{repeat} times. Load average before: {os.getloadavg()[0]:.1f}.", "",
             "| reader | p50 µs | p95 µs | max µs |", "|---|---|---|---|"]
    for name, values in [*rows.items(), ("all of them, per message", total)]:
        lines.append(f"| {name} | {pct(values, 0.5):.0f} | {pct(values, 0.95):.0f} | "
                     f"{max(values):.0f} |")
    lines += ["", f"Mean per message, all readers: {statistics.fmean(total):.0f} µs. A turn "
              "through the gateway takes about 90-100 ms p50 for one patient "
              "(docs/benchmarks-gateway.md), so reading a message this way is well under 1% "
              "of a turn at p50 and about 1% at p95, even counted once per reader call."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    text = main(parser.parse_args().repeat)
    DOC.write_text(text)
    print(text)
