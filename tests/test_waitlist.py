"""The waitlist: a freed slot is offered to the oldest waiting patient with a hold; take books
it (or moves their later booking), skip and expiry pass it on; exactly one patient gets a slot,
nobody is offered the same slot twice, and offers survive a restart (they live in MongoDB)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.errors import InvalidInput, NotFound
from booking.models import Booking, BookingStatus, Doctor, User
from booking.service import Actor, Booked, BookingService, SlotTaken
from booking.store import MongoStore
from booking.waitlist import WaitlistService
from notify.rules import WaitlistMessages
from tests.conftest import Clock

JKT = ZoneInfo("Asia/Jakarta")


def wib(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=JKT).astimezone(UTC)


@pytest.fixture(autouse=True)
async def indexes(service: BookingService) -> None:
    await service.store.waitlist.ensure_indexes()  # what app/context.py does at start


@pytest.fixture
def waitlist(service: BookingService) -> WaitlistService:
    wl = WaitlistService(service.store, service, WaitlistMessages(), offer_minutes=15)
    service.slot_listeners.append(wl.slot_freed)
    return wl


async def book(service: BookingService, patient: User, doctor: Doctor, start: datetime
               ) -> Booking:
    result = await service.book(patient.id, doctor.id, start)
    assert isinstance(result, Booked), result
    return result.booking


def offers(sync_store: MongoStore, **query: Any) -> list[dict[str, Any]]:
    return list(sync_store.db["waitlist_offers"].find(query).sort("created_at", 1))


async def test_join_validates(waitlist: WaitlistService, doctor: Doctor,
                              patients: list[User]) -> None:
    with pytest.raises(InvalidInput):
        await waitlist.join(patients[0].id, doctor.id, date(2026, 12, 1), date(2026, 12, 3))
    with pytest.raises(InvalidInput):
        await waitlist.join(patients[0].id, doctor.id, date(2026, 12, 9), date(2026, 12, 8))
    with pytest.raises(NotFound):
        await waitlist.join(patients[0].id, "no-such-doctor", date(2026, 12, 8),
                            date(2026, 12, 9))
    entry = await waitlist.join(patients[0].id, doctor.id, date(2026, 12, 1), date(2026, 12, 9))
    assert entry["from_day"] == "2026-12-07" and entry["to_day"] == "2026-12-09"
    assert [e["id"] for e in await waitlist.entries(patients[0].id)] == [entry["id"]]
    left = await waitlist.leave(entry["id"], patients[0].id)
    assert left["status"] == "cancelled"
    with pytest.raises(NotFound):
        await waitlist.leave(entry["id"], patients[1].id)


async def test_a_cancellation_offers_the_slot_to_the_oldest_entry_with_a_hold(
        service: BookingService, waitlist: WaitlistService, sync_store: MongoStore,
        doctor: Doctor, patients: list[User]) -> None:
    booking = await book(service, patients[0], doctor, wib(8, 9))
    first = await waitlist.join(patients[1].id, doctor.id, date(2026, 12, 7), date(2026, 12, 9))
    await waitlist.join(patients[2].id, doctor.id, date(2026, 12, 7), date(2026, 12, 9))
    await service.cancel(booking.id, actor=Actor(patients[0].id, patients[0].role))
    [offer] = offers(sync_store)
    assert offer["entry_id"] == first["id"] and offer["status"] == "offered"
    assert offer["start"].replace(tzinfo=UTC) == wib(8, 9)
    # held: the next patient cannot book it, the offered one can
    taken = await service.book(patients[2].id, doctor.id, wib(8, 9))
    assert isinstance(taken, SlotTaken) and taken.reason == "held"
    [message] = list(sync_store.outbox.find({"kind": "waitlist_offer"}))
    assert message["to"] == patients[1].whatsapp
    assert message["text"].startswith("Kabar baik! Ada jadwal lebih cepat dengan dr. Test Satu: "
                                      "Selasa, 8 Desember 2026, 09:00 WIB")
    assert "15 menit" in message["text"] and message["dedupe_key"].endswith(offer["_id"])


async def test_take_moves_the_later_booking_and_the_freed_slot_goes_on(
        service: BookingService, waitlist: WaitlistService, sync_store: MongoStore,
        doctor: Doctor, patients: list[User]) -> None:
    early = await book(service, patients[0], doctor, wib(8, 9))
    later = await book(service, patients[1], doctor, wib(10, 14))
    await waitlist.join(patients[1].id, doctor.id, date(2026, 12, 7), date(2026, 12, 9))
    waiting = await waitlist.join(patients[2].id, doctor.id, date(2026, 12, 7),
                                  date(2026, 12, 11))
    await service.cancel(early.id, actor=Actor(patients[0].id, patients[0].role))
    offer = await waitlist.open_offer(patients[1].id)
    assert offer is not None
    result = await waitlist.take(offer["id"], patients[1].id)
    assert result.outcome == "moved" and result.booking is not None
    assert result.booking.start == wib(8, 9)
    assert sync_store.get_booking(later.id).status == BookingStatus.rescheduled
    taken = offers(sync_store, _id=offer["id"])[0]
    assert taken["status"] == "taken" and taken["minutes_saved"] == 2 * 24 * 60 + 5 * 60
    # the 10 Dec 14:00 slot it freed is offered to the next waiting patient
    [next_offer] = offers(sync_store, status="offered")
    assert next_offer["entry_id"] == waiting["id"]
    assert next_offer["start"].replace(tzinfo=UTC) == wib(10, 14)
    # analytics: one still waiting, two offers, one taken, 2 days 5 hours saved
    stats = await service.store.waitlist.stats(wib(6, 0), wib(13, 0), None)
    assert stats == {"waiting": 1, "offers": 2, "taken": 1, "minutes_saved": 3180}
    assert (await service.store.waitlist.stats(wib(6, 0), wib(13, 0), ["other"]))["offers"] == 0


async def test_two_answers_at_once_book_one(service: BookingService, waitlist: WaitlistService,
                                            sync_store: MongoStore, doctor: Doctor,
                                            patients: list[User]) -> None:
    booking = await book(service, patients[0], doctor, wib(8, 9))
    await waitlist.join(patients[1].id, doctor.id, date(2026, 12, 7), date(2026, 12, 9))
    await service.cancel(booking.id, actor=Actor(patients[0].id, patients[0].role))
    offer = await waitlist.open_offer(patients[1].id)
    assert offer is not None
    results = await asyncio.gather(*(waitlist.take(offer["id"], patients[1].id)
                                     for _ in range(4)))
    assert sorted(r.outcome for r in results) == ["booked", "expired", "expired", "expired"]
    assert sync_store.bookings.count_documents({"status": "confirmed"}) == 1


async def test_skip_and_expiry_pass_it_on_and_nobody_gets_it_twice(
        service: BookingService, waitlist: WaitlistService, sync_store: MongoStore,
        doctor: Doctor, patients: list[User], clock: Clock) -> None:
    booking = await book(service, patients[0], doctor, wib(8, 9))
    for p in patients[1:]:
        await waitlist.join(p.id, doctor.id, date(2026, 12, 7), date(2026, 12, 9))
    await service.cancel(booking.id, actor=Actor(patients[0].id, patients[0].role))
    first = await waitlist.open_offer(patients[1].id)
    assert first is not None
    assert await waitlist.skip(first["id"], patients[1].id)
    assert not await waitlist.skip(first["id"], patients[1].id)  # once
    second = await waitlist.open_offer(patients[2].id)
    assert second is not None
    # a restart: a new service instance over the same store finds the open offer
    restarted = WaitlistService(service.store, service, WaitlistMessages(), offer_minutes=15)
    clock.advance(minutes=16)
    assert await restarted.expire_due() == 1
    assert await restarted.expire_due() == 0
    # everyone was offered this slot once: it is not offered again
    assert await restarted.slot_freed(doctor.id, wib(8, 9)) is None
    assert [o["status"] for o in offers(sync_store)] == ["skipped", "expired"]
    late = await restarted.take(second["id"], patients[2].id)
    assert late.outcome == "expired"
    # and the slot is free for anyone again
    assert isinstance(await service.book(patients[0].id, doctor.id, wib(8, 9)), Booked)


async def test_one_open_offer_per_slot_across_processes(
        service: BookingService, sync_store: MongoStore, doctor: Doctor,
        patients: list[User]) -> None:
    for p in patients:
        await WaitlistService(service.store, service, WaitlistMessages()).join(
            p.id, doctor.id, date(2026, 12, 7), date(2026, 12, 9))
    replicas = [WaitlistService(service.store, service, WaitlistMessages()) for _ in range(4)]
    made = await asyncio.gather(*(r.slot_freed(doctor.id, wib(8, 9)) for r in replicas))
    assert sum(1 for m in made if m) == 1
    assert len(offers(sync_store, status="offered")) == 1
    assert sync_store.outbox.count_documents({"kind": "waitlist_offer"}) == 1


async def test_a_patient_already_booked_earlier_is_not_offered(
        service: BookingService, waitlist: WaitlistService, sync_store: MongoStore,
        doctor: Doctor, patients: list[User]) -> None:
    await book(service, patients[1], doctor, wib(8, 10))
    await waitlist.join(patients[1].id, doctor.id, date(2026, 12, 7), date(2026, 12, 9))
    booking = await book(service, patients[0], doctor, wib(8, 14))
    await service.cancel(booking.id, actor=Actor(patients[0].id, patients[0].role))
    assert offers(sync_store) == []
