"""Rate limits behind a reverse proxy: a client must not escape the per-IP login limit by
sending its own X-Forwarded-For, and clients behind our proxy must not share one limit."""

from __future__ import annotations

import pytest

from api.ratelimit import forwarded_client
from tests.api.conftest import Api

LOOPBACK = "127.0.0.1/32"  # the test client connects from loopback: "our proxy"


async def _login(api: Api, forwarded: str | None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    resp = await api.client.post("/auth/login", json={"email": "nobody@test.id",
                                                      "password": "x"}, headers=headers)
    return resp.status


@pytest.mark.parametrize("settings_overrides", [{"login_limit_per_ip": 2}])
async def test_spoofed_forwarded_for_without_a_trusted_proxy(api: Api) -> None:
    # a direct client rotating X-Forwarded-For is still counted by its own address
    statuses = [await _login(api, f"203.0.113.{i}") for i in range(3)]
    assert statuses == [401, 401, 429]


@pytest.mark.parametrize("settings_overrides", [{"login_limit_per_ip": 2,
                                                 "trusted_proxies": LOOPBACK}])
async def test_clients_behind_the_trusted_proxy_are_counted_apart(api: Api) -> None:
    first = [await _login(api, "198.51.100.7") for _ in range(3)]
    assert first == [401, 401, 429]
    assert await _login(api, "198.51.100.8") == 401  # another client: its own limit
    # a client prepending a fake hop is still counted by the address our proxy saw
    assert await _login(api, "10.9.9.9, 198.51.100.7") == 429


@pytest.mark.parametrize(("peer", "header", "client"), [
    ("203.0.113.5", "1.2.3.4", "203.0.113.5"),              # untrusted peer: header ignored
    ("10.0.0.2", "1.2.3.4", "1.2.3.4"),                     # trusted proxy: its client
    ("10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"),            # forged left part ignored
    ("10.0.0.2", "1.2.3.4, 10.0.0.3", "1.2.3.4"),           # two of our proxies in a row
    ("10.0.0.2", "not-an-ip", "10.0.0.2"),                  # garbage: trust nothing
    ("10.0.0.2", "", "10.0.0.2"),
])
def test_forwarded_client_rule(peer: str, header: str, client: str) -> None:
    import ipaddress

    assert forwarded_client(peer, header, (ipaddress.ip_network("10.0.0.0/8"),)) == client
