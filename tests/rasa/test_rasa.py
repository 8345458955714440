"""Tests with the real Rasa (marked `rasa`): data validation, NLU quality gate, test stories,
and end-to-end conversations through the REST channel against the real app and store.

The model is trained on first use (`scripts/rasa_model.py ensure`), so plain `pytest` works.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from pydantic import SecretStr

from app.main import create_app
from app.settings import Settings
from booking.locks import Coordinator
from booking.models import BookingStatus, Doctor
from booking.service import Booked, BookingService
from booking.store import MongoStore, Store
from bot.retrain.rasa_proc import rasa_env
from notify.rules import BookingNotices
from tests.conftest import REDIS_TEST_URL
from tests.rasa.server import RASA, TEST_ACTIONS_TOKEN, RasaServer

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(1500)]
ROOT = Path(__file__).resolve().parents[2]


def run_rasa(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RASA), *args], cwd=ROOT, env=rasa_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)


# ---- data and model quality -------------------------------------------------------------
def test_rasa_data_validate_is_clean() -> None:
    proc = run_rasa("data", "validate", "--data", "nlu", "dialogue", "--domain", "domain.yml",
                    "--config", "config.yml")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    warnings = re.findall(r"UserWarning: (.*?)(?:\n|$)", output)
    actions_source = "\n".join(p.read_text() for p in (ROOT / "actions").glob("*.py"))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    form_questions = {f"utter_ask_{slot}" for form in domain["forms"].values()
                      for slot in form["required_slots"]}
    unexpected = []
    for warning in warnings:
        used_by_action = re.match(r"The utterance '(utter_\w+)' is not used in any story", warning)
        if used_by_action and (f'"{used_by_action.group(1)}"' in actions_source
                               or used_by_action.group(1) in form_questions):
            continue  # sent by custom actions or asked by a form: never in stories
        if warning.startswith("The following duplicated intents have been found across "
                              "multiple domain files: faq"):
            continue  # Rasa 3.6 adds the retrieval intent from the NLU data a second time
        unexpected.append(warning)
    assert unexpected == []
    assert "is not used in any story or rule" not in " ".join(
        w for w in warnings if w.startswith("The intent"))


def test_nlu_quality_gate() -> None:
    """Held-out set: intent macro-F1 and specialty/city entity F1 >= 0.90 (docs/nlu.md)."""
    proc = subprocess.run([sys.executable, "scripts/rasa_model.py", "test-nlu"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1400, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    report = (ROOT / "docs" / "nlu.md").read_text()
    assert "intent macro-F1" in report and "| inform |" in report


def test_core_stories_pass(rasa_model: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="rasa-test-core-") as out:
        proc = run_rasa("test", "core", "--stories", "tests/rasa/test_stories.yml",
                        "--model", str(rasa_model), "--fail-on-prediction-errors", "--out", out,
                        "--no-plot")
        failed = Path(out) / "failed_test_stories.yml"
        details = failed.read_text() if failed.exists() else ""
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:] + details[-3000:]


# ---- end to end: REST channel -> Rasa -> app actions endpoint -> booking store -------------
@pytest.fixture
async def app_service(sync_store: MongoStore, doctor: Doctor, redis_namespace: str,
                      coordinator: Coordinator, rasa_action_port: int
                      ) -> AsyncIterator[BookingService]:
    """The real app (actions role) on the port Rasa calls; returns a service on the same data."""
    settings = Settings(roles="actions", redis_url=SecretStr(REDIS_TEST_URL),
                        redis_namespace=redis_namespace, load_demo_data=False,
                        actions_port=rasa_action_port, actions_token=TEST_ACTIONS_TOKEN)
    runner = web.AppRunner(create_app(settings, store=sync_store))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)  # the public port: not what Rasa calls
    await site.start()
    try:
        yield BookingService(Store(sync_store), coordinator,  # real clock, like the app
                             notices=BookingNotices())
    finally:
        await runner.cleanup()


def new_sender() -> str:
    return "62813" + str(uuid.uuid4().int)[:8]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def first_button(messages: list[dict[str, Any]], index: int = 0) -> str:
    buttons = [b for m in messages for b in (m.get("buttons") or [])]
    assert buttons, f"no buttons in {messages}"
    return str(buttons[index]["payload"])


async def send(rasa: RasaServer, sender: str, text: str, **meta: Any) -> list[dict[str, Any]]:
    import asyncio

    return await asyncio.to_thread(rasa.send, sender, text, meta or None)


async def test_e2e_booking_conversation(rasa_server: RasaServer, app_service: BookingService,
                                        sync_store: MongoStore, doctor: Doctor) -> None:
    sender = new_sender()
    greeting = await send(rasa_server, sender, "halo kak")
    assert "Klinik Sehat" in texts(greeting)
    ask_day = await send(rasa_server, sender, "mau booking dokter umum di jakarta",
                         senderName="Budi Santoso")
    assert doctor.name in texts(ask_day), ask_day          # the only GP in Jakarta: chosen
    ask_time = await send(rasa_server, sender, first_button(ask_day))
    assert "Jam kosong" in texts(ask_time)
    confirm = await send(rasa_server, sender, first_button(ask_time))
    assert "Konfirmasi booking" in texts(confirm) and "Rp150.000" in texts(confirm)
    done = await send(rasa_server, sender, "iya benar")
    patient = sync_store.find_user(whatsapp=sender)
    assert patient is not None and patient.name == "Budi Santoso"
    bookings, _ = sync_store.find_bookings(patient_id=patient.id)
    assert len(bookings) == 1 and bookings[0].status == BookingStatus.confirmed
    assert bookings[0].ref in texts(done) and "Booking berhasil" in texts(done)


async def test_e2e_cancel_one_of_several(rasa_server: RasaServer, app_service: BookingService,
                                         sync_store: MongoStore, doctor: Doctor) -> None:
    sender = new_sender()
    patient = await app_service.store.users.upsert_whatsapp_patient(sender, "Rina", "id")
    slots = await app_service.earliest([doctor], after=datetime.now(UTC), limit=8)
    made = []
    for _, slot in (slots[4], slots[6]):  # clear of the 2-hour cut-off
        result = await app_service.book(patient.id, doctor.id, slot.start)
        assert isinstance(result, Booked)
        made.append(result.booking)
    listing = await send(rasa_server, sender, "tolong batalkan booking saya")
    assert made[0].ref in texts(listing) and made[1].ref in texts(listing)
    confirm = await send(rasa_server, sender, first_button(listing, index=1))
    assert f"Batalkan booking {made[1].ref}" in texts(confirm)
    done = await send(rasa_server, sender, "ya")
    assert made[1].ref in texts(done)
    assert sync_store.get_booking(made[1].id).status == BookingStatus.cancelled
    assert sync_store.get_booking(made[0].id).status == BookingStatus.confirmed


async def test_e2e_reschedule(rasa_server: RasaServer, app_service: BookingService,
                              sync_store: MongoStore, doctor: Doctor) -> None:
    sender = new_sender()
    patient = await app_service.store.users.upsert_whatsapp_patient(sender, "Joko", "id")
    slots = await app_service.earliest([doctor], after=datetime.now(UTC), limit=6)
    result = await app_service.book(patient.id, doctor.id, slots[5][1].start)
    assert isinstance(result, Booked)
    old = result.booking
    ask_day = await send(rasa_server, sender, "saya mau ganti jadwal booking")
    ask_time = await send(rasa_server, sender, first_button(ask_day))
    payload = first_button(ask_time)
    confirm = await send(rasa_server, sender, payload)
    assert f"Pindahkan booking {old.ref}" in texts(confirm)
    await send(rasa_server, sender, "oke")
    moved = sync_store.get_booking(old.id)
    assert moved.status == BookingStatus.rescheduled and moved.rescheduled_to
    new = sync_store.get_booking(moved.rescheduled_to)
    assert new.status == BookingStatus.confirmed and new.patient_id == patient.id
    assert f"{new.start:%Y-%m-%dT%H:%MZ}" in payload


async def test_e2e_english_and_faq_digression(rasa_server: RasaServer,
                                              app_service: BookingService,
                                              doctor: Doctor) -> None:
    sender = new_sender()
    found = await send(rasa_server, sender,
                       "hi, can you help me find a general practitioner in Jakarta?",
                       senderName="Maya")
    assert "Available doctors" in texts(found) and doctor.name in texts(found)
    ask = await send(rasa_server, sender, first_button(found))  # Book this doctor
    assert "which day" in texts(ask)
    faq = await send(rasa_server, sender, "do you accept BPJS insurance?")
    assert "BPJS" in texts(faq) and "which day" in texts(faq)  # answered, then the form resumes
