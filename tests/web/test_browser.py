"""The web app in headless Chromium against the real app on loopback: a patient signs in,
searches "dokter anak" in Jakarta, books the first free slot, sees it in My bookings,
reschedules and cancels it; a slot taken meanwhile shows the API's alternatives; a doctor's
schedule change lists the stranded bookings; staff see the day; axe-core on every page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from booking.models import Booking, slot_key
from tests.web.conftest import Site, Tab

pytestmark = pytest.mark.browser


async def search_pediatrics_in_jakarta(tab: Tab) -> None:
    await tab.page.fill("[data-testid=search-specialty]", "dokter anak")
    await tab.page.fill("[data-testid=search-city]", "Jakarta")
    await tab.page.click("[data-testid=search-submit]")
    await tab.page.wait_for_selector("[data-testid=doctor-card] [data-testid=slot-button]")


async def test_patient_books_reschedules_and_cancels(tab: Tab, site: Site) -> None:
    page = tab.page
    await tab.goto("/")
    await tab.axe("search page")
    await tab.sign_in("rina@web.test")
    await tab.axe("search page, signed in")
    await search_pediatrics_in_jakarta(tab)
    cards = page.locator("[data-testid=doctor-card]")
    assert await cards.count() == 2   # the Makassar paediatrician is not in Jakarta
    first_card = await cards.first.inner_text()
    assert "dr. Ayu Lestari" in first_card and "Rp 150.000" in first_card
    first_slot = page.locator("[data-testid=slot-button]").first
    label = await first_slot.inner_text()
    assert label.endswith(" WIB"), label
    await tab.axe("search results")

    await first_slot.click()
    await page.wait_for_selector("[data-testid=confirm-booking]")
    when = await page.inner_text("[data-testid=confirm-when]")
    assert when.endswith(label.split(" ")[-2] + " WIB"), (when, label)
    await tab.axe("confirm step")
    await page.click("[data-testid=confirm-booking]")
    ref = (await page.inner_text("[data-testid=booking-ref]", timeout=10_000)).strip()
    assert len(ref) >= 4
    await tab.axe("booked page")

    # the .ics of the booking
    async with page.expect_download() as info:
        await page.click("[data-testid=add-to-calendar]")
    download = await info.value
    ics = (await download.path()).read_text()
    assert "BEGIN:VEVENT" in ics and ref in ics and download.suggested_filename == f"{ref}.ics"

    status, body = await site.call("GET", "/bookings", "user-web-pat")
    assert status == 200 and [b["ref"] for b in body["items"]] == [ref]
    booked = body["items"][0]
    assert booked["source"] == "web" and booked["doctor_id"] == "doc-anak-1"

    await page.click("text=Booking saya")
    await page.wait_for_selector("[data-testid=my-bookings] [data-testid=booking-item]")
    item = page.locator(f"[data-testid=booking-item][data-ref='{ref}']")
    assert await item.get_attribute("data-status") == "confirmed"
    await tab.axe("my bookings")

    # reschedule: the week view, the first free slot (the booked one is no longer free)
    await item.locator("[data-testid=reschedule-booking]").click()
    await page.wait_for_selector("[data-testid=day-button]")
    await page.wait_for_selector("[data-testid=slot-button]")
    await tab.axe("doctor week view")
    await page.locator("[data-testid=slot-button]").first.click()
    await page.click("[data-testid=confirm-booking]")
    new_ref = (await page.inner_text("[data-testid=booking-ref]", timeout=10_000)).strip()
    status, moved = await site.call("GET", f"/bookings/{booked['id']}", "user-web-pat")
    assert moved["status"] == "rescheduled" and moved["rescheduled_to"]
    status, new = await site.call("GET", f"/bookings/{moved['rescheduled_to']}", "user-web-pat")
    assert new["ref"] == new_ref and new["start"] != booked["start"]

    # cancel it from My bookings
    await page.click("text=Booking saya")
    new_item = page.locator(f"[data-testid=booking-item][data-ref='{new_ref}']")
    await new_item.locator("[data-testid=cancel-booking]").click()
    await new_item.locator("[data-testid=cancel-confirm]").click()
    await page.wait_for_selector(
        f"[data-testid=booking-item][data-ref='{new_ref}'][data-status=cancelled]")
    status, gone = await site.call("GET", f"/bookings/{new['id']}", "user-web-pat")
    assert gone["status"] == "cancelled"
    await tab.axe("my bookings after cancelling")
    assert tab.errors == []


async def test_a_slot_taken_meanwhile_shows_alternatives(tab: Tab, site: Site) -> None:
    page = tab.page
    await tab.sign_in("rina@web.test")
    await tab.goto("/doctors/doc-anak-1")
    first = page.locator("[data-testid=slot-button]").first
    await first.wait_for()
    # the other patient books the slot this page still shows as free
    start = await page.evaluate("""async () => {
        const today = new Date().toISOString().slice(0, 10);
        const to = new Date(Date.now() + 20 * 864e5).toISOString().slice(0, 10);
        const r = await fetch(`/doctors/doc-anak-1/slots?from=${today}&to=${to}`);
        return (await r.json()).slots[0].start; }""")
    status, _ = await site.call("POST", "/bookings", "user-web-pat2",
                                json={"doctor_id": "doc-anak-1", "start": start})
    assert status == 201
    await first.click()
    await page.wait_for_selector("[data-testid=alternatives] [data-testid=alternative-slot]")
    assert "baru saja diambil" in await page.inner_text("[data-testid=alternatives]")
    await tab.axe("alternatives")
    await page.locator("[data-testid=alternative-slot]").first.click()
    await page.click("[data-testid=confirm-booking]")
    await page.wait_for_selector("[data-testid=booking-ref]", timeout=10_000)
    status, body = await site.call("GET", "/bookings", "user-web-pat")
    assert [b["start"] for b in body["items"]] != [start] and len(body["items"]) == 1
    # the only console error is the refused hold (409) the page turned into alternatives
    assert all("409" in e for e in tab.errors), tab.errors


async def test_doctor_sees_stranded_bookings_before_saving(tab: Tab, site: Site) -> None:
    page = tab.page
    # a patient's booking on the doctor's first free day
    today = date.today()
    status, slots = await site.call("GET", f"/doctors/doc-anak-1/slots?from={today}"
                                           f"&to={today + timedelta(days=14)}", "user-web-pat")
    start = slots["slots"][0]["start"]
    status, booking = await site.call("POST", "/bookings", "user-web-pat",
                                      json={"doctor_id": "doc-anak-1", "start": start})
    assert status == 201
    day = datetime.fromisoformat(start).date().isoformat()   # the clinic's local date

    await tab.sign_in("ayu@web.test")
    await page.wait_for_selector("h1:has-text('Agenda')")
    await tab.axe("doctor agenda")
    await tab.goto("/doctor/schedule")
    await page.wait_for_selector("[data-testid=weekly-row]")
    await tab.axe("schedule editor")
    await page.fill("[data-testid=day-off-input]", day)
    await page.click("[data-testid=day-off-add]")
    await page.click("[data-testid=schedule-save]")
    await page.wait_for_selector("[data-testid=stranded-item]")
    assert booking["ref"] in await page.inner_text("[data-testid=stranded]")
    await tab.axe("stranded warning")
    assert site.store.get_doctor("doc-anak-1").days_off == []   # nothing saved yet
    await page.click("[data-testid=schedule-force]")
    await page.wait_for_selector("[data-testid=schedule-saved]")
    assert [d.isoformat() for d in site.store.get_doctor("doc-anak-1").days_off] == [day]


async def test_staff_see_the_day_and_english_switch(tab: Tab, site: Site) -> None:
    page = tab.page
    await tab.sign_in("admin@web.test")
    await page.wait_for_selector("[data-testid=staff-doctor]")
    assert await page.locator("[data-testid=staff-doctor]").count() == 2   # Jakarta
    await tab.axe("staff day")
    await tab.page.click("[data-testid=logout]")
    await tab.goto("/")
    await page.click("[data-testid=language-switch]")
    await page.wait_for_selector("h1:has-text('Find a doctor')")
    assert await page.get_attribute("html", "lang") == "en"
    await page.fill("[data-testid=search-specialty]", "pediatrician")
    await page.fill("[data-testid=search-city]", "mks")   # the bot's alias of Makassar
    await page.click("[data-testid=search-submit]")
    await page.wait_for_selector("[data-testid=slot-button]")
    assert (await page.locator("[data-testid=slot-button]").first.inner_text()).endswith("WITA")
    await tab.axe("search in English")
    assert tab.errors == []


async def test_the_cutoff_rule_is_said_plainly(tab: Tab, site: Site) -> None:
    """A booking an hour away cannot be cancelled by the patient (cut-off 2 hours): the
    page says why, in the patient's language, and the booking stays."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now + timedelta(hours=1)
    soon = site.store.insert_booking(Booking(
        ref="SOON-1", patient_id="user-web-pat", doctor_id="doc-anak-1", start=start,
        end=start + timedelta(minutes=30), created_at=now, updated_at=now,
        slot_key=slot_key("doc-anak-1", start)))
    await tab.sign_in("rina@web.test")
    await tab.goto("/bookings")
    item = tab.page.locator("[data-testid=booking-item][data-ref='SOON-1']")
    await item.locator("[data-testid=cancel-booking]").click()
    await item.locator("[data-testid=cancel-confirm]").click()
    alert = item.locator("[role=alert]")
    await alert.wait_for()
    assert "ditutup 2 jam sebelum janji" in await alert.inner_text()
    assert site.store.get_booking(soon.id).status.value == "confirmed"
    await tab.axe("cut-off message")


