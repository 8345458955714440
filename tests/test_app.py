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
