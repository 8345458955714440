"""The sealed store over the MongoDB wire protocol (MONGODB_URL, else the nx-27017 stand-in):
BSON round trips of sealed values and blind indexes, lookups, the unique index, the raw scan,
and a second process with the same keys reading what the first wrote."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest

from booking.crypto import Keyring, new_key_b64
from booking.errors import Conflict
from booking.models import User
from booking.store import MongoStore
from booking.store_chat import insert_chat_logs
from tests.data_protection.conftest import leaks
from tests.wire_mongodb import WireMongo

WA = "6281277665544"
KEYS, INDEX = f"k1:{new_key_b64()}", new_key_b64()


def test_sealed_documents_over_the_wire(wire_mongodb: WireMongo) -> None:
    db = f"test_{uuid.uuid4().hex[:12]}"
    ms = MongoStore.from_url(wire_mongodb.url, db_name=db,
                             keyring=Keyring.from_strings(KEYS, INDEX))
    try:
        ms.ensure_indexes()
        user = ms.insert_user(User(name="Dewi Lestari", whatsapp=WA, email="dewi@example.id"))
        with pytest.raises(Conflict):
            ms.insert_user(User(name="Lain", whatsapp=WA))
        insert_chat_logs(ms, [{"_id": "w1", "wa_id": WA, "direction": "in", "at":
                               datetime.now(UTC), "text": "kepala saya pusing sekali",
                               "entities": [{"entity": "symptom", "value": "pusing"}]}])
        assert leaks(ms, [WA, "Dewi", "dewi@example.id", "pusing"]) == []
        found = ms.find_user(email="DEWI@example.id")
        assert found is not None and found.id == user.id and found.name == "Dewi Lestari"
        # another process, configured with the same keys, reads it back
        code = ("import sys; from booking.store import MongoStore;"
                "ms = MongoStore.from_url(sys.argv[1], db_name=sys.argv[2]);"
                "u = ms.find_user(whatsapp=sys.argv[3]);"
                "log = ms.chat_logs.find_one({'wa_id': sys.argv[3]});"
                "print(u.name, '|', log['text'])")
        env = {"PATH": "/usr/bin:/bin", "DATA_KEYS": KEYS, "DATA_INDEX_KEY": INDEX}
        out = subprocess.run([sys.executable, "-c", code, wire_mongodb.url, db, WA],
                             capture_output=True, text=True, timeout=60, env=env, check=True)
        assert out.stdout.strip() == "Dewi Lestari | kepala saya pusing sekali"
    finally:
        ms.client.drop_database(db)
        ms.close()