async def test_sign_up_checks_the_form_then_asks_to_verify_whatsapp(tab: Tab,
                                                                    site: Site) -> None:
    page = tab.page
    await tab.goto("/signup")
    await tab.axe("sign-up page")
    await page.fill("#name", "Sinta Pasien")
    await page.fill("#su-email", "sinta@web.test")
    await page.fill("#whatsapp", "021 555 1234")   # a landline
    await page.fill("#su-password", "rahasia-sinta-1")
    await page.click("button[type=submit]")
    assert "Nomor WhatsApp tidak valid" in await page.inner_text("#whatsapp-error")
    assert await page.get_attribute("#whatsapp", "aria-invalid") == "true"
    await tab.axe("sign-up errors")
    await page.fill("#whatsapp", "0812-3456-7000")
    await page.click("button[type=submit]")
    await page.wait_for_selector("h1:has-text('Verifikasi nomor WhatsApp')")
    user = site.store.find_user(email="sinta@web.test")
    assert user is not None and user.whatsapp_pending == "6281234567000"
    assert user.whatsapp is None   # not proven yet
    await tab.axe("verify page")


async def test_staff_manage_doctors(tab: Tab, site: Site, tmp_path: Path) -> None:
    page = tab.page
    await tab.sign_in("admin@web.test")
    await tab.goto("/staff/doctors")
    await page.wait_for_selector("[data-testid=managed-doctor]")
    await tab.axe("doctor management")
    await page.click("[data-testid=doctor-add]")
    await page.fill("#new-name", "dr. Dewi Anggraini, Sp.A")
    await page.select_option("#new-specialty", "pediatrics")
    await page.fill("#new-clinic", "Klinik Cikini")
    await page.fill("#new-fee", "200000")
    await tab.axe("new doctor form")
    await page.click("[data-testid=doctor-save]")
    card = page.locator("[data-testid=managed-doctor]", has_text="dr. Dewi Anggraini")
    await card.wait_for()
    [created] = [d for d in site.store.find_doctors(city="Jakarta")[0]
                 if d.name == "dr. Dewi Anggraini, Sp.A"]
    assert created.specialty == "pediatrics" and created.fee == 200_000 and created.weekly
    # deactivate: gone from the patients' search, still listed here as inactive
    await card.locator("[data-testid=doctor-toggle]").click()
    await page.wait_for_selector("[data-testid=managed-doctor][data-active=false]")
    assert site.store.get_doctor(created.id).active is False
    await tab.axe("doctor management after deactivating")
    # a photo: uploaded as the image bytes, then shown to patients
    png = tmp_path / "dewi.png"
    Image.new("RGB", (120, 120), (200, 120, 90)).save(png, format="PNG")
    await card.locator("input[type=file]").set_input_files(str(png))
    await card.locator("img").wait_for()
    photo_url = site.store.get_doctor(created.id).photo_url
    assert photo_url and await card.locator("img").get_attribute("src") == photo_url
    assert await card.locator("img").evaluate("img => img.naturalWidth") > 0
    assert tab.errors == []


