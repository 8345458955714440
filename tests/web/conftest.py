"""The web app on a real loopback server: the built bundle (web/dist), the app's API over
mongomock and the run's Redis, headless Debian Chromium through Playwright, axe-core."""

from __future__ import annotations

import functools
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from api.webapp import WEB_DIST
from app.http.auth import issue_tokens
from app.main import create_app
from app.settings import Settings
from booking.models import Role, User
from booking.passwords import hash_password
from booking.store import MongoStore
from tests.browser import CHROMIUM
from tests.conftest import REDIS_TEST_URL, drop_namespace, make_doctor

AXE_JS = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "rahasia-web-123"
JWT_SECRET = "test-secret-for-the-web-app-0123456789abcdef"
PHONE = {"width": 390, "height": 844}   # most patients are on phones


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Site:
    server: TestServer
    store: MongoStore
    settings: Settings
    users: dict[str, User]

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def headers(self, user_id: str) -> dict[str, str]:
        token = issue_tokens(self.settings, self.users[user_id])["access_token"]
        return {"Authorization": "Bearer " + token}

    async def call(self, method: str, path: str, user_id: str, **kw: Any) -> tuple[int, Any]:
        async with ClientSession() as http, http.request(
                method, self.url(path), headers=self.headers(user_id), **kw) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body


# The tests book the first free slot and then change it: with the default notice (60 min)
# that slot can fall inside the 2-hour change cutoff at some times of day (in the morning
# WIB the first slot is today's). 3 hours of notice keeps every first slot changeable.
NOTICE = {"min_notice_minutes": 180}


def seed(store: MongoStore) -> dict[str, User]:
    """Two paediatricians in Jakarta (WIB), one in Makassar (WITA); a doctor account, an
    admin and two patients."""
    store.upsert_doctor(make_doctor(id="doc-anak-1", name="dr. Ayu Lestari, Sp.A",
                                    specialty="pediatrics", clinic="Klinik Sehat Menteng",
                                    address="Jl. Teuku Umar 1", user_id="user-web-doc",
                                    languages=["id", "en"], **NOTICE))
    store.upsert_doctor(make_doctor(id="doc-anak-2", name="dr. Bima Putra, Sp.A",
                                    specialty="pediatrics", clinic="Klinik Kemang", **NOTICE))
    store.upsert_doctor(make_doctor(id="doc-anak-mks", name="dr. Citra Dewi, Sp.A",
                                    specialty="pediatrics", city="Makassar",
                                    timezone="Asia/Makassar", clinic="Klinik Losari", **NOTICE))
    users = (
        User(id="user-web-pat", name="Rina Pasien", email="rina@web.test",
             whatsapp="6281200000901", role=Role.patient, password_hash=password_hash()),
        User(id="user-web-pat2", name="Budi Pasien", email="budi@web.test",
             whatsapp="6281200000902", role=Role.patient, password_hash=password_hash()),
        User(id="user-web-doc", name="dr. Ayu Lestari", email="ayu@web.test",
             role=Role.doctor, doctor_id="doc-anak-1", password_hash=password_hash()),
        User(id="user-web-admin", name="Admin Web", email="admin@web.test", role=Role.admin,
             password_hash=password_hash()),
    )
    for user in users:
        store.insert_user(user)
    return {u.id: u for u in users}


@pytest.fixture
async def site(aiohttp_server: Any, sync_store: MongoStore, redis_namespace: str,
               tmp_path: Path) -> AsyncIterator[Site]:
    assert shutil.which(CHROMIUM), "apt-get install -y chromium"
    assert (WEB_DIST / "index.html").is_file(), "build the web app: make install"
    assert AXE_JS.is_file(), "npm ci --prefix web"
    settings = Settings(roles="api", redis_url=REDIS_TEST_URL, redis_namespace=redis_namespace,
                        load_demo_data=False, mongodb_url="mongomock://", jwt_secret=JWT_SECRET,
                        doctors_cache_seconds=0, photo_dir=str(tmp_path / "photos"))
    srv = await aiohttp_server(create_app(settings, store=sync_store))
    users = seed(sync_store)   # after start-up (its indexes), like the API tests
    yield Site(srv, sync_store, settings, users)
    await drop_namespace(redis_namespace)



class Tab:
    """A phone-sized page that records script errors and console errors (CSP violations
    among them) and can run axe-core."""

    def __init__(self, page: Page, site: Site) -> None:
        self.page = page
        self.site = site
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: self.errors.append(msg.text)
                if msg.type == "error" else None)

    async def goto(self, path: str) -> None:
        await self.page.goto(self.site.url("/app" + path))

    async def sign_in(self, email: str) -> None:
        await self.goto("/login")
        await self.page.fill("[data-testid=login-email]", email)
        await self.page.fill("[data-testid=login-password]", PASSWORD)
        await self.page.click("[data-testid=login-submit]")
        await self.page.wait_for_selector("[data-testid=logout]")

    async def axe(self, what: str) -> None:
        """No WCAG 2 A/AA violation on the page as it is now."""
        if not await self.page.evaluate("() => typeof window.axe === 'object'"):
            # Evaluated through the DevTools protocol, which the page's CSP does not govern:
            # the page itself still runs under its strict CSP.
            await self.page.evaluate("() => {" + AXE_JS.read_text() + "\n}")
        passes, violations = await self.page.evaluate(
            """async () => { const r = await window.axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
               return [r.passes.length, r.violations.map(v => v.id + ': ' +
                 v.nodes.map(n => n.target.join(' ')).join(', '))]; }""")
        assert violations == [], f"{what}: {violations}"
        assert passes > 5, f"{what}: axe checked nothing"   # it ran, on a drawn page


@pytest.fixture
async def tab(browser: Browser, site: Site) -> AsyncIterator[Tab]:
    context = await browser.new_context(viewport=PHONE, locale="id-ID",
                                        accept_downloads=True)
    t = Tab(await context.new_page(), site)
    yield t
    await context.close()
