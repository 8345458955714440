"""Benchmark: the WhatsApp gateway end to end against Rasa's raw REST channel, same run.

    .venv/bin/python -m bench.gateway [--users 10] [--messages 15] [--rounds 2]

Starts the real Rasa server (tests/rasa/server.py; its action endpoint is this app's
actions role), the Wati sandbox and the app (roles bot,actions; mongomock store, the
tests' Redis under a throw-away namespace: TEST_REDIS_URL, else a private redis-server).
Then, alternating:

- raw: each simulated patient POSTs to Rasa's /webhooks/rest/webhook and waits for
  the answer (what Rasa alone can do);
- gateway: each patient's message is posted to /whatsapp/webhook exactly as Wati does;
  latency = webhook posted → the last reply to it accepted by the sandbox's Wati API
  (dedupe, persistence, per-sender lanes, Rasa, rendering, Wati client included).

Sequential (1 patient) for latency, concurrent patients for throughput. Figures go to
docs/benchmarks-gateway.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

import bot.gateway as gateway_module
from app.main import create_app
from app.settings import Settings
from booking.store import MongoStore
from bot.rasa_bridge import TURN_KEY, ranked, split_turn
from bot.setup import RUNTIME
from sandbox import WatiSandbox
from tests import redis_server
from tests.bot.conftest import FakeRasa, echo_replies
from tests.rasa.server import ensure_model, free_port, start_rasa

BENCH_ACTIONS_TOKEN = "bench-actions-token-0123456789abcdef"  # noqa: S105 - local bench

REDIS_URL = redis_server.url()
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-gateway.md"
# What patients say first; answered by Rasa (some through custom actions in both modes).
MESSAGES = ["halo", "selamat pagi", "terima kasih", "jam buka klinik kapan?",
            "apakah bisa pakai BPJS?", "hai", "makasih ya", "berapa biaya konsultasi?"]


RAW, GATEWAY, BEFORE = ("raw Rasa REST", "gateway (webhook → Wati)",
                        "gateway, tracker read (before)")


def _without_report(replies: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], None]:
    """The gateway as it was before turn reports: it ignores them and reads the tracker."""
    return split_turn(replies)[0], None


def _stub_replies(sender: str, message: str) -> list[dict[str, Any]]:
    """The stub answers like Rasa with our actions: the reply plus a turn report."""
    return [*echo_replies(sender, message),
            {"recipient_id": sender, "custom": {TURN_KEY: {"intent": "greet",
                                                           "confidence": 0.9}}}]


@dataclass
class Run:
    name: str
    users: int
    latencies_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0  # this process (app, driver, sandbox; not Rasa)
    rasa_cpu_s: float = 0.0  # the Rasa servers' processes
    errors: int = 0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_s / len(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def rasa_cpu_ms(self) -> float:
        return 1000 * self.rasa_cpu_s / len(self.latencies_ms) if self.latencies_ms \
            else float("nan")

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))]


def process_cpu_s(pids: Sequence[int]) -> float:
    """User + system CPU seconds of these processes so far (all their threads; Linux)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


async def rest_turn(session: aiohttp.ClientSession, base: str, wa: str, text: str) -> float:
    """One message to Rasa's REST channel; milliseconds until its answer."""
    t0 = time.perf_counter()
    async with session.post(base + "/webhooks/rest/webhook",
                            json={"sender": wa, "message": text}) as resp:
        assert resp.status == 200
        await resp.json()
    return (time.perf_counter() - t0) * 1000


async def drive(name: str, users: int, messages: int,
                one: Callable[[str, str], Awaitable[float]],
                texts: Sequence[str] = MESSAGES) -> Run:
    """`users` patients at once, each sending `messages` of `texts` in turn."""
    run = Run(name, users)
    tag = uuid.uuid4().hex[:6]

    async def patient(i: int) -> None:
        wa = f"62899{abs(hash((tag, i))) % 10**8:08d}"
        for n in range(messages):
            try:
                run.latencies_ms.append(await one(wa, texts[(i + n) % len(texts)]))
            except Exception:  # noqa: BLE001 - counted and reported
                run.errors += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(patient(i) for i in range(users)))
    run.wall_s = time.perf_counter() - started
    run.cpu_s = time.process_time() - cpu
    return run


