"""REST API benchmark: GET /doctors (cached, uncached), GET /doctors/{id}/slots, POST /bookings
under contention. Requests per second and latency percentiles on this machine.

The app runs in this process on 127.0.0.1 (real Redis at REDIS_URL, else the tests' own
redis-server on a free port; the in-process Mongo stand-in with the demo clinic network);
the load generator shares the CPU.

    .venv/bin/python -m bench.api [--requests 2000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from app.http.auth import issue_tokens
from app.main import create_app
from app.settings import Settings
from booking.models import Role, User
from booking.store import MongoStore
from tests import redis_server

REDIS_URL = os.environ.get("REDIS_URL") or redis_server.url()


async def start(settings: Settings, store: MongoStore) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(create_app(settings, store=store), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def measure(name: str, total: int, concurrency: int,
                  call: Callable[[int], Awaitable[int]]) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            status = await call(i)
            latencies.append(time.perf_counter() - t0)
            statuses[status] += 1

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    wall = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"name": name, "requests": total, "concurrency": concurrency,
            "rps": total / wall, "p50_ms": q[49] * 1000, "p95_ms": q[94] * 1000,
            "statuses": dict(sorted(statuses.items()))}


def next_weekday(weekday: int) -> date:
    today = date.today()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


async def main(total: int, concurrency: int, booking_patients: int) -> list[dict[str, Any]]:
    namespace = f"bench:{uuid.uuid4().hex[:8]}:"
    store = MongoStore.from_url(None)
    base: dict[str, Any] = dict(roles="api", redis_url=REDIS_URL, redis_namespace=namespace,
                                load_demo_data=True, login_limit_per_ip=10**6)
    cached_runner, cached_url = await start(Settings(**base), store)
    # A second app and store (same demo data) with the doctors cache switched off.
    store2 = MongoStore.from_url(None)
    uncached_runner, uncached_url = await start(Settings(**base, doctors_cache_seconds=0),
                                                store2)
    settings = Settings(**base)
    results = []
    try:
        async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=concurrency)) as http:
            async def get(url: str) -> int:
                async with http.get(url) as resp:
                    await resp.read()
                    return resp.status

            query = "/doctors?city=Jakarta&page_size=20"
            await get(cached_url + query)  # warm the cache
            results.append(await measure("GET /doctors (cached)", total, concurrency,
                                         lambda i: get(cached_url + query)))
            results.append(await measure("GET /doctors (uncached)", total, concurrency,
                                         lambda i: get(uncached_url + query)))
            monday = next_weekday(0).isoformat()
            results.append(await measure(
                "GET /doctors/{id}/slots?date", total, concurrency,
                lambda i: get(f"{cached_url}/doctors/doc-jak-general-1/slots?date={monday}")))

            # Contention: many patients, few slots (each slot fought over by ~20 patients).
            patients = [User(id=f"bench-p{i}", name=f"Bench {i}", email=f"bench{i}@x.id",
                             whatsapp=f"62813999{i:05d}", role=Role.patient)
                        for i in range(booking_patients)]
            for p in patients:
                store.insert_user(p)
            tokens = [issue_tokens(settings, p)["access_token"] for p in patients]
            async with http.get(f"{cached_url}/doctors/doc-ban-general-1/slots",
                                params={"from": next_weekday(0).isoformat(),
                                        "to": next_weekday(4).isoformat()}) as resp:
                slots = [s["start"] for s in (await resp.json())["slots"]]
            wanted = slots[:max(1, booking_patients // 20)]

            async def book(i: int) -> int:
                async with http.post(f"{cached_url}/bookings",
                                     json={"doctor_id": "doc-ban-general-1",
                                           "start": wanted[i % len(wanted)]},
                                     headers={"Authorization": f"Bearer {tokens[i]}"}) as resp:
                    await resp.read()
                    return resp.status

            results.append(await measure(f"POST /bookings ({booking_patients} patients, "
                                         f"{len(wanted)} slots)", booking_patients,
                                         concurrency, book))
    finally:
        await cached_runner.cleanup()
        await uncached_runner.cleanup()
        redis = Redis.from_url(REDIS_URL)
        keys = [k async for k in redis.scan_iter(match=namespace + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        store.close()
        store2.close()
    return results


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--booking-patients", type=int, default=400)
    args = parser.parse_args()
    results = asyncio.run(main(args.requests, args.concurrency, args.booking_patients))
    print(f"{'scenario':48} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}  statuses")  # noqa: T201
    for r in results:
        print(f"{r['name']:48} {r['rps']:8.0f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f}  "  # noqa: T201
              f"{r['statuses']}")


if __name__ == "__main__":
    run()
