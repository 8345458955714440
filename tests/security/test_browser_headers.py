"""Browser-side attacks: MIME sniffing, referrer leaks, framing (clickjacking), downgrade to
http, script injection into HTML pages, and cross-origin calls from sites that are not
ours."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api

ORIGIN = "https://klinik.example"


@pytest.mark.parametrize("path", ["/doctors", "/doctors/nope", "/openapi.json", "/docs",
                                  "/health", "/no-such-route"])
async def test_missing_security_headers(api: Api, path: str) -> None:
    resp = await api.client.get(path)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in resp.headers  # PUBLIC_URL is not https here


@pytest.mark.parametrize("settings_overrides", [{"public_url": "https://klinik.example"}])
async def test_downgrade_to_http_without_hsts(api: Api) -> None:
    resp = await api.client.get("/doctors")
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


async def test_html_pages_without_csp(api: Api) -> None:
    for path in ("/docs", "/dashboard"):
        resp = await api.client.get(path)
        assert resp.status == 200 and resp.content_type == "text/html", path
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-eval" not in csp, path


async def test_cross_origin_call_from_an_unknown_site(api: Api) -> None:
    pre = await api.client.options("/doctors", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in pre.headers
    got = await api.client.get("/doctors", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in got.headers


@pytest.mark.parametrize("settings_overrides", [{"cors_origins": ORIGIN}])
async def test_cross_origin_call_from_an_allowed_site(api: Api) -> None:
    pre = await api.client.options("/bookings", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert pre.status == 200
    assert pre.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    got = await api.client.get("/doctors", headers={"Origin": ORIGIN})
    assert got.headers["Access-Control-Allow-Origin"] == ORIGIN
    evil: Any = await api.client.options("/bookings", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert evil.status == 403 and "Access-Control-Allow-Origin" not in evil.headers
