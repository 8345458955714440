"""The sandbox chat page plays staff too: after a handoff the operator is shown, "Staf" sends
a message as the operator (the app logs it as staff's) and "Selesai" marks the conversation
solved (the bot answers again). Headless Chromium, like tests/bot/test_browser.py."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.bot.conftest import BotApp
from tests.handoff.conftest import OPERATOR
from tests.handoff.test_gateway import asks_for_staff

WA = "6281299990002"

pytestmark = pytest.mark.browser



async def test_staff_row_replies_and_solves(bot_app: BotApp, browser: Browser) -> None:
    bot_app.rasa.replier = asks_for_staff(bot_app)
    page = await browser.new_page()
    await page.goto(bot_app.sandbox.url + "/")
    await page.fill("#phone", WA)
    await page.click("#start")
    await page.fill("#input", "/human_handoff")
    await page.press("#input", "Enter")
    await expect(page.locator("#operator")).to_have_text(OPERATOR, timeout=10_000)
    await expect(page.locator(".hint.system").first).to_contain_text(OPERATOR)
    await page.fill("#staffText", "Halo, saya Rina dari klinik.")
    await page.click("#staffSend")
    await expect(page.locator(".staff-tag")).to_contain_text(OPERATOR)
    await bot_app.settle()
    assert bot_app.store.chat_logs.count_documents({"wa_id": WA, "staff": True}) == 1
    await page.click("#solve")
    await expect(page.locator("#operator")).to_have_text("Bot", timeout=10_000)
    await bot_app.settle()
    assert bot_app.store.db["handoffs"].find_one()["resolution"] == "wati"
    await page.fill("#input", "halo lagi")
    await page.press("#input", "Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("echo: halo lagi")
    await page.close()
