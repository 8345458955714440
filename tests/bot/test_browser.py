"""The sandbox chat page in headless Chromium: type a message, tap a button and a list row,
see the bot's replies (Playwright driving the system Chromium)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.bot.conftest import BotApp
from tests.bot.test_conversation import clinic_bot

pytestmark = pytest.mark.browser



async def test_chat_page_type_tap_and_see_replies(bot_app: BotApp, browser: Browser) -> None:
    bot_app.rasa.replier = clinic_bot
    page = await browser.new_page()
    await page.goto(bot_app.sandbox.url + "/")
    await page.fill("#phone", "+62 812-9999-0001")
    await page.fill("#name", "Sari")
    await page.click("#start")
    await page.fill("#input", "mau booking")
    await page.press("#input", "Enter")
    bot = page.locator(".msg.bot")
    await expect(bot.first).to_contain_text("Spesialis apa?")
    await expect(page.locator(".msg.me").first).to_contain_text("mau booking")
    await page.locator("button.choice", has_text="Anak").click()
    await expect(bot.nth(1)).to_contain_text("Privasi:")  # first contact: the notice
    await expect(bot.nth(2)).to_contain_text("Pilih dokter:")
    await page.locator(".list-open").click()
    await page.locator("button.row").nth(2).click()
    await expect(bot.nth(3)).to_contain_text('echo: /inform{"doctor_id":"d3"}')
    assert bot_app.rasa.messages_of("6281299990001") == [
        "mau booking", '/inform{"specialty":"pediatrics"}', '/inform{"doctor_id":"d3"}']
    sent: Any = bot_app.sandbox.sent_to("6281299990001")
    assert [s["op"] for s in sent] == ["buttons", "text", "list", "text"]
    await page.close()


async def test_chat_page_shows_templates_with_quick_replies(bot_app: BotApp,
                                                            browser: Browser) -> None:
    from notify.outbox import Kind, OutboxEntry

    wa = "6281299990002"
    params = {"name": "Sari", "ref": "K7M-4QX", "doctor": "dr. Budi", "date": "Senin",
              "time": "09:00 WIB", "clinic": "Klinik Sehat"}
    # The dispatcher sends a reminder only for a confirmed booking still ahead.
    bot_app.store.bookings.insert_one({"_id": "b1", "status": "confirmed",
                                       "start": datetime.now(UTC) + timedelta(days=1)})
    bot_app.store.enqueue([OutboxEntry(kind=Kind.appointment_reminder, dedupe_key="r1",
                                       booking_id="b1", to=wa, template="appointment_reminder",
                                       params=params).to_doc()])
    assert await bot_app.rt.dispatcher.run_once() == 1
    page = await browser.new_page()
    await page.goto(bot_app.sandbox.url + "/")
    await page.fill("#phone", wa)
    await page.click("#start")
    template = page.locator('.msg.bot[data-kind="template"]')
    await expect(template).to_contain_text("Template · appointment_reminder")
    await expect(template).to_contain_text("kode K7M-4QX")
    await expect(template.locator("button.choice")).to_have_text(["Hadir", "Ubah jadwal",
                                                                  "Batal"])
    await page.close()