async def main(users: int, messages: int, rounds: int, model_path: str | None = None,
               replicas: int = 1, gateway_only: bool = False, stub_phase: bool = True) -> str:
    action_port = free_port()
    stub = await FakeRasa(replier=_stub_replies).start()
    if gateway_only:  # no Rasa at all: the stub from the start
        servers: list[Any] = []
        urls, rasa_token = [stub.url], "bench-stub-token"  # noqa: S105 - the stub checks none
    else:
        model = Path(model_path) if model_path else await asyncio.to_thread(ensure_model)
        servers = [await asyncio.to_thread(start_rasa, model,
                                           f"http://127.0.0.1:{action_port}/webhook/actions",
                                           action_token=BENCH_ACTIONS_TOKEN)
                   for _ in range(replicas)]
        urls, rasa_token = [s.url for s in servers], servers[0].auth_token
    sandbox = WatiSandbox(token="bench-token", status_webhooks=False, enforce_window=False,
                          read_receipts=False)
    await sandbox.start()
    store = MongoStore.from_url(None)
    settings = Settings(roles="bot,actions", wati_api_url=sandbox.url,
                        wati_api_token="bench-token", wati_webhook_token="bench-hook",
                        rasa_url=urls[0], rasa_urls=",".join(urls), redis_url=REDIS_URL,
                        actions_port=action_port,
                        actions_token=BENCH_ACTIONS_TOKEN, rasa_token=rasa_token,
                        redis_namespace=f"bench:{uuid.uuid4().hex[:8]}:", load_demo_data=True,
                        log_level="WARNING")
    app = create_app(settings, store=store)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    app_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", app_port).start()
    hook = f"http://127.0.0.1:{app_port}/whatsapp/webhook?token=bench-hook"
    gateway = app[RUNTIME]
    # wa_id -> (event set when its message is fully processed, perf time of last reply)
    done: dict[str, asyncio.Event] = {}
    last_reply: dict[str, float] = {}
    original = sandbox._accept

    def accept(api: str, op: str, to: str, content: dict[str, Any],
               local_id: str | None = None) -> dict[str, Any]:
        last_reply[to] = time.perf_counter()
        return original(api, op, to, content, local_id)

    sandbox._accept = accept  # type: ignore[method-assign]
    handle = gateway.inbox.handler

    async def tracked(doc: dict[str, Any]) -> None:
        await handle(doc)
        event = done.get(doc.get("wa_id") or "")
        if event is not None:
            event.set()

    gateway.inbox.handler = tracked
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))

    # where "raw" goes: each patient to the replica the gateway would pick; later the stub
    target: dict[str, list[str]] = {"urls": urls}

    async def raw(wa: str, text: str) -> float:
        return await rest_turn(session, ranked(target["urls"], wa)[0], wa, text)

    async def via_gateway(wa: str, text: str) -> float:
        event = done[wa] = asyncio.Event()
        payload = sandbox.inbound_payload(wa, text=text, name="Bench")
        t0 = time.perf_counter()
        async with session.post(hook, json=payload) as resp:
            assert resp.status == 200
        await asyncio.wait_for(event.wait(), 60)
        return (last_reply[wa] - t0) * 1000

    rasa_pids = [s.process.pid for s in servers]

    async def mode(name: str, n_users: int, n_messages: int) -> Run:
        fn = raw if name == RAW else via_gateway
        gateway_module.split_turn = _without_report if name == BEFORE else split_turn
        rasa_cpu = process_cpu_s(rasa_pids)
        try:
            run = await drive(name, n_users, n_messages, fn)
        finally:
            gateway_module.split_turn = split_turn
        run.rasa_cpu_s = process_cpu_s(rasa_pids) - rasa_cpu
        return run

    results: list[Run] = []
    overhead: list[Run] = []
    names = [RAW, GATEWAY, BEFORE]
    try:
        await drive("warm-up raw", 2, 5, raw)
        await drive("warm-up gateway", 2, 5, via_gateway)
        load_before = os.getloadavg()
        for r in range(0 if gateway_only else rounds):
            for n_users in (1, users):
                for name in names if r % 2 == 0 else names[::-1]:  # alternate who goes first
                    results.append(await mode(name, n_users, messages))
        load_after = os.getloadavg()
        # The gateway's own cost, without Rasa's noise: the same path against a stub that
        # answers at once (tests/bot's fake REST channel).
        target["urls"] = [stub.url]
        gateway.rasa.urls = [stub.url]
        for r in range(rounds if stub_phase else 0):
            for n_users in (1, users):
                for name in names if r % 2 == 0 else names[::-1]:
                    overhead.append(await mode(name, n_users, messages * 4))
    finally:
        await stub.stop()
        await session.close()
        await runner.cleanup()
        await sandbox.stop()
        for server in servers:
            await asyncio.to_thread(server.stop)
        store.close()
    return report(results, overhead, users, messages, rounds, (load_before[0], load_after[0]),
                  replicas)


def merge(runs: list[Run]) -> Run:
    out = Run(runs[0].name, runs[0].users)
    for r in runs:
        out.latencies_ms += r.latencies_ms
        out.wall_s += r.wall_s
        out.cpu_s += r.cpu_s
        out.rasa_cpu_s += r.rasa_cpu_s
        out.errors += r.errors
    return out


