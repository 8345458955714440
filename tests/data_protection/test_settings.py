"""Keys and transport settings: production refuses to start without the data keys, malformed
keys are refused without being echoed, unencrypted links to other hosts are warned about,
and Redis speaks TLS for rediss:// URLs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio.connection import SSLConnection

from app.settings import Settings, SettingsError, load_settings
from booking.crypto import new_key_b64
from booking.locks import redis_client

ROOT = Path(__file__).resolve().parents[2]
GOOD = "y" * 40
SECRETS = ("JWT_SECRET", "WATI_WEBHOOK_TOKEN", "ACTIONS_TOKEN", "RASA_TOKEN")


def production(**values: object) -> Settings:
    return Settings(app_env="production", **values)  # type: ignore[arg-type]


def test_the_embedded_default_warns_about_nothing() -> None:
    assert Settings(smtp_tls="off", wati_api_url="http://127.0.0.1:8081").transport_warnings() \
        == []


def test_production_lists_missing_data_keys() -> None:
    assert production().data_protection_problems() == ["DATA_KEYS is not set",
                                                       "DATA_INDEX_KEY is not set"]
    keyed = production(data_keys=SecretStr(f"k1:{new_key_b64()}"),
                       data_index_key=SecretStr(new_key_b64()))
    assert keyed.data_protection_problems() == []
    ring = keyed.data_keyring()
    assert ring is not None and ring.primary == "k1" and not ring.ephemeral
    assert Settings().data_protection_problems() == [] and Settings().data_keyring() is None


def test_the_app_refuses_to_start_in_production_without_keys() -> None:
    env = {k: v for k, v in os.environ.items()
           if k.removeprefix("KLINIK_") not in (*SECRETS, "APP_ENV", "DATA_KEYS",
                                                "DATA_INDEX_KEY")}
    env.update({name: f"{GOOD}{i}" for i, name in enumerate(SECRETS)})
    env["APP_ENV"] = "production"
    proc = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["refusing to start in production mode:",
                                                "  DATA_KEYS is not set",
                                                "  DATA_INDEX_KEY is not set"]


def test_malformed_keys_are_refused_without_being_echoed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    key = new_key_b64()
    monkeypatch.setenv("DATA_KEYS", f"k1:{key[:20]}")  # not 32 bytes
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert "DATA_KEYS" in str(exc.value) and key[:20] not in str(exc.value)


@pytest.mark.parametrize(("values", "warned"), [
    ({"mongodb_url": "mongodb://db.internal:27017/klinik"}, ["MONGODB_URL"]),
    ({"mongodb_url": "mongodb://a:27017,b:27017/k?replicaSet=rs0&tls=true&tlsCAFile=/ca.pem"},
     []),
    ({"mongodb_url": "mongodb+srv://user:pw@cluster0.example.net/klinik"}, []),
    ({"mongodb_url": "mongodb://127.0.0.1:27017/klinik"}, []),
    ({"redis_url": "redis://:pw@10.0.0.5:6379/0"}, ["REDIS_URL"]),
    ({"redis_url": "rediss://:pw@10.0.0.5:6378/0"}, []),
    ({"redis_url": "redis://localhost:6379/0"}, []),
    ({"wati_api_url": "http://live.wati.example"}, ["WATI_API_URL"]),
    ({"smtp_tls": "off"}, ["SMTP_TLS"]),
])
def test_unencrypted_links_to_other_hosts_are_warned_about(values: dict[str, str],
                                                           warned: list[str]) -> None:
    warnings = production(**values).transport_warnings()
    assert [w.split(" ", 1)[0].rstrip(":").split("=")[0] for w in warnings] == warned
    assert "pw@" not in " ".join(warnings)  # URLs (and their passwords) are never printed


async def test_rediss_urls_speak_tls() -> None:
    client = redis_client("rediss://:secret@10.0.0.5:6378/0")
    try:
        assert client.connection_pool.connection_class is SSLConnection
    finally:
        await client.aclose()
    plain = redis_client("redis://127.0.0.1:6379/0")
    try:
        assert plain.connection_pool.connection_class is not SSLConnection
    finally:
        await plain.aclose()
