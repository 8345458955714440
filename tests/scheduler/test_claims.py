"""Atomic claims and crash recovery: a reminder claimed by an instance that dies before it is
sent goes out exactly once after the claim expires. With a real MongoDB (MONGODB_URL) the crash
is a real OS process that claims and then exits with os._exit(1)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from booking import store_reminders
from booking.locks import Coordinator
from booking.models import BookingStatus, User
from booking.service import BookingService
from booking.store import MongoStore, Store
from booking.store_reminders import claim, reminder_state
from notify.rules import BookingNotices, reminder_entry
from scheduler.jobs import Jobs
from tests.conftest import Clock, make_doctor
from tests.scheduler.conftest import START, make_booking, reminder_docs, scheduler_settings
from tests.wire_mongodb import WireMongo

H = timedelta(hours=1)
TTL = timedelta(minutes=5)
ROOT = Path(__file__).resolve().parents[2]


async def test_claim_is_exclusive_until_it_expires(sync_store: MongoStore, doctor: object,
                                                   patients: list[User]) -> None:
    booking = make_booking(sync_store, start=START, created=START - 48 * H)
    now = START - 24 * H
    rstore = Store(sync_store).reminders
    first = await rstore.claim(booking.id, "24h", token="a", now=now, ttl=TTL)
    assert first is not None and first.reminders["24h"]["token"] == "a"
    assert await rstore.claim(booking.id, "24h", token="b", now=now, ttl=TTL) is None
    assert await rstore.claim(booking.id, "24h", token="b", now=now + TTL - timedelta(seconds=1),
                              ttl=TTL) is None
    # another kind of the same booking is independent
    assert await rstore.claim(booking.id, "2h", token="b", now=now, ttl=TTL) is not None
    # expired: the next instance takes it over; the first can no longer close it
    taken = await rstore.claim(booking.id, "24h", token="b", now=now + TTL, ttl=TTL)
    assert taken is not None and taken.reminders["24h"]["token"] == "b"
    assert await rstore.mark_sent([booking.id], "24h", token="a", now=now, late=False) == 0
    assert await rstore.mark_sent([booking.id], "24h", token="b", now=now, late=False) == 1
    # done: nobody claims it again, however late
    assert await rstore.claim(booking.id, "24h", token="c", now=now + 10 * TTL, ttl=TTL) is None


async def test_claim_refuses_inactive_or_started(sync_store: MongoStore, doctor: object,
                                                 patients: list[User]) -> None:
    cancelled = make_booking(sync_store, start=START, created=START - 48 * H,
                             status=BookingStatus.cancelled)
    active = make_booking(sync_store, start=START + H, created=START - 48 * H)
    assert claim(sync_store, cancelled.id, "24h", token="a", now=START - 24 * H, ttl=TTL) is None
    assert claim(sync_store, active.id, "24h", token="a", now=START + H, ttl=TTL) is None


async def test_crash_between_claim_and_enqueue_recovers_once(
        jobs: Jobs, sync_store: MongoStore, clock: Clock, doctor: object,
        patients: list[User]) -> None:
    clock.now = START - 48 * H
    booking = make_booking(sync_store, start=START, created=clock.now)
    clock.now = START - 24 * H
    # an instance claims through the store API, then dies (the claim is simply abandoned)
    assert claim(sync_store, booking.id, "24h", token="dead", now=clock.now,
                 ttl=jobs.reminders.config.claim_ttl) is not None

    report = await jobs.sweep_reminders()  # the claim is still live: hands off
    assert report.handed_over == 0 and reminder_docs(sync_store) == []
    clock.advance(minutes=4)
    assert (await jobs.sweep_reminders()).handed_over == 0

    clock.advance(minutes=1)  # the claim has expired
    report = await jobs.sweep_reminders()
    assert report.outcomes == {"sent": 1}
    assert [d["dedupe_key"] for d in reminder_docs(sync_store)] == [
        f"appointment_reminder:{booking.id}:24h"]
    assert reminder_state(sync_store, booking.id, "24h")["state"] == "sent"
    clock.advance(hours=1)
    assert (await jobs.sweep_reminders()).handed_over == 0
    assert len(reminder_docs(sync_store)) == 1


async def test_crash_between_enqueue_and_close_recovers_once(
        jobs: Jobs, sync_store: MongoStore, clock: Clock, doctor: object,
        patients: list[User]) -> None:
    clock.now = START - 48 * H
    booking = make_booking(sync_store, start=START, created=clock.now)
    clock.now = START - 24 * H
    claimed = claim(sync_store, booking.id, "24h", token="dead", now=clock.now, ttl=TTL)
    assert claimed is not None
    entry = reminder_entry(claimed, sync_store.get_doctor(booking.doctor_id), patients[0],
                           kind="24h", now=clock.now, late=False)
    assert entry is not None
    assert sync_store.enqueue([entry]) == 1  # handed to the outbox, then the process died

    clock.advance(minutes=6)
    report = await jobs.sweep_reminders()
    assert report.claimed == 1 and report.enqueued == 0  # the dedupe key kept it single
    assert len(reminder_docs(sync_store)) == 1
    assert reminder_state(sync_store, booking.id, "24h")["state"] == "sent"


CRASHER = textwrap.dedent("""
    import os, sys
    from datetime import datetime, timedelta
    from booking.store import MongoStore
    from booking.store_reminders import claim
    url, db, booking_id, now = sys.argv[1:5]
    store = MongoStore.from_url(url, db_name=db)
    won = claim(store, booking_id, "24h", token="crasher", now=datetime.fromisoformat(now),
                ttl=timedelta(minutes=5))
    print("claimed" if won else "lost", flush=True)
    os._exit(1)  # dies between claim and enqueue: no cleanup, no enqueue
""")


async def test_killed_process_between_claim_and_enqueue(coordinator: Coordinator,
                                                       wire_mongodb: WireMongo) -> None:
    """A real OS process claims a reminder and dies (os._exit) before enqueueing it."""
    wire_mongodb.skip_unless_real("$not in the reminder sweep's claim filter")
    sync_store = MongoStore.from_url(wire_mongodb.url, db_name=f"test_{uuid.uuid4().hex[:12]}")
    sync_store.ensure_indexes()
    clock = Clock(START - 24 * H)
    try:
        sync_store.upsert_doctor(make_doctor())
        sync_store.insert_user(User(id="pat-0", name="Pasien 0", whatsapp="6281200000000"))
        booking = make_booking(sync_store, start=START, created=START - 48 * H)
        proc = subprocess.run(  # noqa: S603
            [sys.executable, "-c", CRASHER, wire_mongodb.url, sync_store.db.name, booking.id,
             clock.now.isoformat()], cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 1 and proc.stdout.strip() == "claimed", proc.stderr
        assert reminder_state(sync_store, booking.id, "24h")["token"] == "crasher"

        store = Store(sync_store)
        jobs = Jobs(scheduler_settings(), store,
                    BookingService(store, coordinator,
                                   notices=BookingNotices(), clock=clock), clock=clock)
        await jobs.prepare()
        assert (await jobs.sweep_reminders()).handed_over == 0  # claim still live
        clock.advance(minutes=5)
        assert (await jobs.sweep_reminders()).outcomes == {"sent": 1}
        clock.advance(minutes=30)
        assert (await jobs.sweep_reminders()).handed_over == 0
        assert len(reminder_docs(sync_store)) == 1
    finally:
        sync_store.client.drop_database(sync_store.db.name)
        sync_store.close()


def test_kinds_are_validated() -> None:
    with pytest.raises(ValueError):
        store_reminders.sweep_query("24h.$where", after=START, until=START, now=START)
