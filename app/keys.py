"""Typed keys for what the aiohttp app holds."""

from __future__ import annotations

from aiohttp import web

from app.settings import Settings
from booking.locks import Coordinator
from booking.service import BookingService
from booking.store import Store
from booking.waitlist import WaitlistService
from sandbox import WatiSandbox

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
COORDINATOR = web.AppKey("coordinator", Coordinator)
SERVICE = web.AppKey("service", BookingService)
WAITLIST = web.AppKey("waitlist", WaitlistService)
# The local Wati stand-in of the embedded default (app/standins.py), when it runs.
SANDBOX = web.AppKey("sandbox", WatiSandbox)
