"""The dashboard in headless Chromium (Debian's, through Playwright): sign in, charts drawn,
numbers shown equal the API's, filters work, and the page fits a phone screen."""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page

from analytics.routes import CHART_JS
from app.keys import SETTINGS
from app.main import create_app
from app.settings import Settings
from booking.passwords import hash_password
from booking.store import MongoStore
from tests.analytics.conftest import seed
from tests.browser import CHROMIUM
from tests.conftest import REDIS_TEST_URL

pytestmark = pytest.mark.browser

PASSWORD = "rahasia-admin-123"
ADMIN = "admin@test.klinik.id"
WEEK = "from=2026-12-07&to=2026-12-13"

# Canvas pixels that are not fully transparent, per chart.
INK = """() => Array.from(document.querySelectorAll('canvas')).map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) { ink++; } }
  return [c.id, c.width, c.height, ink];
})"""


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def pct(r: float | None) -> str:
    return "–" if r is None else f"{r * 100:.1f}%"


@pytest.fixture
async def server(aiohttp_server: Any, sync_store: MongoStore, redis_namespace: str,
                 coordinator: Any) -> AsyncIterator[TestServer]:
    assert shutil.which(CHROMIUM), "apt-get install -y chromium"
    assert CHART_JS.is_file(), "npm install --prefix dashboard"
    settings = Settings(roles="api", redis_url=REDIS_TEST_URL, redis_namespace=redis_namespace,
                        load_demo_data=False, mongodb_url="mongomock://")
    srv = await aiohttp_server(create_app(settings, store=sync_store))
    seed(sync_store, admin_password_hash=password_hash())
    yield srv



async def api_metrics(server: TestServer, query: str) -> dict[str, Any]:
    async with ClientSession() as http:
        login = await http.post(server.make_url("/auth/login"),
                                json={"email": ADMIN, "password": PASSWORD})
        token = (await login.json())["access_token"]
        resp = await http.get(server.make_url(f"/analytics?{query}"),
                              headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        return body["metrics"]


async def sign_in(page: Page, server: TestServer) -> None:
    await page.goto(str(server.make_url(f"/dashboard?{WEEK}")))
    await page.fill("#email", ADMIN)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("body[data-state=ready]", timeout=15_000)


async def cells(page: Page, table: str) -> list[list[str]]:
    rows: list[list[str]] = await page.eval_on_selector_all(
        f"#{table} tbody tr",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))")
    return rows


