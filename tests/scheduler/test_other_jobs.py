"""Outbox dispatch (lazy import, backoff), the doctor's morning agenda, the message builders."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from booking.models import Role, User
from booking.store import MongoStore
from notify.rules import agenda_entry, reminder_entry
from scheduler.jobs import DispatchJob, Jobs
from tests.conftest import Clock, make_doctor
from tests.scheduler.conftest import START, make_booking

H = timedelta(hours=1)


class FakeDispatcher:
    """Sends `batches` in turn; raises while `failing` > 0."""

    def __init__(self, batches: list[int], failing: int = 0) -> None:
        self.batches = list(batches)
        self.failing = failing
        self.calls: list[int] = []
        self.closed = 0

    async def close(self) -> None:
        self.closed += 1

    async def run_once(self, *, limit: int = 100) -> int:
        self.calls.append(limit)
        if self.failing:
            self.failing -= 1
            raise ConnectionError("wati down")
        return self.batches.pop(0) if self.batches else 0


async def test_dispatch_drains_full_batches() -> None:
    fake = FakeDispatcher([100, 100, 37, 5])
    job = DispatchJob(fake, base=timedelta(seconds=5))
    assert await job.run() == 237          # full batches are followed at once, then it waits
    assert fake.calls == [100, 100, 100]
    assert await job.run() == 5


async def test_dispatch_backs_off_after_failures(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(datetime(2026, 12, 7, tzinfo=UTC))
    fake = FakeDispatcher([3, 4], failing=3)
    job = DispatchJob(fake, base=timedelta(seconds=5), cap=timedelta(seconds=15), clock=clock)
    with caplog.at_level(logging.WARNING, logger="scheduler.jobs"):
        assert await job.run() == 0                     # failure 1: pause 5 s
    assert "ConnectionError" in caplog.text and "wati down" not in caplog.messages[0]
    clock.advance(seconds=4)
    assert await job.run() == 0 and len(fake.calls) == 1   # still pausing: not even tried
    clock.advance(seconds=1)
    assert await job.run() == 0 and len(fake.calls) == 2   # failure 2: pause 10 s
    clock.advance(seconds=9)
    assert await job.run() == 0 and len(fake.calls) == 2
    clock.advance(seconds=1)
    assert await job.run() == 0 and len(fake.calls) == 3   # failure 3: pause capped at 15 s
    assert job.resume_at == clock.now + timedelta(seconds=15)
    clock.advance(seconds=15)
    assert await job.run() == 3 and job.failures == 0 and job.resume_at is None
    assert await job.run() == 4


async def test_doctor_agenda_each_morning_once(make_jobs: Callable[..., Jobs],
                                               sync_store: MongoStore, clock: Clock,
                                               patients: list[User]) -> None:
    doctor = make_doctor(whatsapp="6281311112222")
    sync_store.upsert_doctor(doctor)
    sync_store.upsert_doctor(make_doctor(id="doc-quiet", name="dr. Sepi", whatsapp="6281300000001"))
    jobs = make_jobs(doctor_agenda_enabled=True, doctor_agenda_hour=6)
    # Thursday 10 Dec: 09:00 and 10:30 WIB; one on Friday; one cancelled-looking other doctor
    make_booking(sync_store, start=START + 90 * timedelta(minutes=1), created=START - 72 * H,
                 patient_id="pat-1")
    make_booking(sync_store, start=START, created=START - 72 * H, patient_id="pat-0")
    make_booking(sync_store, start=START + 24 * H, created=START - 72 * H, patient_id="pat-2")

    clock.now = datetime(2026, 12, 9, 22, 59, tzinfo=UTC)   # 05:59 WIB: not yet
    assert await jobs.doctor_agenda() == 0
    clock.now = datetime(2026, 12, 9, 23, 5, tzinfo=UTC)    # 06:05 WIB
    assert await jobs.doctor_agenda() == 1
    clock.advance(minutes=10)
    assert await jobs.doctor_agenda() == 0                  # once a day
    docs = list(sync_store.outbox.find({"kind": "doctor_daily_agenda"}))
    assert len(docs) == 1
    doc = docs[0]
    assert doc["dedupe_key"] == "doctor_daily_agenda:doc-test-1:2026-12-10"
    assert doc["to"] == "6281311112222" and doc["template"] == "doctor_daily_agenda"
    assert doc["text"].splitlines() == [
        "Agenda hari ini, Kamis, 10 Desember 2026: 2 pasien.",
        f"09:00 WIB Pasien ({sync_store.find_bookings(patient_id='pat-0')[0][0].ref})",
        f"10:30 WIB Pasien ({sync_store.find_bookings(patient_id='pat-1')[0][0].ref})"]
    assert doc["params"]["count"] == "2"
    # the next morning: Friday's agenda
    clock.advance(hours=24)
    assert await jobs.doctor_agenda() == 1


def test_agenda_is_off_by_default(make_jobs: Callable[..., Jobs]) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone=UTC)
    names = make_jobs().register(scheduler)
    assert "doctor_agenda" not in names
    assert {j.id for j in scheduler.get_jobs()} == {"sweep_reminders", "flush_pending_outbox",
                                                     "repair_reschedules", "complete_past",
                                                     "dispatch_outbox"}
    assert "doctor_agenda" in make_jobs(doctor_agenda_enabled=True).register(scheduler)


def test_builders_without_contact_return_none() -> None:
    doctor = make_doctor()
    nobody = User(id="x", name="Tanpa Nomor", role=Role.patient)
    from booking.models import Booking

    booking = Booking(ref="ABC123", patient_id="x", doctor_id=doctor.id, start=START,
                      end=START + H / 2, created_at=START - 48 * H, updated_at=START - 48 * H)
    assert reminder_entry(booking, doctor, nobody, kind="24h", now=START - 24 * H,
                          late=False) is None
    assert agenda_entry(doctor, None, START.date(), [booking], {}, now=START) is None
    with_email = nobody.model_copy(update={"email": "pasien@example.org"})
    entry = reminder_entry(booking, doctor, with_email, kind="2h", now=START - 2 * H, late=True)
    assert entry is not None and entry["to"] is None and entry["email"] == "pasien@example.org"
    assert entry["dedupe_key"] == f"appointment_reminder:{booking.id}:2h"
    assert entry["reminder"] == {"kind": "2h", "late": True}
    assert "Tanpa" not in entry["text"]  # the patient's name is not needed in the reminder
