"""Opening and closing the store and Redis around the app's life (aiohttp cleanup_ctx)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from app.keys import COORDINATOR, SERVICE, SETTINGS, STORE, WAITLIST
from app.settings import Settings
from booking.crypto import set_process_keyring
from booking.locks import Coordinator, redis_client
from booking.service import BookingService, Policy
from booking.store import MongoStore, Store
from booking.waitlist import WaitlistService
from notify.rules import BookingNotices, WaitlistMessages

log = logging.getLogger(__name__)


def build_core(settings: Settings, *, sync_store: MongoStore | None = None
               ) -> tuple[Store, Coordinator, BookingService]:
    """Store, coordinator and service from settings (the same for app, tools and tests)."""
    url = settings.mongodb_url.get_secret_value() if settings.mongodb_url else None
    keyring = settings.data_keyring()  # None: the process's throw-away keyring
    if keyring is not None:
        set_process_keyring(keyring)   # tools of this process open the same data
    store = Store(sync_store or MongoStore.from_url(url, keyring=keyring))
    redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
    coordinator = Coordinator(redis_client(redis_url), hold_seconds=settings.hold_seconds,
                              namespace=settings.redis_namespace)
    service = BookingService(store, coordinator, notices=BookingNotices(),
                             policy=Policy(cutoff_minutes=settings.cancel_cutoff_minutes,
                                           max_upcoming=settings.max_upcoming_bookings))
    return store, coordinator, service


async def core_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store, coordinator, service = build_core(settings, sync_store=app.get(_PRESET_STORE))
    await store.ensure_indexes()
    await store.waitlist.ensure_indexes()
    waitlist = WaitlistService(store, service, WaitlistMessages(),
                               offer_minutes=settings.waitlist_offer_minutes)
    service.slot_listeners.append(waitlist.slot_freed)
    if settings.demo_data:
        from booking import demo
        from booking.passwords import hash_password

        counts = await store.run(demo.load, store.sync, password_hash=hash_password(
            settings.demo_password.get_secret_value()) if settings.demo_accounts else None)
        log.info("demo data loaded: %s", counts)
    app[STORE] = store
    app[COORDINATOR] = coordinator
    app[SERVICE] = service
    app[WAITLIST] = waitlist
    yield
    await coordinator.redis.aclose()
    if app.get(_PRESET_STORE) is None:
        store.sync.close()


# Tests may hand the app a store they already hold (to inspect it afterwards).
_PRESET_STORE = web.AppKey("preset_store", MongoStore)
PRESET_STORE = _PRESET_STORE
