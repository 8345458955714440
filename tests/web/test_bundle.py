"""The built web app: how it is served (CSP, caching, no path tricks) and the JS budget of the
first page (< 150 KB gzipped: most patients are on phones, often on slow networks)."""

from __future__ import annotations

import gzip
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from api.webapp import WEB_DIST
from app.main import create_app
from app.settings import Settings
from booking.store import MongoStore
from tests.conftest import REDIS_TEST_URL

BUDGET_GZIP_BYTES = 150 * 1024
INDEX = WEB_DIST / "index.html"


def first_page_scripts() -> list[str]:
    """The entry script and every module it preloads: what the first page downloads."""
    html = INDEX.read_text()
    entries = re.findall(r'<script[^>]+src="/app/assets/([^"]+\.js)"', html)
    preloads = re.findall(r'<link[^>]+rel="modulepreload"[^>]+href="/app/assets/([^"]+)"', html)
    return entries + preloads


def test_first_page_js_is_under_budget() -> None:
    assert INDEX.is_file(), "build the web app: make install"
    scripts = first_page_scripts()
    assert scripts, "no entry script found in web/dist/index.html"
    sizes = {name: len(gzip.compress((WEB_DIST / "assets" / name).read_bytes(), 9))
             for name in scripts}
    total = sum(sizes.values())
    assert total < BUDGET_GZIP_BYTES, f"first page JS {total} B gzipped > budget: {sizes}"
    # the staff pages are separate chunks, never on a patient's first page
    lazy = [p.name for p in (WEB_DIST / "assets").glob("*.js") if p.name not in scripts]
    assert {n.split("-")[0] for n in lazy} >= {"Agenda", "Schedule", "Staff"}


@pytest.fixture
async def client(aiohttp_client: Any, sync_store: MongoStore,
                 redis_namespace: str) -> TestClient:
    settings = Settings(roles="api", redis_url=REDIS_TEST_URL, redis_namespace=redis_namespace,
                        load_demo_data=False, mongodb_url="mongomock://")
    c: TestClient = await aiohttp_client(create_app(settings, store=sync_store))
    return c


async def test_html_has_a_strict_csp_and_is_revalidated(client: TestClient) -> None:
    for path in ("/app/", "/app/bookings", "/app/doctors/doc-1/confirm"):
        resp = await client.get(path)
        assert resp.status == 200, path
        assert resp.content_type == "text/html"
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert resp.headers["Cache-Control"] == "no-cache"
        assert '<div id="root">' in await resp.text()
    resp = await client.get("/app", allow_redirects=False)
    assert resp.status == 301 and resp.headers["Location"] == "/app/"


async def test_hashed_assets_are_cached_for_a_year(client: TestClient) -> None:
    [entry] = re.findall(r'src="(/app/assets/[^"]+\.js)"', INDEX.read_text())
    resp = await client.get(entry)
    assert resp.status == 200 and resp.content_type == "application/javascript"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for bad in ("/app/assets/nope-123.js", "/app/assets/..%2F..%2Fpyproject.toml",
                "/app/assets/index.html", "/app/assets/..%2Findex.html"):
        assert (await client.get(bad)).status == 404, bad
