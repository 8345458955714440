"""Doctor photos on the dashboard's per-doctor table, in headless Chromium: an uploaded photo
is shown (loaded under the page's CSP), doctors without one show only their name."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from PIL import Image
from playwright.async_api import Browser

from app.main import create_app
from app.settings import Settings
from booking.store import MongoStore
from tests.analytics.conftest import seed
from tests.analytics.test_dashboard_browser import (
    ADMIN,
    PASSWORD,
    cells,
    password_hash,
    sign_in,
)
from tests.conftest import REDIS_TEST_URL

pytestmark = pytest.mark.browser


@pytest.fixture
async def server(aiohttp_server: Any, sync_store: MongoStore, redis_namespace: str,
                 coordinator: Any, tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(roles="api", redis_url=REDIS_TEST_URL, redis_namespace=redis_namespace,
                        load_demo_data=False, mongodb_url="mongomock://",
                        photo_dir=str(tmp_path / "photos"))
    srv = await aiohttp_server(create_app(settings, store=sync_store))
    seed(sync_store, admin_password_hash=password_hash())
    yield srv


async def test_per_doctor_table_shows_the_photos(server: TestServer, browser: Browser  # noqa: F811
                                                 ) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (64, 64), "crimson").save(picture, format="PNG")
    async with ClientSession() as http:
        login = await http.post(server.make_url("/auth/login"),
                                json={"email": ADMIN, "password": PASSWORD})
        token = (await login.json())["access_token"]
        resp = await http.put(server.make_url("/doctors/dA/photo"), data=picture.getvalue(),
                              headers={"Authorization": f"Bearer {token}",
                                       "Content-Type": "image/png"})
        assert resp.status == 200, await resp.text()
        url = (await resp.json())["photo_url"]

    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    failed: list[str] = []  # any refused or missing request (a CSP block shows up here too)
    page.on("requestfailed", lambda req: failed.append(req.url))
    page.on("response", lambda r: failed.append(r.url) if "/photos/" in r.url and
            r.status != 200 else None)
    await sign_in(page, server)
    await page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#table-doctors img.avatar'))"
        ".every(i => i.complete)")
    shown: list[list[Any]] = await page.eval_on_selector_all(
        "#table-doctors tbody tr",
        "rows => rows.map(r => { const i = r.cells[0].querySelector('img');"
        " return [r.cells[0].textContent, i && i.getAttribute('src'), i && i.naturalWidth]; })")
    names = [row[0] for row in await cells(page, "table-doctors")]
    assert [row[0] for row in shown] == names  # the name is still the cell's text
    by_name = {name: (src, width) for name, src, width in shown}
    photographed = [n for n, (src, _) in by_name.items() if src]
    assert len(photographed) == 1
    assert by_name[photographed[0]] == (url, 64)  # loaded: same origin, allowed by the CSP
    assert failed == []
