"""Declared indexes for the pipelines, and the command line."""

from __future__ import annotations

import json

import pytest

from analytics.__main__ import main
from booking.store import MongoStore
from booking.store_analytics import ensure_analytics_indexes
from tests.analytics.fake_bigquery import FakeBigQueryServer


def keys(store: MongoStore, collection: str) -> set[tuple[tuple[str, int], ...]]:
    info = store.db[collection].index_information()
    return {tuple((k, int(d)) for k, d in spec["key"]) for spec in info.values()}


def test_every_pipeline_match_has_an_index(sync_store: MongoStore) -> None:
    ensure_analytics_indexes(sync_store)
    ensure_analytics_indexes(sync_store)   # idempotent
    bookings = keys(sync_store, "bookings")
    assert (("created_at", 1), ("doctor_id", 1)) in bookings      # new bookings (+ doctor)
    assert (("doctor_id", 1), ("start", 1)) in bookings           # appointments by doctor
    assert (("start", 1),) in bookings                            # appointments, all doctors
    assert (("updated_at", 1), ("_id", 1)) in bookings            # export watermark
    chat = keys(sync_store, "chat_logs")
    assert (("direction", 1), ("at", 1)) in chat                  # in/out over a range
    assert (("at", 1), ("_id", 1)) in chat                        # facets + export
    assert (("wa_id", 1), ("at", 1)) in chat
    outbox = keys(sync_store, "outbox")
    assert (("kind", 1), ("created_at", 1)) in outbox             # reminder outcomes
    assert (("created_at", 1), ("_id", 1)) in outbox              # export
    assert (("whatsapp", 1),) in keys(sync_store, "users")        # conversion join


def test_cli_export_off_without_a_project(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("BIGQUERY_PROJECT", "KLINIK_BIGQUERY_PROJECT", "MONGODB_URL",
                 "KLINIK_MONGODB_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["export"]) == 2
    assert "BIGQUERY_PROJECT" in capsys.readouterr().err


def test_cli_export_against_the_fake_server(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with FakeBigQueryServer() as srv:
        monkeypatch.setenv("BIGQUERY_PROJECT", "cli-proj")
        monkeypatch.setenv("BIGQUERY_DATASET", "cli_ds")
        monkeypatch.setenv("BIGQUERY_API_ENDPOINT", srv.url)
        monkeypatch.setenv("MONGODB_URL", "mongomock://")
        assert main(["export", "--table", "nope"]) == 2
        assert main(["export", "--table", "chat_logs"]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"chat_logs": 0}
        assert ("cli-proj", "cli_ds", "bookings") in srv.fake.tables
