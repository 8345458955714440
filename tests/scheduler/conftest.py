"""Scheduler fixtures: bookings placed at chosen times, settings, jobs on the controllable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.metrics import REGISTRY
from app.settings import Settings
from booking.models import Booking, BookingStatus, slot_key
from booking.refs import new_ref
from booking.service import BookingService
from booking.store import MongoStore, Store
from scheduler.jobs import Jobs
from tests.conftest import T0, Clock

# A Monday-to-Friday 09:00-16:00 WIB doctor: 02:00-09:00 UTC. Thursday 10 Dec 2026, 09:00 WIB.
START = datetime(2026, 12, 10, 2, 0, tzinfo=T0.tzinfo)


def make_booking(sync_store: MongoStore, *, start: datetime, created: datetime,
                 patient_id: str = "pat-0", doctor_id: str = "doc-test-1",
                 status: BookingStatus = BookingStatus.confirmed) -> Booking:
    booking = Booking(ref=new_ref(), patient_id=patient_id, doctor_id=doctor_id, start=start,
                      end=start + timedelta(minutes=30), status=status, created_at=created,
                      updated_at=created,
                      slot_key=slot_key(doctor_id, start) if status == BookingStatus.confirmed
                      else None)
    sync_store.insert_booking(booking)
    return booking


def reminder_docs(sync_store: MongoStore) -> list[dict[str, Any]]:
    return list(sync_store.outbox.find({"kind": "appointment_reminder"}))


def metric(outcome: str) -> float:
    return REGISTRY.get_sample_value("klinik_reminders_total", {"outcome": outcome}) or 0.0


def scheduler_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = dict(mongodb_url=None, redis_url=None, load_demo_data=False,
                                roles="scheduler", reminder_lead_minutes=1440,
                                second_reminder_minutes=None)
    base.update(overrides)
    return Settings(**base)


@pytest.fixture
def make_jobs(store: Store, service: BookingService, clock: Clock
              ) -> Callable[..., Jobs]:
    def factory(**overrides: Any) -> Jobs:
        return Jobs(scheduler_settings(**overrides), store, service, clock=clock, instance="t")

    return factory


@pytest.fixture
async def jobs(make_jobs: Callable[..., Jobs]) -> Jobs:
    made = make_jobs()
    await made.prepare()
    return made
