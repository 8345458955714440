"""The Wati client against the sandbox: v3 and v1, failures, retries, masking."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from tenacity import RetryCallState

from notify.whatsapp import (
    WatiClient,
    WatiRejected,
    WatiTransient,
    _retry_after,
    business_failure,
)
from notify.whatsapp_messages import Buttons, ListMessage, Row
from sandbox import WatiSandbox
from tests.bot.conftest import API_TOKEN

WA = "6281234567890"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def client(session: aiohttp.ClientSession, box: WatiSandbox, version: str = "v3",
           **kw: Any) -> WatiClient:
    kw.setdefault("backoff_s", 0.001)
    kw.setdefault("timeout", aiohttp.ClientTimeout(total=None, connect=1, sock_read=0.3))
    return WatiClient(session, box.url, API_TOKEN, version=version, **kw)


@pytest.mark.parametrize("version", ["v3", "v1"])
async def test_every_kind_of_send_is_accepted(session: aiohttp.ClientSession,
                                              sandbox: WatiSandbox, version: str) -> None:
    sandbox.enforce_window = False
    wati = client(session, sandbox, version)
    text = await wati.send_text(WA, "Halo 👋 " + "x" * 4000)
    buttons = await wati.send(WA, Buttons("Pilih:", ("Ya", "Tidak")))
    listed = await wati.send(WA, ListMessage("Dokter:", "Lihat", "Pilihan",
                                             (Row("dr. A", "Umum"), Row("dr. B"))))
    template = await wati.send_template(WA, "booking_cancelled", {
        "name": "Budi", "ref": "K7M-4QX", "doctor": "dr. A", "date": "Senin", "time": "09:00"},
        broadcast_name="booking_cancelled_20261207", local_message_id="entry-1")
    ops = [(s["api"], s["op"]) for s in sandbox.sent]
    assert ops == [(version, "text"), (version, "buttons"), (version, "list"),
                   (version, "template")]
    assert sandbox.sent[0]["text"].endswith("x" * 4000)
    assert sandbox.sent[1]["buttons"] == ["Ya", "Tidak"]
    assert [r["title"] for r in sandbox.sent[2]["rows"]] == ["dr. A", "dr. B"]
    assert sandbox.sent[3]["text"].startswith("Halo Budi, booking K7M-4QX")
    assert text.message_id == sandbox.sent[0]["message_id"]
    assert buttons.message_id and listed.message_id
    if version == "v3":
        assert template.message_id == "entry-1"
    assert "entry-1" in template.ids


async def test_wrong_token_is_a_permanent_failure(session: aiohttp.ClientSession,
                                                  sandbox: WatiSandbox) -> None:
    wati = WatiClient(session, sandbox.url, "wrong", backoff_s=0.001)
    with pytest.raises(WatiRejected):
        await wati.send_text(WA, "hi")
    assert len(sandbox.state.attempts) == 1  # 4xx: never retried


async def test_200_with_result_false_is_a_failure_and_not_retried(
        session: aiohttp.ClientSession, sandbox: WatiSandbox) -> None:
    wati = client(session, sandbox, "v1")
    with pytest.raises(WatiRejected, match="result=false"):
        await wati.send_template(WA, "no_such_template", {}, broadcast_name="b",
                                 local_message_id="x")
    assert len(sandbox.state.attempts) == 1 and sandbox.state.sent == []


async def test_v3_recipient_errors_are_failures(session: aiohttp.ClientSession,
                                                sandbox: WatiSandbox) -> None:
    wati = client(session, sandbox)
    with pytest.raises(WatiRejected, match="missing parameters"):
        await wati.send_template(WA, "booking_confirmation", {"name": "Budi"},
                                 broadcast_name="b", local_message_id="x")


@pytest.mark.parametrize("mode", ["error", "timeout", "ratelimit"])
async def test_transient_failures_are_retried_then_succeed(
        session: aiohttp.ClientSession, sandbox: WatiSandbox, mode: str) -> None:
    sandbox.enforce_window = False
    sandbox.fail(mode, count=2, retry_after=0.01, delay_s=1.0)
    result = await client(session, sandbox, attempts=3).send_text(WA, "hi")
    assert result.message_id
    assert len(sandbox.state.attempts) == 3 and len(sandbox.state.sent) == 1


async def test_transient_failures_give_up_after_the_attempts(
        session: aiohttp.ClientSession, sandbox: WatiSandbox) -> None:
    sandbox.fail("error", status=503)
    with pytest.raises(WatiTransient) as info:
        await client(session, sandbox, attempts=2).send_text(WA, "hi")
    assert info.value.status == 503
    assert len(sandbox.state.attempts) == 2


async def test_rejections_from_the_api_are_not_retried(session: aiohttp.ClientSession,
                                                       sandbox: WatiSandbox) -> None:
    sandbox.fail("reject", status=400)
    with pytest.raises(WatiRejected):
        await client(session, sandbox, attempts=5).send_text(WA, "hi")
    assert len(sandbox.state.attempts) == 1


def test_retry_after_is_honoured_by_the_wait() -> None:
    wati = WatiClient(None, "http://x", "t", backoff_s=0.1)  # type: ignore[arg-type]
    state = RetryCallState(None, None, (), {})  # type: ignore[arg-type]
    state.attempt_number = 1
    state.set_exception((WatiTransient, WatiTransient("429", status=429, retry_after=7.0), None))
    assert wati._wait(state) == 7.0
    state.set_exception((WatiTransient, WatiTransient("500", status=500), None))
    assert 0.05 <= wati._wait(state) <= 0.1  # backoff with jitter
    assert _retry_after("3") == 3.0 and _retry_after("junk") is None
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_business_failure_shapes() -> None:
    assert business_failure({"result": False, "info": "x"})
    assert business_failure({"ok": False})
    assert business_failure({"success": False, "error": "quota"})
    assert business_failure({"success": True, "recipients": [{"errors": ["bad"]}]})
    assert business_failure({"result": True, "receivers": [{"isValidWhatsAppNumber": False}]})
    assert business_failure({"result": True}) is None
    assert business_failure({"message": {"id": "1"}}) is None


async def test_numbers_are_masked_in_logs(session: aiohttp.ClientSession, sandbox: WatiSandbox,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    sandbox.fail("error", count=1)
    sandbox.enforce_window = False
    await client(session, sandbox, version="v1").send_text(WA, "hi")
    assert caplog.records
    assert all(WA not in r.getMessage() for r in caplog.records)
    assert any("62*********90" in r.getMessage() for r in caplog.records)
