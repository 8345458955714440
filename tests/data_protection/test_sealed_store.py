"""The sealed store: what the database holds is ciphertext and blind indexes; what the
store returns is plain; a value moved to another record does not decrypt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.crypto import DecryptError, is_sealed
from booking.errors import Conflict
from booking.models import User
from booking.store import MongoStore, Store
from booking.store_chat import contact, insert_chat_logs, touch_inbound
from tests.data_protection.conftest import leaks

WA = "6281234567890"
NAME = "Budi Santoso"
EMAIL = "budi.santoso@example.id"


def test_user_fields_are_sealed_and_lookups_still_work(sync_store: MongoStore) -> None:
    user = sync_store.insert_user(User(name=NAME, email=EMAIL, whatsapp=WA,
                                       whatsapp_pending="6281299990000"))
    raw = sync_store.raw_db["users"].find_one({"_id": user.id})
    assert raw is not None
    assert is_sealed(raw["name"]) and is_sealed(raw["whatsapp_enc"])
    assert is_sealed(raw["email_enc"]) and is_sealed(raw["whatsapp_pending"])
    assert raw["whatsapp"].startswith("bi1:") and raw["email"].startswith("bi1:")
    assert leaks(sync_store, [WA, NAME, "Budi", EMAIL, "6281299990000"]) == []
    def same(found: User | None) -> bool:
        return found is not None and found.model_dump(exclude={"created_at"}) == \
            user.model_dump(exclude={"created_at"})

    assert same(sync_store.get_user(user.id))
    assert same(sync_store.find_user(whatsapp=WA))
    assert same(sync_store.find_user(email="  Budi.Santoso@Example.ID "))
    # the unique indexes hold on the blind index as they held on the plain value
    with pytest.raises(Conflict):
        sync_store.insert_user(User(name="Lain", email=EMAIL))
    with pytest.raises(Conflict):
        sync_store.insert_user(User(name="Lain", whatsapp=WA))


def test_a_ciphertext_copied_to_another_record_does_not_decrypt(sync_store: MongoStore) -> None:
    a = sync_store.insert_user(User(name=NAME, whatsapp=WA))
    b = sync_store.insert_user(User(name="Siti Aminah", whatsapp="6281200000999"))
    stolen = sync_store.raw_db["users"].find_one({"_id": a.id})
    assert stolen is not None
    sync_store.raw_db["users"].update_one({"_id": b.id}, {"$set": {"name": stolen["name"]}})
    with pytest.raises(DecryptError):
        sync_store.get_user(b.id)
    # nor into another field of the same record
    sync_store.raw_db["users"].update_one({"_id": a.id},
                                          {"$set": {"name": stolen["whatsapp_enc"]}})
    with pytest.raises(DecryptError):
        sync_store.get_user(a.id)


def test_a_copied_blind_index_finds_nothing_new(sync_store: MongoStore) -> None:
    a = sync_store.insert_user(User(name=NAME, whatsapp=WA))
    raw = sync_store.raw_db["users"].find_one({"_id": a.id})
    assert raw is not None
    # Looking the blind index up as if it were a number finds nobody: values are hashed again.
    assert sync_store.find_user(whatsapp=raw["whatsapp"].removeprefix("bi1:")) is None


async def test_whatsapp_patient_upsert_and_attach(store: Store, sync_store: MongoStore) -> None:
    first = await store.users.upsert_whatsapp_patient(WA, NAME, "id")
    again = await store.users.upsert_whatsapp_patient(WA, "Other", "en")
    assert again.id == first.id and again.name == NAME
    web = await store.users.insert(User(name="Budi Web", email=EMAIL))
    moved_to, moved = await store.users.attach_whatsapp(web.id, WA)
    assert moved_to.whatsapp == WA and moved == 0
    assert await store.users.find(whatsapp=WA) == moved_to
    assert leaks(sync_store, [WA, NAME, EMAIL]) == []


def test_chat_logs_contacts_and_inbox_are_sealed(sync_store: MongoStore) -> None:
    now = datetime.now(UTC)
    insert_chat_logs(sync_store, [
        {"_id": "c1", "wa_id": WA, "direction": "in", "text": "saya alergi penisilin",
         "type": "text", "intent": "inform", "entities": [{"entity": "name", "value": NAME}],
         "at": now, "message_id": "m1"},
        {"_id": "c2", "wa_id": WA, "direction": "out", "text": "Booking ABC-DEF dikonfirmasi",
         "type": "text", "intent": None, "entities": [], "at": now, "message_id": "m2",
         "refs": ["ABC-DEF"]}])
    touch_inbound(sync_store, WA, now, NAME, "id")
    sync_store.db["inbox"].insert_one({"_id": f"c:{WA}", "wa_id": WA, "lane": WA,
                                       "status": "pending", "event": {"senderName": NAME}})
    assert leaks(sync_store, [WA, NAME, "penisilin", "dikonfirmasi"]) == []
    logged = sync_store.chat_logs.find_one({"wa_id": WA, "direction": "in"})
    assert logged is not None and logged["text"] == "saya alergi penisilin"
    assert logged["entities"][0]["value"] == NAME
    found = contact(sync_store, WA)
    assert found is not None and found["_id"] == WA and found["name"] == NAME
    inbox = sync_store.db["inbox"].find_one({"_id": f"c:{WA}"})
    assert inbox is not None and inbox["event"] == {"senderName": NAME} and inbox["lane"] == WA
    from booking.store_chat import chat_reply_with
    reply = chat_reply_with(sync_store, WA, "ABC-DEF", now - timedelta(seconds=1))
    assert reply is not None and reply["_id"] == "c2"
    assert chat_reply_with(sync_store, WA, "XYZ-XYZ", now - timedelta(seconds=1)) is None


def test_encrypted_fields_refuse_queries_that_could_not_match(sync_store: MongoStore) -> None:
    from booking.store_sealed import SealedQueryError
    with pytest.raises(SealedQueryError):
        sync_store.chat_logs.find_one({"text": {"$regex": "halo"}})
    with pytest.raises(SealedQueryError):
        sync_store.users.find_one({"whatsapp": {"$regex": "^62"}})


def test_documents_stored_before_encryption_are_read_as_they_are(
        sync_store: MongoStore) -> None:
    sync_store.raw_db["chat_logs"].insert_one({"_id": "old", "wa_id": "628111", "text": "lama",
                                               "direction": "in", "at": datetime.now(UTC)})
    doc = sync_store.chat_logs.find_one({"_id": "old"})
    assert doc is not None and doc["text"] == "lama" and doc["wa_id"] == "628111"


def test_driver_calls_that_would_bypass_the_sealing_are_refused(sync_store: MongoStore) -> None:
    from pymongo import InsertOne

    from booking.store_sealed import SealedQueryError
    with pytest.raises(SealedQueryError):
        sync_store.users.bulk_write([InsertOne({"_id": "x", "name": NAME})])
    with pytest.raises(SealedQueryError):
        sync_store.chat_logs.distinct("text")
    with pytest.raises(SealedQueryError):
        sync_store.users.find_one_and_replace({"_id": "x"}, {"name": NAME})
    sync_store.insert_user(User(id="gone", name=NAME, whatsapp=WA))
    deleted = sync_store.users.find_one_and_delete({"whatsapp": WA})
    assert deleted is not None and deleted["name"] == NAME and deleted["whatsapp"] == WA
    assert leaks(sync_store, [NAME, WA]) == []


def test_handoff_transcripts_are_sealed(sync_store: MongoStore) -> None:
    """A conversation handed to staff: number, name and transcript are not stored in plain,
    and the store still finds the open handoff by number, pushes and closes it."""
    from booking import store_handoffs as hs

    now = datetime.now(UTC)
    hs.ensure_indexes(sync_store)
    doc, created = hs.open_handoff(sync_store, WA, {
        "reason": "asked", "opened_at": now, "name": NAME,
        "last_messages": [{"direction": "in", "text": "saya alergi penisilin", "at": now}]})
    assert created
    hs.push_message(sync_store, doc["id"],
                    {"direction": "in", "text": "tolong dibantu kak, anak demam", "at": now},
                    10, {"last_patient_at": now})
    assert leaks(sync_store, [WA, NAME, "penisilin", "demam"]) == []
    found = hs.open_for(sync_store, WA)
    assert found is not None and found["wa_id"] == WA and found["name"] == NAME
    assert [m["text"] for m in found["last_messages"]] == [
        "saya alergi penisilin", "tolong dibantu kak, anak demam"]
    again, created_again = hs.open_handoff(sync_store, WA, {"reason": "asked"})
    assert not created_again  # one open handoff per number, through the blind index
    closed = hs.close(sync_store, found["id"], {"closed_at": now})
    assert closed is not None and hs.open_for(sync_store, WA) is None
