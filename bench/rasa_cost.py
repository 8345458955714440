"""Benchmark: Rasa's cost per message, for two ways of serving the assistant, in one run.

    .venv/bin/python -m bench.rasa_cost [--users 10] [--messages 12] [--rounds 2] [--model M]
        [--candidate-model M2] [--candidate-env KEY=VALUE ...] [--candidate-name NAME]

By default it compares plain `rasa run` with rasa_env/launch.py on the same model. With a
candidate (another model, e.g. trained from a changed config.yml, and/or extra environment,
e.g. TensorFlow's thread pools) it compares launch.py on the model with launch.py on the
candidate. Both servers call the same action server (this app's actions role, mongomock
store with the demo clinics); runs alternate: each simulated patient POSTs to the REST
channel and waits for the answer; 1 patient for latency, concurrent patients for
throughput. The messages mix small talk, FAQ and a booking conversation, so turns with one
action-server call (slot validation) and with several (the booking form) are both in.
Besides msg/s and latency it reports each server's CPU time per message (psutil: user +
system of the Rasa process), the figure that does not depend on what else the machine does.
Figures go to docs/benchmarks-rasa.md (the default comparison) or are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil
from aiohttp import web

from app.main import create_app
from app.settings import Settings
from bench.gateway import REDIS_URL, Run, drive, merge, rest_turn
from booking.store import MongoStore
from tests.rasa.server import RASA, RASA_SERVE, RasaServer, ensure_model, free_port, start_rasa

TOKEN = "bench-actions-token-0123456789abcdef"  # noqa: S105 - local bench
DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-rasa.md"
MESSAGES = ["halo", "jam buka klinik kapan?", "saya mau booking dokter gigi di bandung",
            "besok pagi", "jam 10", "batal", "apakah bisa pakai BPJS?", "makasih ya",
            "hai", "booking dokter anak jakarta lusa", "yang pertama", "gak jadi"]


@dataclass(frozen=True)
class Variant:
    name: str
    serve: list[str]
    model: Path | None = None  # None: the project's model
    env: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"model `{self.model.name}`" if self.model else "the project's model"]
        parts += [f"`{k}={v}`" for k, v in self.env.items()]
        return f"{self.name}: " + ", ".join(parts)


PLAIN = Variant("plain `rasa run`", [str(RASA), "run"])
LAUNCH = Variant("rasa_env/launch.py", RASA_SERVE)
DEFAULT = [PLAIN, LAUNCH]  # the comparison docs/benchmarks-rasa.md holds


def cpu_seconds(server: RasaServer) -> float:
    times = psutil.Process(server.process.pid).cpu_times()
    return float(times.user + times.system)


async def main(users: int, messages: int, rounds: int, model_path: str | None,
               variants: list[Variant]) -> str:
    model = Path(model_path) if model_path else await asyncio.to_thread(ensure_model)
    action_port = free_port()
    url = f"http://127.0.0.1:{action_port}/webhook/actions"
    servers = {v.name: await asyncio.to_thread(start_rasa, v.model or model, url,
                                               action_token=TOKEN, serve=v.serve, env=v.env)
               for v in variants}
    store = MongoStore.from_url(None)
    settings = Settings(roles="actions", actions_port=action_port, actions_token=TOKEN,
                        redis_url=REDIS_URL, redis_namespace=f"bench:{uuid.uuid4().hex[:8]}:",
                        load_demo_data=True, log_level="WARNING")
    runner = web.AppRunner(create_app(settings, store=store), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", free_port()).start()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
    results: list[Run] = []
    cpu: dict[tuple[str, int], float] = {}

    def sender(server: RasaServer):  # noqa: ANN202 - a closure for drive()
        async def one(wa: str, text: str) -> float:
            return await rest_turn(session, server.url, wa, text)
        return one

    try:
        for name, server in servers.items():  # warm-up: TF graphs, connections
            await drive(f"warm-up {name}", 2, 4, sender(server), MESSAGES)
        load_before = os.getloadavg()
        order = list(servers)
        for r in range(rounds):
            for n_users in (1, users):
                for name in order if r % 2 == 0 else order[::-1]:
                    before = cpu_seconds(servers[name])
                    results.append(await drive(name, n_users, messages,
                                               sender(servers[name]), MESSAGES))
                    key = (name, n_users)
                    cpu[key] = cpu.get(key, 0.0) + cpu_seconds(servers[name]) - before
        load_after = os.getloadavg()
    finally:
        await session.close()
        await runner.cleanup()
        for server in servers.values():
            await asyncio.to_thread(server.stop)
        store.close()
    return report(results, cpu, (users, messages, rounds), variants, model,
                  (load_before[0], load_after[0]))


def report(results: list[Run], cpu: dict[tuple[str, int], float],
           size: tuple[int, int, int], variants: list[Variant], model: Path,
           load: tuple[float, float]) -> str:
    users, messages, rounds = size
    default = variants == DEFAULT
    lines = [
        f"# Benchmark: Rasa's cost per message, {variants[0].name} vs {variants[1].name}",
        "",
        f"Run `.venv/bin/python -m bench.rasa_cost --users {users} --messages {messages} "
        f"--rounds {rounds}` on {platform.machine()}, {os.cpu_count()} CPUs"
        + ("." if default else f", project model `{model.name}`, with:"),
        *([] if default else [""] + [f"- {v.describe()}" for v in variants] + [""]),
        ("Both Rasa 3.6 servers load the same model and" if default
         else "Both servers run through rasa_env/launch.py and")
        + " call the same action server (the app's actions role, mongomock, demo clinics); "
        "runs alternate between them. The messages mix small talk, FAQ and booking turns.",
        f"Machine load average (1 min) before/after: {load[0]:.1f} / {load[1]:.1f}.",
        "",
        "| server | patients | messages | p50 ms | p95 ms | msg/s | Rasa CPU ms per message "
        "| errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in dict.fromkeys((r.name, r.users) for r in results):
        merged = merge([r for r in results if (r.name, r.users) == key])
        per_msg = 1000 * cpu[key] / max(1, len(merged.latencies_ms))
        lines.append(f"| {key[0]} | {key[1]} | {len(merged.latencies_ms)} | "
                     f"{merged.pct(0.5):.1f} | {merged.pct(0.95):.1f} | "
                     f"{merged.throughput:.1f} | {per_msg:.1f} | {merged.errors} |")
    lines.append("")
    return "\n".join(lines)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--messages", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", help="a trained model (default: train if stale)")
    parser.add_argument("--candidate-model", type=Path,
                        help="compare launch.py on --model with launch.py on this model")
    parser.add_argument("--candidate-env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment for the candidate server (repeatable)")
    parser.add_argument("--candidate-name", default="candidate")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    variants = DEFAULT
    if args.candidate_model or args.candidate_env:
        env = dict(item.split("=", 1) for item in args.candidate_env)
        variants = [LAUNCH, Variant(args.candidate_name, RASA_SERVE, args.candidate_model, env)]
    text = asyncio.run(main(args.users, args.messages, args.rounds, args.model, variants))
    print(text)  # noqa: T201
    if not args.no_write and variants == DEFAULT:
        DOC.write_text(text)


if __name__ == "__main__":
    cli()