async def test_an_expired_access_token_is_renewed_once(tab: Tab, site: Site) -> None:
    """A 401 on an API call renews the pair with the single-use refresh token and retries;
    a refused renewal signs the page out."""
    page = tab.page
    await tab.sign_in("rina@web.test")
    before = await page.evaluate("() => sessionStorage.getItem('klinik.web.refresh')")
    await page.evaluate("() => sessionStorage.setItem('klinik.web.access', 'expired.token.x')")
    await tab.goto("/bookings")   # a fresh page: /auth/me and /bookings both get a 401 first
    await page.wait_for_selector("[data-testid=my-bookings]")
    after = await page.evaluate("() => [sessionStorage.getItem('klinik.web.access'), "
                                "sessionStorage.getItem('klinik.web.refresh')]")
    assert after[0] != "expired.token.x" and after[1] != before
    # the old refresh token is spent: using it again revokes the session
    assert "401" in " ".join(tab.errors)
    tab.errors.clear()
    await page.evaluate("""t => { sessionStorage.setItem('klinik.web.access', 'expired.token.x');
                                  sessionStorage.setItem('klinik.web.refresh', t); }""", before)
    await tab.goto("/bookings")
    await page.wait_for_selector("[data-testid=login-submit]")   # sent to sign in
    assert await page.evaluate("() => sessionStorage.getItem('klinik.web.access')") is None


