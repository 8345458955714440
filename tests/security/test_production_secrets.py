"""Deploying with the development secrets: a token signed with a public default would open
the admin API. Production mode (APP_ENV=production, or real MONGODB_URL / REDIS_URL) refuses
to start, one line per problem naming the variable; the embedded default still starts with
no configuration and random per-start secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
GOOD = "x" * 40
SECRETS = ("JWT_SECRET", "WATI_WEBHOOK_TOKEN", "ACTIONS_TOKEN", "RASA_TOKEN")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*SECRETS, "APP_ENV", "MONGODB_URL", "REDIS_URL", "ADMIN_TOKEN",
                 "WATI_API_URL", "WATI_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("KLINIK_" + name, raising=False)
    return monkeypatch


def _problems(exc: pytest.ExceptionInfo[SettingsError]) -> list[str]:
    return [line.strip() for line in str(exc.value).splitlines()[1:]]


@pytest.mark.parametrize("trigger", [{"APP_ENV": "production"},
                                     {"REDIS_URL": "redis://10.0.0.5:6379/0"},
                                     {"MONGODB_URL": "mongodb://db.internal:27017/klinik"}])
def test_production_with_no_secrets(clean_env: pytest.MonkeyPatch,
                                    trigger: dict[str, str]) -> None:
    for key, value in trigger.items():
        clean_env.setenv(key, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert _problems(exc) == [f"{name} is not set" for name in SECRETS]


def test_production_with_the_public_development_defaults(
        clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("JWT_SECRET", "dev-only-change-me-0123456789abcdef")
    clean_env.setenv("WATI_WEBHOOK_TOKEN", "dev-webhook-token")
    clean_env.setenv("ACTIONS_TOKEN", "short")
    clean_env.setenv("RASA_TOKEN", GOOD)
    clean_env.setenv("ADMIN_TOKEN", "admin123")
    clean_env.setenv("WATI_API_URL", "https://live-server-1234.wati.io")
    clean_env.setenv("WATI_API_TOKEN", "sandbox-token")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert _problems(exc) == [
        "JWT_SECRET is a development default",
        "WATI_WEBHOOK_TOKEN is a development default",
        "ACTIONS_TOKEN is shorter than 32 characters",
        "ADMIN_TOKEN is shorter than 32 characters",
        "WATI_API_TOKEN is a development default (WATI_API_URL is set)",
    ]


def test_production_with_strong_secrets_starts(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    for i, name in enumerate(SECRETS):
        clean_env.setenv(name, f"{GOOD}{i}")
    settings = load_settings()
    assert settings.production and not settings.demo_accounts
    assert settings.smtp_mode == "starttls"  # mail is encrypted outside the embedded mode


def test_embedded_default_needs_no_secrets_and_shares_none(
        clean_env: pytest.MonkeyPatch) -> None:
    first, second = load_settings(), load_settings()
    assert first.embedded and not first.production and first.demo_accounts
    for field in ("jwt_secret", "wati_webhook_token", "actions_token", "rasa_token"):
        a, b = getattr(first, field).get_secret_value(), getattr(second, field).get_secret_value()
        assert len(a) >= 32 and a != b  # random per start, known to nobody


def test_the_app_process_exits_naming_each_variable() -> None:
    env = {k: v for k, v in os.environ.items()
           if k.removeprefix("KLINIK_") not in (*SECRETS, "APP_ENV")}
    env.update({"REDIS_URL": "redis://127.0.0.1:6379/0", "JWT_SECRET": "short"})
    proc = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "JWT_SECRET" in proc.stderr and "at least 32 characters" in proc.stderr
    env["JWT_SECRET"] = GOOD
    proc = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["refusing to start in production mode:"] + [
        f"  {name} is not set" for name in SECRETS[1:]]
    assert GOOD not in proc.stderr and GOOD not in proc.stdout  # secrets never printed
