"""The reminder sweep on a controllable clock: on time, short notice, catch-up, stale, second
reminder, cancelled and rescheduled bookings, unreachable patients, metrics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from booking.models import BookingStatus, Role, User
from booking.service import Actor, Booked, BookingService
from booking.store import MongoStore
from booking.store_reminders import reminder_state
from scheduler.jobs import Jobs
from tests.conftest import Clock
from tests.scheduler.conftest import START, make_booking, metric, reminder_docs

H = timedelta(hours=1)


async def test_reminder_sent_once_when_due(jobs: Jobs, sync_store: MongoStore, clock: Clock,
                                           doctor: object, patients: list[User]) -> None:
    clock.now = START - 48 * H
    booking = make_booking(sync_store, start=START, created=clock.now)
    sent_before = metric("sent")

    clock.now = START - 24 * H - timedelta(minutes=1)
    assert (await jobs.sweep_reminders()).handed_over == 0
    assert reminder_docs(sync_store) == []

    clock.advance(minutes=1)
    report = await jobs.sweep_reminders()
    assert report.outcomes == {"sent": 1}
    docs = reminder_docs(sync_store)
    assert len(docs) == 1
    doc = docs[0]
    assert doc["dedupe_key"] == f"appointment_reminder:{booking.id}:24h"
    assert doc["template"] == "appointment_reminder"
    assert doc["booking_id"] == booking.id and doc["to"] == patients[0].whatsapp
    assert doc["status"] == "pending" and doc["reminder"] == {"kind": "24h", "late": False}
    assert doc["params"]["ref"] == booking.ref and doc["params"]["time"] == "09:00 WIB"
    assert doc["text"].startswith("Pengingat: besok Anda ada jadwal dengan dr. Test Satu")
    assert "Hadir / Ubah jadwal / Batal" in doc["text"]
    state = reminder_state(sync_store, booking.id, "24h")
    assert state is not None and state["state"] == "sent" and state["late"] is False
    assert metric("sent") == sent_before + 1

    for minutes in (1, 30, 600):  # later sweeps: nothing more
        clock.advance(minutes=minutes)
        assert (await jobs.sweep_reminders()).handed_over == 0
    assert len(reminder_docs(sync_store)) == 1


async def test_short_notice_gets_no_reminder(jobs: Jobs, sync_store: MongoStore, clock: Clock,
                                             doctor: object, patients: list[User]) -> None:
    clock.now = START - 10 * H
    booking = make_booking(sync_store, start=START, created=clock.now)
    skipped_before = metric("short_notice")
    report = await jobs.sweep_reminders()
    assert report.outcomes == {"short_notice": 1}
    assert reminder_docs(sync_store) == []
    assert reminder_state(sync_store, booking.id, "24h")["reason"] == "short_notice"
    clock.advance(hours=9)
    assert (await jobs.sweep_reminders()).outcomes == {}  # decided once, counted once
    assert metric("short_notice") == skipped_before + 1


async def test_catch_up_after_downtime_sends_late_and_skips_stale(
        jobs: Jobs, sync_store: MongoStore, clock: Clock, doctor: object,
        patients: list[User]) -> None:
    clock.now = START - 72 * H
    future = make_booking(sync_store, start=START, created=clock.now)
    started = make_booking(sync_store, start=START - 5 * H, created=clock.now,
                           patient_id="pat-1")
    late_before, stale_before = metric("late"), metric("stale")

    clock.now = START - 3 * H  # the scheduler was down for the last 21 hours
    report = await jobs.sweep_reminders()
    assert report.outcomes == {"late": 1, "stale": 1}
    docs = reminder_docs(sync_store)
    assert [d["booking_id"] for d in docs] == [future.id]
    assert docs[0]["reminder"]["late"] is True
    assert docs[0]["text"].startswith("Pengingat: hari ini Anda")
    assert reminder_state(sync_store, future.id, "24h")["late"] is True
    assert reminder_state(sync_store, started.id, "24h")["reason"] == "stale"
    assert (metric("late"), metric("stale")) == (late_before + 1, stale_before + 1)


async def test_never_after_start(jobs: Jobs, sync_store: MongoStore, clock: Clock,
                                 doctor: object, patients: list[User]) -> None:
    clock.now = START - 48 * H
    make_booking(sync_store, start=START, created=clock.now)
    clock.now = START
    assert (await jobs.sweep_reminders()).outcomes == {"stale": 1}
    assert reminder_docs(sync_store) == []


async def test_second_reminder(make_jobs: Callable[..., Jobs], sync_store: MongoStore,
                               clock: Clock, doctor: object, patients: list[User]) -> None:
    jobs = make_jobs(second_reminder_minutes=120)
    await jobs.prepare()
    clock.now = START - 48 * H
    early = make_booking(sync_store, start=START, created=clock.now)
    clock.now = START - 24 * H
    assert (await jobs.sweep_reminders()).outcomes == {"sent": 1}
    # booked 10 hours ahead: no 24-hour reminder, but the 2-hour one
    clock.now = START + 2 * H - 10 * H
    soon = make_booking(sync_store, start=START + 2 * H, created=clock.now, patient_id="pat-1")
    assert (await jobs.sweep_reminders()).outcomes == {"short_notice": 1}
    clock.now = START - 2 * H
    assert (await jobs.sweep_reminders()).outcomes == {"sent": 1}
    clock.now = START
    assert (await jobs.sweep_reminders()).outcomes == {"sent": 1}
    keys = sorted(d["dedupe_key"] for d in reminder_docs(sync_store))
    assert keys == sorted([f"appointment_reminder:{early.id}:24h",
                           f"appointment_reminder:{early.id}:2h",
                           f"appointment_reminder:{soon.id}:2h"])


async def test_catch_up_with_two_reminders_sends_only_the_nearer(
        make_jobs: Callable[..., Jobs], sync_store: MongoStore, clock: Clock, doctor: object,
        patients: list[User]) -> None:
    jobs = make_jobs(second_reminder_minutes=120)
    clock.now = START - 48 * H
    booking = make_booking(sync_store, start=START, created=clock.now)
    clock.now = START - 90 * timedelta(minutes=1)
    assert (await jobs.sweep_reminders()).outcomes == {"superseded": 1, "late": 1}
    assert [d["dedupe_key"] for d in reminder_docs(sync_store)] == [
        f"appointment_reminder:{booking.id}:2h"]


async def test_cancelled_and_rescheduled(jobs: Jobs, service: BookingService,
                                         sync_store: MongoStore, clock: Clock, doctor: object,
                                         patients: list[User]) -> None:
    """A cancelled booking is never reminded; a rescheduled one only at its new time."""
    clock.now = START - 72 * H
    kept = await service.book("pat-0", doctor.id, START)  # type: ignore[attr-defined]
    cancelled = await service.book("pat-1", doctor.id, START + H)  # type: ignore[attr-defined]
    moved = await service.book("pat-2", doctor.id, START + 2 * H)  # type: ignore[attr-defined]
    assert all(isinstance(r, Booked) for r in (kept, cancelled, moved))
    assert isinstance(kept, Booked) and isinstance(cancelled, Booked)
    assert isinstance(moved, Booked)
    await service.cancel(cancelled.booking.id, actor=Actor("pat-1", Role.patient))
    new_start = START + 24 * H + 2 * H  # Friday 11:00 WIB
    result = await service.reschedule(moved.booking.id, new_start,
                                      actor=Actor("pat-2", Role.patient))
    assert isinstance(result, Booked)
    new_id = result.booking.id

    for hours in range(-30, 30):  # sweep every hour from well before to after both times
        clock.now = START + hours * H
        await jobs.sweep_reminders()
    by_booking = {d["booking_id"]: d for d in reminder_docs(sync_store)}
    assert set(by_booking) == {kept.booking.id, new_id}
    assert by_booking[new_id]["params"]["time"] == "11:00 WIB"
    assert sync_store.get_booking(moved.booking.id).status == BookingStatus.rescheduled


async def test_patient_without_contact_is_counted_not_silent(
        jobs: Jobs, sync_store: MongoStore, clock: Clock, doctor: object) -> None:
    sync_store.insert_user(User(id="ghost", name="Tanpa Kontak", role=Role.patient))
    clock.now = START - 48 * H
    booking = make_booking(sync_store, start=START, created=clock.now, patient_id="ghost")
    before = metric("no_contact")
    clock.now = START - 24 * H
    assert (await jobs.sweep_reminders()).outcomes == {"no_contact": 1}
    assert reminder_state(sync_store, booking.id, "24h")["reason"] == "no_contact"
    assert metric("no_contact") == before + 1


async def test_english_patient_gets_english_text(jobs: Jobs, sync_store: MongoStore,
                                                 clock: Clock, doctor: object) -> None:
    sync_store.insert_user(User(id="en", name="Jane Doe", whatsapp="6281299990000",
                                language="en", role=Role.patient))
    clock.now = START - 48 * H
    make_booking(sync_store, start=START, created=clock.now, patient_id="en")
    clock.now = START - 24 * H
    await jobs.sweep_reminders()
    (doc,) = reminder_docs(sync_store)
    assert doc["language"] == "en"
    assert doc["text"].startswith("Reminder: tomorrow you see dr. Test Satu")
    assert doc["quick_replies"] == ["Attend", "Reschedule", "Cancel"]


async def test_many_due_in_small_batches(make_jobs: Callable[..., Jobs], sync_store: MongoStore,
                                         clock: Clock, doctor: object,
                                         patients: list[User]) -> None:
    jobs = make_jobs(reminder_batch=7)
    clock.now = START - 72 * H
    ids = {make_booking(sync_store, start=START + timedelta(minutes=30 * i), created=clock.now,
                        patient_id=f"pat-{i % 3}", doctor_id=f"doc-{i}").id for i in range(40)}
    for i in range(40):
        sync_store.upsert_doctor(doctor.model_copy(update={"id": f"doc-{i}"}))  # type: ignore[attr-defined]
    clock.now = START + 20 * H - 24 * H  # the first 40 half-hours are all due
    report = await jobs.sweep_reminders()
    assert report.handed_over == 40 and report.claimed == 40  # caught up: sent late
    assert {d["booking_id"] for d in reminder_docs(sync_store)} == ids


async def test_complete_past_and_flush_jobs(jobs: Jobs, service: BookingService,
                                            sync_store: MongoStore, clock: Clock,
                                            doctor: object, patients: list[User]) -> None:
    clock.now = START - 48 * H
    result = await service.book("pat-0", doctor.id, START)  # type: ignore[attr-defined]
    assert isinstance(result, Booked)
    # a crash left a decided notification uncopied
    sync_store.update_booking_fields(result.booking.id, {"outbox_pending": ["booking_cancelled"]})
    clock.now = START - 47 * H
    assert await jobs.flush_pending_outbox() == 1
    assert sync_store.outbox.count_documents({"kind": "booking_cancelled"}) == 1
    clock.now = START + H
    assert await jobs.complete_past() == 1
    assert sync_store.get_booking(result.booking.id).status == BookingStatus.completed
    assert await jobs.complete_past() == 0
