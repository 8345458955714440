"""Two gateway processes (separate OS processes, `python -m app --roles bot`) share the webhook
load on one MongoDB wire server and one Redis: every WhatsApp message is answered exactly
once even when Wati delivers it to both (a retry landing on the other replica), and a
sender's messages stay in order when the load balancer keeps each sender on one replica."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from booking.crypto import new_key_b64
from sandbox import WatiSandbox
from tests.bot.conftest import API_TOKEN, FakeRasa, answers, free_port, is_notice
from tests.conftest import REDIS_TEST_URL, drop_namespace
from tests.wire_mongodb import WireMongo

ROOT = Path(__file__).resolve().parents[2]
HOOK = "hook-token-for-two-gateways-0123456789"  # noqa: S105
SENDERS, MESSAGES = 30, 4
# Production mode (a configured MongoDB) needs data keys; both gateways share the same ones.
DATA_KEYS = {"KLINIK_DATA_KEYS": f"t1:{new_key_b64()}", "KLINIK_DATA_INDEX_KEY": new_key_b64()}


def _gateway(port: int, mongo_url: str, namespace: str, wati: str, rasa: str, log: Path
             ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KLINIK_ROLES": "bot", "KLINIK_APP_PORT": str(port),
           "KLINIK_ACTIONS_PORT": "0", "KLINIK_MONGODB_URL": mongo_url,
           "KLINIK_REDIS_URL": REDIS_TEST_URL, "KLINIK_REDIS_NAMESPACE": namespace,
           "KLINIK_WATI_API_URL": wati, "KLINIK_WATI_API_TOKEN": API_TOKEN,
           "KLINIK_WATI_WEBHOOK_TOKEN": HOOK, "KLINIK_RASA_URL": rasa,
           "KLINIK_JWT_SECRET": "j" * 40, "KLINIK_ACTIONS_TOKEN": "a" * 40,
           "KLINIK_RASA_TOKEN": "r" * 40, "KLINIK_LOG_LEVEL": "WARNING", **DATA_KEYS}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT,  # noqa: S603
                                env=env, stdout=out, stderr=subprocess.STDOUT)


async def _healthy(session: aiohttp.ClientSession, port: int, proc: subprocess.Popen[bytes],
                   log: Path) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-2000:])
        try:
            async with session.get(f"http://127.0.0.1:{port}/health") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("gateway did not start")


@pytest.mark.timeout(180)
async def test_two_gateway_processes_share_the_webhooks(wire_mongodb: WireMongo,
                                                        tmp_path: Path) -> None:
    namespace = f"test:{uuid.uuid4().hex[:12]}:"
    db_url = wire_mongodb.url.rstrip("/") + f"/gw_{uuid.uuid4().hex[:10]}"
    sandbox = await WatiSandbox(token=API_TOKEN, status_webhooks=False).start()
    rasa = await FakeRasa(delay_s=0.01).start()
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"gateway-{i}.log" for i in range(2)]
    procs = [_gateway(p, db_url, namespace, sandbox.url, rasa.url, log)
             for p, log in zip(ports, logs, strict=True)]
    try:
        async with aiohttp.ClientSession() as session:
            for port, proc, log in zip(ports, procs, logs, strict=True):
                await _healthy(session, port, proc, log)
            senders = [f"62812{7000000 + i:07d}" for i in range(SENDERS)]

            async def deliver(index: int, wa: str) -> None:
                home = ports[index % 2]  # the load balancer keeps a sender on one replica
                for n in range(MESSAGES):
                    body = sandbox.inbound_payload(wa, text=f"pesan {n}", name="Budi")
                    for port in (home, *([p for p in ports if p != home] if n % 2 else [])):
                        # odd messages are also redelivered to the other replica (a retry)
                        async with session.post(
                                f"http://127.0.0.1:{port}/whatsapp/webhook?token={HOOK}",
                                json=body) as resp:
                            assert resp.status == 200, await resp.text()

            await asyncio.gather(*(deliver(i, wa) for i, wa in enumerate(senders)))
            expected = SENDERS * MESSAGES + SENDERS  # + each sender's privacy notice
            for _ in range(600):
                if len(sandbox.state.sent) >= expected:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # a duplicate would arrive now
        texts = Counter((s["to"], s.get("text")) for s in sandbox.state.sent)
        assert sum(texts.values()) == expected
        assert all(n == 1 for n in texts.values()), texts.most_common(3)
        for wa in senders:
            assert [m["text"] for m in answers(sandbox.sent_to(wa))] == \
                [f"echo: pesan {n}" for n in range(MESSAGES)]
            assert sum(map(is_notice, sandbox.sent_to(wa))) == 1
        assert Counter(s for s, _, _ in rasa.calls) == {wa: MESSAGES for wa in senders}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        await sandbox.stop()
        await rasa.stop()
        await drop_namespace(namespace)
