"""The staff inbox API: roles (staff and admin only), masked numbers, the transcript, take,
reply through the outbox (sent by Wati), resolve (back to the bot in Wati), and conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from booking.models import Role, User
from booking.store import Store
from notify.handoff_rules import Reason, Resolution
from notify.runtime import NOTIFIER
from sandbox import WatiSandbox
from tests.api.conftest import Api
from tests.bot.conftest import API_TOKEN

WA = "6281298765432"
OPERATOR = "cs@klinik.test"


@pytest.fixture
async def sandbox() -> AsyncIterator[WatiSandbox]:
    box = WatiSandbox(token=API_TOKEN)
    await box.start()
    yield box
    await box.stop()


@pytest.fixture
def settings_overrides(sandbox: WatiSandbox) -> dict[str, Any]:
    return {"wati_api_url": sandbox.url, "wati_api_token": API_TOKEN,
            "handoff_operator_email": OPERATOR}


@pytest.fixture
def staff(api: Api) -> User:
    user = User(id="user-staff-1", name="Rina Staf", email="staf@test.id", role=Role.staff)
    api.store.insert_user(user)
    return user


async def open_handoff(api: Api, wa_id: str = WA, name: str = "Budi Santoso") -> dict[str, Any]:
    now = datetime.now(UTC)
    store = Store(api.store)
    await store.chat.touch_inbound(wa_id, now, name, "id")
    await store.chat.insert_chat_logs([
        {"wa_id": wa_id, "direction": "in", "text": "mau bicara dengan admin", "at": now},
        {"wa_id": wa_id, "direction": "out", "text": "Baik, diteruskan ke staf.", "at": now,
         "message_id": "m1"}])
    desk = api.client.server.app[NOTIFIER].handoffs
    doc, created = await desk.begin(wa_id, Reason.requested, language="id")
    assert created
    return doc


ROUTES = [("get", "/handoffs", None), ("get", "/handoffs/{id}", None),
          ("post", "/handoffs/{id}/take", {}), ("post", "/handoffs/{id}/reply", {"text": "Halo"}),
          ("post", "/handoffs/{id}/resolve", {})]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_only_staff_and_admins_reach_the_inbox(api: Api, staff: User, method: str,
                                                     path: str, body: Any) -> None:
    doc = await open_handoff(api)
    url = path.format(id=doc["id"])
    call = getattr(api.client, method)
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    assert (await call(url, **kwargs)).status == 401
    for user in (api.seed.patient, api.seed.doctor_user):
        resp = await call(url, headers=api.headers(user), **kwargs)
        assert resp.status == 403, (user.role, await resp.text())
    resp = await call(url, headers=api.headers(staff), **kwargs)
    assert resp.status in (200, 202), await resp.text()
    if method == "post" and path.endswith("resolve"):
        doc = await open_handoff(api)
        url = path.format(id=doc["id"])
    resp = await call(url, headers=api.headers(api.seed.admin), **kwargs)
    assert resp.status in (200, 202), await resp.text()


async def test_list_masks_numbers_and_puts_open_first(api: Api, staff: User) -> None:
    first = await open_handoff(api, "6281200000777", "Sari Dewi")
    await asyncio.sleep(0.01)
    second = await open_handoff(api, "6281200000888", "Joko")
    desk = api.client.server.app[NOTIFIER].handoffs
    await desk.resolve(second["id"], Resolution.staff, by="x")
    resp = await api.client.get("/handoffs?status=all", headers=api.headers(staff))
    items = (await resp.json())["items"]
    assert [(i["name"], i["number"], i["status"]) for i in items] == [
        ("Sari Dewi", "•••••••••0777", "open"), ("Joko", "•••••••••0888", "closed")]
    assert items[0]["reason"] == "requested" and items[0]["waiting_minutes"] == 0
    assert [m["text"] for m in items[0]["last_messages"]] == [
        "mau bicara dengan admin", "Baik, diteruskan ke staf."]
    text = await resp.text()
    assert "6281200000777" not in text and "6281200000888" not in text
    resp = await api.client.get("/handoffs", headers=api.headers(staff))
    assert [i["id"] for i in (await resp.json())["items"]] == [first["id"]]


async def test_take_reply_resolve(api: Api, staff: User, sandbox: WatiSandbox) -> None:
    doc = await open_handoff(api)
    assert sandbox.state.operators == {WA: OPERATOR}
    headers = api.headers(staff)
    resp = await api.client.post(f"/handoffs/{doc['id']}/take", headers=headers)
    assert (await resp.json())["taken_by"] == staff.id
    resp = await api.client.post(f"/handoffs/{doc['id']}/reply", headers=headers,
                                 json={"text": "Halo Pak Budi, saya Rina dari klinik."})
    assert resp.status == 202
    assert (await resp.json())["status"] == "sent"  # dispatched at once by this process
    [sent] = sandbox.sent_to(WA)
    assert sent["op"] == "text" and sent["text"] == "Halo Pak Budi, saya Rina dari klinik."
    resp = await api.client.get(f"/handoffs/{doc['id']}", headers=headers)
    conversation = await resp.json()
    assert conversation["transcript"][-1] == {
        "direction": "out", "text": "Halo Pak Budi, saya Rina dari klinik.",
        "at": conversation["transcript"][-1]["at"], "by": staff.id}
    assert conversation["handoff"]["answered"] is True
    assert "6281298765432" not in await resp.text()

    resp = await api.client.post(f"/handoffs/{doc['id']}/resolve", headers=headers,
                                 json={"note": "jadwal sudah dijelaskan"})
    out = await resp.json()
    assert out["status"] == "closed" and out["resolution"] == "staff"
    assert sandbox.state.operators == {}  # back to the bot in Wati
    for path, body in (("resolve", {}), ("reply", {"text": "lagi"}), ("take", None)):
        resp = await api.client.post(f"/handoffs/{doc['id']}/{path}", headers=headers,
                                     json=body)
        assert resp.status == 409, path


async def test_unknown_ids_and_operator_objects_are_refused(api: Api, staff: User) -> None:
    doc = await open_handoff(api)
    headers = api.headers(staff)
    for bad in ("0" * 32, "nope", "%24ne"):
        assert (await api.client.get(f"/handoffs/{bad}", headers=headers)).status == 404
    resp = await api.client.post(f"/handoffs/{doc['id']}/reply", headers=headers,
                                 json={"text": {"$ne": None}})
    assert resp.status == 422
    resp = await api.client.post(f"/handoffs/{doc['id']}/reply", headers=headers,
                                 json={"text": "  "})
    assert resp.status == 422
    resp = await api.client.get("/handoffs?status=%7B%22%24ne%22%3A1%7D", headers=headers)
    assert resp.status == 422


async def test_reply_outside_the_window_uses_the_reopen_template(api: Api, staff: User,
                                                                 sandbox: WatiSandbox) -> None:
    doc = await open_handoff(api)
    api.store.db["wa_contacts"].update_one(
        {"_id": WA}, {"$set": {"last_inbound_at": datetime.now(UTC) - timedelta(days=2)}})
    resp = await api.client.post(f"/handoffs/{doc['id']}/reply", headers=api.headers(staff),
                                 json={"text": "Maaf baru sempat membalas."})
    assert resp.status == 202
    [sent] = sandbox.sent_to(WA)
    assert sent["op"] == "template" and sent["template"] == "reopen_conversation"
