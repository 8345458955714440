"""Benchmark: the in-process stand-in's narrowed scans (booking/mongomock_lookups.py).

    .venv/bin/python -m bench.stand_in [--logs 6000] [--senders 10] [--rounds 40]

Fills a mongomock chat log as the gateway does (inbound and outbound messages of several
senders, one a second) and times the NLU inbox feeder's query (`recent_inbound`: one
sender's inbound messages of the last 10 minutes), one sender's latest messages and a
lookup of messages by id (`$in`), with the narrowing and with mongomock's own scan,
alternating in one run. Prints a table (medians); the figures are in docs/scale-out.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from booking import mongomock_lookups
from booking.store import MongoStore
from booking.store_retrain import recent_inbound


def fill(store: MongoStore, logs: int, senders: int, now: datetime) -> None:
    store.chat_logs.insert_many([
        {"wa_id": f"6281200{i % senders:06d}", "direction": "in" if i % 2 else "out",
         "text": "mau booking dokter gigi besok pagi", "type": "text", "intent": "inform",
         "confidence": 0.9, "entities": [], "at": now - timedelta(seconds=logs - i),
         "fallback": False, "handoff": False, "message_id": f"wamid.{i}"}
        for i in range(logs)])


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=6000)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    store = MongoStore.from_url(None)
    now = datetime.now(UTC)
    fill(store, args.logs, args.senders, now)
    sender = f"6281200{3:06d}"
    wanted = [f"wamid.{i}" for i in range(args.logs - 40, args.logs, 2)]
    queries: dict[str, Callable[[], Any]] = {
        "recent_inbound (sender, direction, at >= 10 min ago)":
            lambda: recent_inbound(store, sender, now - timedelta(minutes=10)),
        "chat log of one sender, newest 20 (sender only)":
            lambda: list(store.chat_logs.find({"wa_id": sender}).sort("at", -1).limit(20)),
        "20 messages by id (`$in`, as the NLU inbox's `seen`)":
            lambda: list(store.chat_logs.find({"message_id": {"$in": wanted}})),
    }
    narrowing = mongomock_lookups.cheap_tests
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(2):  # alternate, so a change in the machine's speed hits both
        for mode in ("mongomock's scan", "narrowed"):
            mongomock_lookups.cheap_tests = narrowing if mode == "narrowed" else _no_tests
            for name, query in queries.items():
                results.setdefault((name, mode), []).append(median_ms(query, args.rounds))
    mongomock_lookups.cheap_tests = narrowing
    print(f"{args.logs} chat logs, {args.senders} senders, median of {args.rounds} calls x 2\n")
    print("| query | mongomock's scan | narrowed |\n|---|---|---|")
    for name in queries:
        scan = min(results[(name, "mongomock's scan")])
        narrowed = min(results[(name, "narrowed")])
        print(f"| {name} | {scan:.2f} ms | {narrowed:.2f} ms |")


def _no_tests(spec: Any) -> mongomock_lookups.Narrowing:
    return []


if __name__ == "__main__":
    main()
