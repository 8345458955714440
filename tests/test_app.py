"""The app factory starts on the embedded default and answers /health."""

from __future__ import annotations

from typing import Any

from app.main import create_app
from app.settings import Settings


async def test_health_on_embedded_default(aiohttp_client: Any) -> None:
    settings = Settings(roles="api")
    client = await aiohttp_client(create_app(settings))
    resp = await client.get("/health")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_embedded_default_books_with_in_process_redis(aiohttp_client: Any,
                                                           caplog: Any) -> None:
    """No MONGODB_URL, no REDIS_URL: mongomock + fakeredis + demo data, and the slot lock
    (a Lua script) works on the in-process Redis too."""
    from datetime import timedelta

    from app.keys import SERVICE
    from booking.demo import DEMO_DOCTOR_ID
    from booking.service import Booked

    settings = Settings(roles="api")
    assert settings.embedded
    client = await aiohttp_client(create_app(settings))
    service = client.server.app[SERVICE]
    doctor = await service.doctor(DEMO_DOCTOR_ID)
    now = service.clock()
    slots = await service.availability(doctor, now, now + timedelta(days=7))
    # A patient of their own: a demo patient's seeded bookings (random, relative to now) may
    # overlap the earliest slot at some times of day.
    patient = await service.store.users.upsert_whatsapp_patient("6281299990001", "Uji", "id")
    result = await service.book(patient.id, doctor.id, slots[0].start)
    assert isinstance(result, Booked) and not result.replayed
    assert "could not release lock" not in caplog.text  # the Lua release ran
    assert (await service.day_slots(doctor, slots[0].start.astimezone(doctor.tz).date())
            )[0].start != slots[0].start
