"""Screenshots of every page of the web app (docs/web/*.png) against a running app with the
demo data (`make run`): python scripts/web_screenshots.py [--base http://127.0.0.1:8080].

Books one slot for the demo patient (then cancels nothing: the booking is the demo's).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from playwright.async_api import Page, async_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "web"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = os.environ.get("DEMO_PASSWORD", "demo12345")
PHONE = {"width": 390, "height": 844}


async def shot(page: Page, name: str) -> None:
    await page.wait_for_load_state("networkidle")
    await page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print("docs/web/" + name + ".png")


async def sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/app/login")
    await page.fill("[data-testid=login-email]", email)
    await page.fill("[data-testid=login-password]", PASSWORD)
    await page.click("[data-testid=login-submit]")
    await page.wait_for_selector("[data-testid=logout]")


async def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM,
                                           args=["--headless", "--no-sandbox"])
        ctx = await browser.new_context(viewport=PHONE, device_scale_factor=1)
        page = await ctx.new_page()
        await page.goto(f"{base}/app/login")
        await shot(page, "01-sign-in")
        await sign_in(page, base, "patient@demo.klinik.id")
        await page.fill("[data-testid=search-specialty]", "dokter anak")
        await page.fill("[data-testid=search-city]", "Jakarta")
        await page.click("[data-testid=search-submit]")
        await page.wait_for_selector("[data-testid=slot-button]")
        await shot(page, "02-search-results")
        await page.locator("[data-testid=doctor-card] h3 a").first.click()
        await page.wait_for_selector("[data-testid=slot-button]")
        await shot(page, "03-doctor-week")
        await page.locator("[data-testid=slot-button]").first.click()
        await page.wait_for_selector("[data-testid=confirm-booking]")
        await shot(page, "04-confirm")
        await page.click("[data-testid=confirm-booking]")
        await page.wait_for_selector("[data-testid=booking-ref]")
        await shot(page, "05-booked")
        await page.goto(f"{base}/app/bookings")
        await page.wait_for_selector("[data-testid=booking-item]")
        await shot(page, "06-my-bookings")
        await page.click("[data-testid=language-switch]")
        await page.goto(f"{base}/app/?specialty=dentist&city=Makassar")
        await page.wait_for_selector("[data-testid=slot-button]")
        await shot(page, "07-search-english-wita")
        await page.click("[data-testid=language-switch]")
        await ctx.close()

        ctx = await browser.new_context(viewport=PHONE)
        page = await ctx.new_page()
        await sign_in(page, base, "doctor@demo.klinik.id")
        await page.wait_for_selector("h1:has-text('Agenda')")
        await shot(page, "08-doctor-agenda")
        await page.goto(f"{base}/app/doctor/schedule")
        await page.wait_for_selector("[data-testid=weekly-row]")
        await shot(page, "09-doctor-schedule")
        await ctx.close()

        ctx = await browser.new_context(viewport={"width": 1024, "height": 800})
        page = await ctx.new_page()
        await sign_in(page, base, "admin@demo.klinik.id")
        await page.wait_for_selector("[data-testid=staff-doctor]")
        await shot(page, "10-staff-day")
        await page.goto(f"{base}/app/staff/doctors")
        await page.wait_for_selector("[data-testid=managed-doctor]")
        await shot(page, "11-staff-doctors")
        await browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    asyncio.run(main(parser.parse_args().base))
