"""Key rotation: `booking.store_keys.rotate` re-seals everything under the first key, in
batches, and a run that crashed half-way resumes where it stopped."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from booking import store_keys
from booking.crypto import Keyring, key_id_of, new_key_b64
from booking.models import User
from booking.store import MongoStore
from booking.store_chat import insert_chat_logs, touch_inbound
from booking.store_sealed import SPECS

OLD, NEW = new_key_b64(), new_key_b64()
INDEX = new_key_b64()


def keyring(spec: str) -> Keyring:
    return Keyring.from_strings(spec, INDEX)


def reopen(ms: MongoStore, ring: Keyring) -> MongoStore:
    """The same database seen by a process with another keyring."""
    return MongoStore(ms.client, ms.raw_db.name, is_mock=ms.is_mock, keyring=ring)


def seed(ms: MongoStore, n: int) -> None:
    now = datetime.now(UTC)
    for i in range(n):
        number = f"6281234{i:06d}"
        ms.insert_user(User(id=f"u{i:03d}", name=f"Pasien {i}", whatsapp=number,
                            email=f"p{i}@example.id"))
        insert_chat_logs(ms, [{"_id": f"c{i:03d}", "wa_id": number, "direction": "in",
                               "text": f"pesan rahasia {i}", "at": now, "entities": []}])
        touch_inbound(ms, number, now, f"Pasien {i}", "id")


def key_ids(ms: MongoStore) -> set[str]:
    ids: set[str] = set()
    for name, counts in store_keys.key_usage(ms).items():
        assert name in SPECS
        ids |= set(counts)
    return ids


def everything_readable(ms: MongoStore, n: int) -> None:
    for i in range(n):
        user = ms.get_user(f"u{i:03d}")
        assert user.name == f"Pasien {i}" and user.email == f"p{i}@example.id"
        assert ms.find_user(whatsapp=f"6281234{i:06d}") is not None
        log = ms.chat_logs.find_one({"_id": f"c{i:03d}"})
        assert log is not None and log["text"] == f"pesan rahasia {i}"
        contact = ms.db["wa_contacts"].find_one({"_id": f"6281234{i:06d}"})
        assert contact is not None and contact["name"] == f"Pasien {i}"


class Crash(Exception):
    pass


def test_rotation_crashes_half_way_and_resumes(sync_store: MongoStore) -> None:
    n = 12
    old = reopen(sync_store, keyring(f"k1:{OLD}"))
    old.ensure_indexes()
    seed(old, n)
    assert key_ids(old) == {"k1"}

    both = reopen(sync_store, keyring(f"k2:{NEW},k1:{OLD}"))
    everything_readable(both, n)              # the app runs on at once with the new keyring
    seen: list[tuple[str, Any]] = []

    def crash_in_chat_logs(collection: str, doc_id: Any) -> None:
        seen.append((collection, doc_id))
        if collection == "chat_logs" and len([s for s in seen if s[0] == "chat_logs"]) == 7:
            raise Crash

    with pytest.raises(Crash):
        store_keys.rotate(both, batch=5, after_document=crash_in_chat_logs)
    assert key_ids(both) == {"k1", "k2"}      # half done: both keys in use
    everything_readable(both, n)

    again: list[tuple[str, Any]] = []
    report = store_keys.rotate(both, batch=5,
                               after_document=lambda c, d: again.append((c, d)))
    # users were finished before the crash (rescanned, nothing left to do); chat_logs
    # resumed after its last saved batch, not from the start
    assert report.resumed == {"chat_logs": "c004"}
    assert [d for c, d in again if c == "chat_logs"][0] == "c005"
    assert report.resealed["users"] == 0 and report.resealed["wa_contacts"] == 0
    # c005 and c006 were re-sealed before the crash: the compare-and-set left them alone
    assert report.scanned["chat_logs"] == n - 5 and report.resealed["chat_logs"] == n - 7
    assert key_ids(both) == {"k2"}
    everything_readable(both, n)
    # the old key can go: a process with only the new key reads everything
    everything_readable(reopen(sync_store, keyring(f"k2:{NEW}")), n)
    assert sync_store.kv.count_documents({"_id": {"$regex": "^keys:rotate:"}}) == 0


def test_plain_documents_from_before_encryption_are_sealed_by_rotate(
        sync_store: MongoStore) -> None:
    raw = sync_store.raw_db
    raw["users"].insert_one({"_id": "legacy", "name": "Lama Sekali", "whatsapp": "6281311112222",
                             "email": "lama@example.id", "role": "patient", "language": "id",
                             "token_version": 0, "created_at": datetime.now(UTC)})
    raw["wa_contacts"].insert_one({"_id": "6281311112222", "name": "Lama Sekali"})
    ring = keyring(f"k3:{base64.b64encode(b'3' * 32).decode()}")
    ms = reopen(sync_store, ring)
    report = store_keys.rotate(ms)
    assert report.resealed["users"] == 1 and report.resealed["wa_contacts"] == 1
    dump = str(list(raw["users"].find())) + str(list(raw["wa_contacts"].find()))
    assert "6281311112222" not in dump and "Lama" not in dump and "lama@" not in dump
    user = ms.find_user(whatsapp="6281311112222")
    assert user is not None and user.name == "Lama Sekali" and user.email == "lama@example.id"
    contact = ms.db["wa_contacts"].find_one({"_id": "6281311112222"})
    assert contact is not None and contact["name"] == "Lama Sekali"
    assert {key_id_of(v) for v in [raw["users"].find_one()["name"]]} == {"k3"}


def test_the_cli_refuses_to_run_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from booking.keys import main
    for name in ("DATA_KEYS", "DATA_INDEX_KEY", "KLINIK_DATA_KEYS", "KLINIK_DATA_INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="must be set"):
        main(["rotate"])
    assert main(["new", "--id", "k2"]) == 0
