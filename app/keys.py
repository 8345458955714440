"""Typed keys for what the aiohttp app holds."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.settings import Settings
from booking.locks import Coordinator
from booking.service import BookingService
from booking.store import Store

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
COORDINATOR = web.AppKey("coordinator", Coordinator)
SERVICE = web.AppKey("service", BookingService)
# Optional components registered by the roles (bot gateway, scheduler, ...).
COMPONENTS = web.AppKey("components", dict[str, Any])