async def test_search_by_date_and_part_of_day(tab: Tab, site: Site) -> None:
    """Synonyms and aliases as the bot knows them; a date; the afternoon only (15-18 local)."""
    page = tab.page
    day = date.today() + timedelta(days=1)
    while day.weekday() >= 5:   # the test doctors work Monday to Friday
        day += timedelta(days=1)
    await tab.goto("/")
    await page.fill("[data-testid=search-specialty]", "spesialis anak")
    await page.fill("[data-testid=search-city]", "jkt")
    await page.fill("[data-testid=search-date]", day.isoformat())
    await page.select_option("[data-testid=search-part]", "sore")
    await page.click("[data-testid=search-submit]")
    await page.wait_for_selector("[data-testid=slot-button]")
    labels = await page.locator("[data-testid=slot-button]").all_inner_texts()
    assert labels and all(label.endswith(("15:00 WIB", "15:30 WIB")) for label in labels), labels
    assert f"{day.day} " in labels[0]   # the day asked for comes first
    # not signed in: choosing a slot asks to sign in first, then comes back
    await page.locator("[data-testid=slot-button]").first.click()
    await page.wait_for_selector("[data-testid=login-email]")
    assert "next=" in page.url
    await page.fill("[data-testid=login-email]", "rina@web.test")
    await page.fill("[data-testid=login-password]", "rahasia-web-123")
    await page.click("[data-testid=login-submit]")
    await page.wait_for_selector("[data-testid=slot-button]")
    assert "part=sore" in page.url
