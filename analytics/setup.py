"""Role setup: adds this role's routes and background work to the app."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Nothing yet: filled in by the issue that builds this role."""