def table(results: list[Run]) -> tuple[list[str], dict[tuple[str, int], Run]]:
    lines = ["| mode | patients | messages | p50 ms | p95 ms | msg/s | app CPU ms/msg "
             "| Rasa CPU ms/msg | errors |", "|---|---|---|---|---|---|---|---|---|"]
    summary: dict[tuple[str, int], Run] = {}
    for key in dict.fromkeys((r.name, r.users) for r in results):
        merged = merge([r for r in results if (r.name, r.users) == key])
        summary[key] = merged
        lines.append(f"| {key[0]} | {key[1]} | {len(merged.latencies_ms)} | "
                     f"{merged.pct(0.5):.1f} | {merged.pct(0.95):.1f} | "
                     f"{merged.throughput:.1f} | {merged.cpu_ms:.2f} | "
                     f"{merged.rasa_cpu_ms:.2f} | {merged.errors} |")
    lines.append("")
    for n_users, name in [(n, g) for n in sorted({k[1] for k in summary})
                          for g in (GATEWAY, BEFORE) if (g, n) in summary]:
        raw = summary[(RAW, n_users)]
        gw = summary[(name, n_users)]
        ratio = gw.throughput / raw.throughput if raw.throughput else float("nan")
        lines.append(
            f"- {n_users} patient(s), {name}: throughput = {ratio:.0%} of raw "
            f"(cost {1 - ratio:.0%}); added latency p50 "
            f"{gw.pct(0.5) - raw.pct(0.5):+.1f} ms, p95 {gw.pct(0.95) - raw.pct(0.95):+.1f} ms "
            f"(mean {statistics.fmean(gw.latencies_ms) - statistics.fmean(raw.latencies_ms):+.1f}"
            " ms)." + paired_costs(results, name, n_users))
    return lines, summary


def paired_costs(results: list[Run], name: str, n_users: int) -> str:
    """The cost round by round: each gateway run against the raw run next to it in time
    (this machine's speed drifts between rounds; a pair shares the drift)."""
    raws = [r for r in results if (r.name, r.users) == (RAW, n_users)]
    gws = [r for r in results if (r.name, r.users) == (name, n_users)]
    costs = [1 - g.throughput / r.throughput for r, g in zip(raws, gws, strict=False)
             if r.throughput]
    if len(costs) < 2:
        return ""
    return (f" Round by round: cost median {statistics.median(costs):.0%} "
            f"({', '.join(f'{c:.0%}' for c in costs)}).")


def report(results: list[Run], overhead: list[Run], users: int, messages: int, rounds: int,
           load: tuple[float, float], replicas: int = 1) -> str:
    lines = [
        "# Benchmark: WhatsApp gateway vs raw Rasa REST channel",
        "",
        f"Run `{'.venv/bin/python -m bench.gateway'} --users {users} --messages {messages} "
        f"--rounds {rounds} --replicas {replicas}` on {platform.machine()}, {os.cpu_count()} "
        f"CPUs, Python {platform.python_version()}; Rasa 3.6 ({replicas} `rasa run` "
        "process(es) through rasa_env/launch.py, each patient on its rendezvous-hashed "
        "replica in both modes; each with an in-memory tracker store), "
        "the app with roles bot,actions in one process, mongomock store, local "
        "Redis, the Wati sandbox on loopback. Same messages, same Rasa servers, "
        "alternating runs.",
        f"Machine load average (1 min) before/after: {load[0]:.1f} / {load[1]:.1f} "
        "(other work on the machine makes both modes slower alike; compare within a run).",
        "",
        "Gateway latency = webhook POSTed → last reply accepted by the sandbox's Wati API "
        "(dedupe in Redis, inbox persisted, per-sender lane, Rasa REST call, rendering, "
        "Wati send). What Rasa understood (for the chat log) comes in the reply as a turn "
        "report (actions/turn.py); the mode \"tracker read (before)\" is the same gateway "
        "ignoring the report and reading the tracker after the reply, as it did before.",
        "",
    ]
    body, _ = table(results) if results else (["(--gateway-only: Rasa was not started)"], {})
    lines += body
    lines += ["", "## The gateway's own cost (Rasa replaced by a stub answering at once)", "",
              "Same app, same path; the stub is the fake REST channel of tests/bot, so what "
              "remains is the gateway: webhook parsing, Redis dedupe, inbox write, lane, "
              "choices lookup, stub call, rendering, sandbox send, chat log (and, before, the "
              "tracker read).",
              ""]
    body, _ = table(overhead) if overhead else (["(--no-stub: not measured)"], {})
    lines += body
    lines += ["", "Targets (issue 4 §9): the gateway costs at most 20% of Rasa's throughput "
              "and adds under 30 ms p50.", ""]
    return "\n".join(lines)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--messages", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", help="a trained model (default: train if stale)")
    parser.add_argument("--replicas", type=int, default=1, help="Rasa servers (RASA_REPLICAS)")
    parser.add_argument("--gateway-only", action="store_true",
                        help="only the gateway against the stub, no Rasa (prints only)")
    parser.add_argument("--no-stub", action="store_true",
                        help="leave out the gateway's own cost (Rasa stubbed)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    text = asyncio.run(main(args.users, args.messages, args.rounds, args.model, args.replicas,
                            args.gateway_only, not args.no_stub))
    print(text)  # noqa: T201
    if not args.no_write and not args.gateway_only:
        DOC.write_text(text)


if __name__ == "__main__":
    cli()