async def test_dashboard_renders_the_apis_numbers(server: TestServer, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await page.goto(str(server.make_url(f"/dashboard?{WEEK}")))
    await page.fill("#email", ADMIN)
    await page.fill("#password", "wrong-password")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#login-error:not([hidden])")
    assert "Wrong email or password" in await page.inner_text("#login-error")
    errors.clear()   # the refused login logs a 401 in the console, as it should
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("body[data-state=ready]", timeout=15_000)

    # every chart drew something
    ink = await page.evaluate(INK)
    assert len(ink) == 8
    for canvas_id, width, height, pixels in ink:
        assert width > 0 and height > 0, canvas_id
        assert pixels > 200, f"{canvas_id} is blank"

    m = await api_metrics(server, WEEK)
    shown = {name: await page.inner_text(f"#kpi-{name}") for name in (
        "bookings_total", "cancellation_rate", "reschedule_rate", "no_show_rate",
        "median_lead_time", "bot_p50", "bot_p95", "nlu_fallback_rate", "conversion")}
    assert shown == {
        "bookings_total": str(m["bookings_per_day"]["value"]["total"]),
        "cancellation_rate": pct(m["cancellation_rate"]["value"]["rate"]),
        "reschedule_rate": pct(m["reschedule_rate"]["value"]["rate"]),
        "no_show_rate": pct(m["no_show_rate"]["value"]["rate"]),
        "median_lead_time": f"{m['median_lead_time']['value']['hours']:.1f} h",
        "bot_p50": f"{m['bot_response_time']['value']['p50_ms']:.0f} ms",
        "bot_p95": f"{m['bot_response_time']['value']['p95_ms']:.0f} ms",
        "nlu_fallback_rate": pct(m["nlu_fallback_rate"]["value"]["rate"]),
        "conversion": pct(m["conversion"]["value"]["rate"])}
    # and, for the hand-checked data set, those are:
    assert list(shown.values()) == ["7", "28.6%", "14.3%", "25.0%", "25.0 h", "800 ms",
                                    "2000 ms", "14.3%", "33.3%"]
    assert await page.get_attribute("#kpi-no_show_rate", "data-value") == "0.25"

    doctors = await cells(page, "table-doctors")
    assert doctors == [
        [d["name"], d["city"], d["specialty"], str(d["appointments"]), str(d["cancelled"]),
         pct(d["cancellation_rate"]), str(d["rescheduled"]), pct(d["reschedule_rate"]),
         str(d["completed"]), str(d["no_show"]), pct(d["no_show_rate"])]
        for d in m["per_doctor"]["value"]]
    assert await cells(page, "table-intents") == [
        [i["intent"], str(i["count"]), pct(i["share"])] for i in m["top_intents"]["value"]]
    assert await cells(page, "table-specialty") == [["general", "5", "2", "40.0%"],
                                                    ["pediatrics", "2", "0", "0.0%"]]
    # the one-line definitions from the API are shown under the charts
    desc = await page.inner_text("[data-metric=bookings_per_day] .desc")
    assert desc == m["bookings_per_day"]["description"]
    chart_data = await page.evaluate(
        "() => Chart.getChart('chart-bookings-day').data.datasets"
        ".map(d => [d.label, d.data])")
    assert dict(map(tuple, chart_data)) == m["bookings_per_day"]["value"]["series"]
    assert errors == []


async def test_filters_and_phone_layout(server: TestServer, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    await sign_in(page, server)
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways on a phone"
    box = await page.eval_on_selector("#chart-hours", "c => c.getBoundingClientRect().width")
    assert 300 <= box <= 390
    await page.select_option("#f-specialty", "pediatrics")
    await page.select_option("#f-tz", "Asia/Makassar")
    await page.click("#filters button[type=submit]")
    await page.wait_for_selector("body[data-state=ready]")
    m = await api_metrics(server, WEEK + "&tz=Asia/Makassar&specialty=pediatrics")
    rows = await cells(page, "table-doctors")
    assert [r[0] for r in rows] == [d["name"] for d in m["per_doctor"]["value"]] == [
        "dr. Beta, Sp.A"]
    assert await page.inner_text("#kpi-bookings_total") == "1"
    hours = await page.evaluate("() => Chart.getChart('chart-hours').data.datasets[0].data")
    assert hours == [h["appointments"] for h in m["busiest_hours"]["value"]]
    assert "Asia/Makassar" in await page.inner_text("#generated")
    # chat metrics are network-wide: with a filter set the page says so, and only there
    unfiltered = "the filters do not apply"
    assert unfiltered in await page.inner_text("[data-metric=messages_per_day] .desc")
    assert unfiltered in await page.inner_text("[data-metric=bot_p50] .hint")
    assert unfiltered not in await page.inner_text("[data-metric=bookings_per_day] .desc")
    assert unfiltered not in await page.inner_text("[data-metric=reminder_outcomes] .desc")
    # signing out forgets the token
    await page.click("#logout")
    assert await page.evaluate("() => sessionStorage.length") == 0
    assert await page.is_visible("#login-form")


async def test_an_expired_session_renews_itself_and_logout_revokes(
        server: TestServer, browser: Browser) -> None:
    """Past the access token's life the page renews with the refresh token (rotated, single
    use) and reloads without the sign-in form; signing out revokes the refresh token."""
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await sign_in(page, server)
    access = await page.evaluate("() => sessionStorage.getItem('klinik.analytics.token')")
    first_refresh = await page.evaluate(
        "() => sessionStorage.getItem('klinik.analytics.refresh')")
    settings = server.app[SETTINGS]
    claims = jwt.decode(access, options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 60
    expired = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
    await page.evaluate(f"() => sessionStorage.setItem('klinik.analytics.token', '{expired}')")
    await page.select_option("#f-specialty", "pediatrics")
    await page.click("#filters button[type=submit]")
    await page.wait_for_selector("body[data-state=ready]")
    assert await page.inner_text("#kpi-bookings_total") == "1"
    assert not await page.is_visible("#login-form")
    renewed = await page.evaluate("() => sessionStorage.getItem('klinik.analytics.refresh')")
    assert renewed and renewed != first_refresh
    async with ClientSession() as http:      # the used refresh token is spent
        reuse = await http.post(server.make_url("/auth/refresh"),
                                json={"refresh_token": first_refresh})
        assert reuse.status == 401
        async with page.expect_response("**/auth/logout") as logout:
            await page.click("#logout")
        assert (await logout.value).status == 204
        assert await page.is_visible("#login-form")
        again = await http.post(server.make_url("/auth/refresh"),
                                json={"refresh_token": renewed})
        assert again.status == 401
