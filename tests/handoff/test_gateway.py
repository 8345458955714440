"""The handoff through the gateway, the sandbox and the store: a request assigns an operator
in Wati and silences the bot, staff messages from Wati's inbox are logged, and the
conversation returns to the bot when solved in Wati or after the timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.setup import RUNTIME
from notify.handoff_rules import after_hours_note
from notify.runtime import NOTIFIER
from tests.bot.conftest import BotApp
from tests.handoff.conftest import OPERATOR

WA = "6281234567890"


def asks_for_staff(app: BotApp, reason: str = "requested") -> Any:
    """A Rasa stand-in whose action_handoff writes the kv request as actions/flows.py does
    (the patient taps "Hubungi staf": the tracker then says intent human_handoff)."""
    def replier(sender: str, message: str) -> list[dict[str, Any]]:
        if message in ("/human_handoff", "???"):
            app.store.kv_set("handoff:" + sender, {"wa_id": sender, "open": True,
                                                   "reason": reason, "language": "id"})
            if reason == "fallback":
                return [{"text": "Mau saya hubungkan dengan staf klinik?",
                         "buttons": [{"title": "Hubungi staf", "payload": "/human_handoff"},
                                     {"title": "Menu", "payload": "/greet"}]}]
            return [{"text": "Baik, pesan Anda sudah diteruskan ke staf klinik."}]
        return [{"text": f"echo: {message}"}]
    return replier


def handoffs(app: BotApp, **query: Any) -> list[dict[str, Any]]:
    return list(app.store.db["handoffs"].find(query))


async def test_a_request_assigns_an_operator_and_silences_the_bot(bot_app: BotApp) -> None:
    box, rasa = bot_app.sandbox, bot_app.rasa
    rasa.replier = asks_for_staff(bot_app)
    await box.inject(WA, text="halo", name="Budi Santoso")
    await bot_app.settle()
    await box.inject(WA, text="/human_handoff", name="Budi Santoso")
    await bot_app.settle()
    [handoff] = handoffs(bot_app, status="open")
    assert handoff["reason"] == "requested" and handoff["wa_id"] == WA
    assert handoff["name"] == "Budi Santoso" and handoff["assigned"] is True
    assert [m["text"] for m in handoff["last_messages"] if m["direction"] == "in"] == [
        "halo", "/human_handoff"]
    # Wati was asked to give the conversation to the operator (v3 PUT .../operator)
    assert box.state.operators == {WA: OPERATOR}
    assert box.state.assignments[-1] == {"api": "v3", "to": WA, "email": OPERATOR,
                                         "at": box.state.assignments[-1]["at"]}
    assert bot_app.store.kv_get("handoff:" + WA)["open"] is False  # consumed
    note = after_hours_note(datetime.now(UTC), "id")
    texts = [s["text"] for s in box.sent_to(WA)]
    assert texts[-1] == (note or "Baik, pesan Anda sudah diteruskan ke staf klinik.")

    sent_before, asked_before = len(box.sent), len(rasa.calls)
    await box.inject(WA, text="halo? ada orang?", name="Budi Santoso")
    await box.inject(WA, kind="image", name="Budi Santoso")
    await bot_app.settle()
    assert len(rasa.calls) == asked_before and len(box.sent) == sent_before  # silent
    logged = list(bot_app.store.chat_logs.find({"wa_id": WA, "direction": "in"}))
    assert [(d["text"], d["handoff"]) for d in logged[-2:]] == [
        ("halo? ada orang?", True), ("[image]", True)]
    [handoff] = handoffs(bot_app, status="open")
    assert handoff["last_messages"][-1]["text"] == "[image]"

    # "menu" still reaches the bot while the patient waits
    await box.inject(WA, text="menu", name="Budi Santoso")
    await bot_app.settle()
    assert rasa.messages_of(WA)[-1] == "menu"
    assert handoffs(bot_app, status="open")


async def test_staff_messages_from_wati_are_logged_and_solved_returns_to_the_bot(
        bot_app: BotApp) -> None:
    box, rasa = bot_app.sandbox, bot_app.rasa
    rasa.replier = asks_for_staff(bot_app)
    await box.inject(WA, text="/human_handoff")
    await bot_app.settle()
    await box.staff_reply(WA, "Halo Pak, saya Rina dari klinik. Ada yang bisa dibantu?")
    await bot_app.settle()
    staff = list(bot_app.store.chat_logs.find({"wa_id": WA, "staff": True}))
    assert [(d["text"], d["by"]) for d in staff] == [
        ("Halo Pak, saya Rina dari klinik. Ada yang bisa dibantu?", OPERATOR)]
    [handoff] = handoffs(bot_app, status="open")
    assert handoff["answered_at"] is not None and handoff["taken_by"] == OPERATOR

    await box.solve(WA)
    await bot_app.settle()
    [closed] = handoffs(bot_app)
    assert closed["status"] == "closed" and closed["resolution"] == "wati"
    assert "open_key" not in closed
    await box.inject(WA, text="terima kasih")
    await bot_app.settle()
    assert rasa.messages_of(WA)[-1] == "terima kasih"  # the bot answers again
    assert box.sent_to(WA)[-1]["text"] == "echo: terima kasih"


async def test_staff_writing_first_in_wati_takes_the_chat(bot_app: BotApp) -> None:
    box, rasa = bot_app.sandbox, bot_app.rasa
    await box.inject(WA, text="halo")
    await bot_app.settle()
    await box.staff_reply(WA, "Selamat pagi, ini staf klinik.", operator="rina@klinik.test")
    await bot_app.settle()
    [handoff] = handoffs(bot_app, status="open")
    assert handoff["reason"] == "staff" and handoff["by"] == "rina@klinik.test"
    assert box.state.assignments == []  # staff already have it in Wati
    asked = len(rasa.calls)
    await box.inject(WA, text="saya mau tanya biaya")
    await bot_app.settle()
    assert len(rasa.calls) == asked


async def test_our_own_replies_reported_with_an_operator_are_not_staff(bot_app: BotApp) -> None:
    box = bot_app.sandbox
    await box.inject(WA, text="halo")
    await bot_app.settle()
    ours = box.sent_to(WA)[-1]
    await box.post_webhook({
        "eventType": "sessionMessageSent_v2", "id": ours["message_id"],
        "localMessageId": ours["local_message_id"], "text": ours["text"], "type": "text",
        "waId": WA, "owner": True, "operatorName": "Bot", "timestamp": "1"})
    await bot_app.settle()
    assert not list(bot_app.store.chat_logs.find({"staff": True}))
    assert not handoffs(bot_app)


async def test_second_fallback_hands_off_instead_of_offering(bot_app: BotApp) -> None:
    box = bot_app.sandbox
    bot_app.rasa.replier = asks_for_staff(bot_app, "fallback")
    await box.inject(WA, text="???")
    await bot_app.settle()
    [handoff] = handoffs(bot_app, status="open")
    assert handoff["reason"] == "fallback"
    replies = [s for s in box.sent_to(WA)]
    assert replies[0]["op"] == "text"  # not the offer's buttons
    assert replies[0]["text"].startswith("Baik, percakapan ini saya teruskan ke staf klinik")


async def test_after_the_timeout_the_bot_is_back_with_a_polite_note(bot_app: BotApp) -> None:
    box, rasa = bot_app.sandbox, bot_app.rasa
    rasa.replier = asks_for_staff(bot_app)
    await box.inject(WA, text="/human_handoff")
    await bot_app.settle()
    bot_app.store.db["handoffs"].update_one(
        {"status": "open"}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    desk = bot_app.client.server.app[NOTIFIER].handoffs
    assert await desk.expire_due() == 1
    assert await desk.expire_due() == 0  # once
    [closed] = handoffs(bot_app)
    assert closed["resolution"] == "timeout"
    assert box.state.operators == {}  # back to the bot in Wati
    assert box.state.assignments[-1]["email"] is None
    note = await box.wait_for(lambda: [s for s in box.sent_to(WA)
                                       if "staf kami belum sempat membalas" in s["text"]])
    assert len(note) == 1
    entry = bot_app.store.outbox.find_one({"kind": "handoff_note"})
    assert entry["dedupe_key"] == f"handoff_timeout:{closed['_id']}"
    await box.inject(WA, text="oke")
    await bot_app.settle()
    assert rasa.messages_of(WA)[-1] == "oke"


async def test_an_expired_handoff_is_given_back_when_the_patient_writes(bot_app: BotApp) -> None:
    box, rasa = bot_app.sandbox, bot_app.rasa
    rasa.replier = asks_for_staff(bot_app)
    await box.inject(WA, text="/human_handoff")
    await bot_app.settle()
    bot_app.store.db["handoffs"].update_one(
        {"status": "open"}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}})
    await box.inject(WA, text="masih ada orang?")
    await bot_app.settle()
    assert rasa.messages_of(WA)[-1] == "masih ada orang?"
    assert handoffs(bot_app)[0]["resolution"] == "timeout"
    assert bot_app.client.server.app[RUNTIME].gateway.handoffs is not None


async def test_one_open_handoff_per_number_even_when_two_begin_at_once(bot_app: BotApp) -> None:
    import asyncio

    from notify.handoff_rules import Reason

    desk = bot_app.client.server.app[NOTIFIER].handoffs
    results = await asyncio.gather(*(desk.begin(WA, Reason.requested) for _ in range(5)))
    assert sum(created for _, created in results) == 1
    assert len({doc["id"] for doc, _ in results}) == 1
    assert len(handoffs(bot_app)) == 1
    assert len(bot_app.sandbox.state.assignments) == 1


async def test_the_sweep_expires_and_the_gauge_counts_unanswered(bot_app: BotApp) -> None:
    from app.metrics import REGISTRY
    from notify.handoff_rules import Reason
    from scheduler.setup import sweep_handoffs

    app = bot_app.client.server.app
    desk = app[NOTIFIER].handoffs
    waiting, _ = await desk.begin("6281200000001", Reason.requested)
    answered, _ = await desk.begin("6281200000002", Reason.requested)
    await desk.staff_wrote(answered, "Halo", datetime.now(UTC), "cs@klinik.test")
    assert await sweep_handoffs(app) == 0
    assert REGISTRY.get_sample_value("klinik_handoffs_open") == 1
    bot_app.store.db["handoffs"].update_one(
        {"_id": waiting["id"]}, {"$set": {"expires_at": datetime.now(UTC)}})
    assert await sweep_handoffs(app) == 1
    assert REGISTRY.get_sample_value("klinik_handoffs_open") == 0


async def test_our_inbox_reply_echoed_by_wati_is_logged_once(bot_app: BotApp) -> None:
    """Wati reports a reply we sent from the staff inbox like an operator's message, maybe
    before our send recorded its message id: it is not logged a second time."""
    box = bot_app.sandbox
    bot_app.rasa.replier = asks_for_staff(bot_app)
    await box.inject(WA, text="/human_handoff")
    await bot_app.settle()
    desk = bot_app.client.server.app[NOTIFIER].handoffs
    [doc] = handoffs(bot_app, status="open")
    handoff = await desk.handoffs.get(doc["_id"])
    await desk.reply(handoff, "Halo, hasil lab Anda sudah ada.", "user-staff")
    await box.post_webhook({
        "eventType": "sessionMessageSent_v2", "id": "not-recorded-yet", "type": "text",
        "text": "Halo, hasil lab Anda sudah ada.", "waId": WA, "owner": True,
        "operatorName": "API", "timestamp": "1"})
    await bot_app.settle()
    staff = list(bot_app.store.chat_logs.find({"wa_id": WA, "staff": True}))
    assert [d["text"] for d in staff] == ["Halo, hasil lab Anda sudah ada."]
