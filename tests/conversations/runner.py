"""Scripted multi-turn conversations against the real Rasa server, model and app webhook.

Each conversation in conversations.yml is a new patient (a fresh WhatsApp number) who types
the scripted messages (or taps a button of the last reply); at the end the store must hold
what the patient asked for: a booking with the right specialty, city, day and part of day
(`booked`), a cancellation (`cancelled`), a move (`moved`) or nothing (`none`), reached in
at most `max_turns` patient turns. Several conversations run at once (different patients).

Script format (one item of `conversations:`):

    id: id-long-01            # unique; lang id|en; typo: true when it has typos or slang
    full: true                # the first message names specialty, city and day (median)
    setup: [{specialty: general, city: Jakarta, when: "lusa", at: "10:00"}]  # prior bookings
    turns:
      - "mau ke dokter gigi di bandung besok sore"
      - tap: 1                # the first button of the last reply (or a title substring)
      - {text: "ya", say: "Booking berhasil"}   # the reply must contain `say`
      - expire_hold: true     # not a turn: the held slot expires and another patient takes it
    expect:
      booked: [{specialty: dentistry, city: Bandung, when: "besok sore"}]
      cancelled: [0]          # setup bookings (by index) now cancelled
      moved: [{index: 0, when: "jumat sore"}]
      none: true              # no new booking
      max_turns: 4

Placeholders in texts and `when`: {d+N} = day/month N days from today (14/1), {dd+N} = the
day of month, {mon+N} = "14 Jan", {ref0} = the reference of setup booking 0.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from booking.dates import parse_when
from booking.demo import CLINICS, DOCTORS, TIMEZONES
from booking.models import BookingStatus, Doctor, WeeklyRule
from booking.service import Booked, BookingService
from booking.store import MongoStore
from tests.rasa.server import RasaServer

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "conversations.yml"
PARALLEL = 6
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def suite_doctors() -> list[Doctor]:
    """The demo's doctors, working every day 08-12 and 13-21 (so any day a script names is a
    working day whatever day the suite runs), plus a urologist in Jayapura with no hours at
    all (a doctor with no free day in the horizon) next to one who has them."""
    rules = [WeeklyRule(weekday=d, start=dtime(s), end=dtime(e))
             for d in range(7) for s, e in ((8, 12), (13, 21))]
    rows = [*DOCTORS, ("Jayapura", "urology", "dr. Simon Kosong, Sp.U", 400_000),
            ("Jayapura", "urology", "dr. Paulus Ada, Sp.U", 400_000)]
    doctors: list[Doctor] = []
    for i, (city, specialty, name, fee) in enumerate(rows):
        clinic, address = CLINICS[city]
        doctors.append(Doctor(
            id=f"conv-{i:02d}", name=name, specialty=specialty, city=city, clinic=clinic,
            address=address, timezone=TIMEZONES.get(city, "Asia/Jakarta"), slot_minutes=30,
            min_notice_minutes=60, horizon_days=30, fee=fee, languages=["id", "en"],
            weekly=[] if "Kosong" in name else rules))
    return doctors


def load_scripts(path: Path = SCRIPTS) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    scripts: list[dict[str, Any]] = data["conversations"]
    return scripts


def fill(text: str, today: date, refs: list[str]) -> str:
    def sub(m: re.Match[str]) -> str:
        kind, n = m.group(1), int(m.group(2))
        day = today + timedelta(days=n)
        if kind == "d":
            return f"{day.day}/{day.month}"
        if kind == "dd":
            return str(day.day)
        return f"{day.day} {MONTHS_EN[day.month - 1]}"
    text = re.sub(r"\{(d|dd|mon)\+(\d+)\}", sub, text)
    for i, ref in enumerate(refs):
        text = text.replace(f"{{ref{i}}}", ref)
    return text


@dataclass
class Outcome:
    script: dict[str, Any]
    ok: bool = False
    turns: int = 0
    reason: str = ""
    transcript: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.script["id"])


def _buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for m in replies for b in (m.get("buttons") or [])]


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in replies)


class Runner:
    def __init__(self, rasa: RasaServer, service: BookingService, store: MongoStore) -> None:
        self.rasa, self.service, self.store = rasa, service, store
        self.doctors = {d.id: d for d in suite_doctors()}
        self.pool = ThreadPoolExecutor(max_workers=PARALLEL + 2, thread_name_prefix="conv")

    def install_doctors(self) -> None:
        for doctor in self.doctors.values():
            self.store.upsert_doctor(doctor)

    async def send(self, sender: str, text: str, name: str) -> list[dict[str, Any]]:
        # our own threads: the default executor also runs the app's store calls, which
        # must not wait behind these blocking HTTP calls
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.rasa.send, sender, text,
                                          {"senderName": name})

    async def setup(self, sender: str, name: str, items: list[dict[str, Any]]) -> list[Any]:
        """Bookings the patient already has (made by the service, as the dashboard would)."""
        patient = await self.service.store.users.upsert_whatsapp_patient(sender, name, "id")
        made = []
        for item in items:
            doctor = next(d for d in self.doctors.values() if d.specialty == item["specialty"]
                          and d.city == item["city"] and d.weekly)
            when = parse_when(fill(item["when"], self.today(doctor), []), self.service.clock(),
                              doctor.timezone)
            assert when.day is not None, item
            hour, minute = (int(x) for x in item["at"].split(":"))
            start = datetime.combine(when.day, dtime(hour, minute),
                                     tzinfo=doctor.tz).astimezone(UTC)
            result = await self.service.book(patient.id, doctor.id, start)
            assert isinstance(result, Booked), (item, result)
            made.append(result.booking)
        return made

    def today(self, doctor: Doctor | None = None) -> date:
        zone = doctor.tz if doctor else ZoneInfo("Asia/Jakarta")
        return self.service.clock().astimezone(zone).date()

    async def run_one(self, script: dict[str, Any]) -> Outcome:
        out = Outcome(script)
        sender = "62899" + str(uuid.uuid4().int)[:8]
        name = str(script.get("name") or "Pasien Uji")
        try:
            prior = await self.setup(sender, name, list(script.get("setup") or []))
            refs = [b.ref for b in prior]
            replies: list[dict[str, Any]] = []
            for step in script["turns"]:
                step = step if isinstance(step, dict) else {"text": step}
                if step.get("expire_hold"):
                    taken = step["expire_hold"] != "free"
                    await self.expire_hold(sender, taken=taken)
                    out.transcript.append("   (the held slot expired"
                                          + (" and was taken)" if taken else ")"))
                    continue
                if "tap" in step:
                    text = self.tap(replies, step["tap"])
                else:
                    text = fill(str(step["text"]), self.today(), refs)
                out.turns += 1
                out.transcript.append(f"P: {text}")
                replies = await self.send(sender, text, name)
                for m in replies:
                    line = (m.get("text") or "").replace("\n", " / ")
                    if m.get("buttons"):
                        line += "  [" + " | ".join(b["title"] for b in m["buttons"]) + "]"
                    out.transcript.append(f"B: {line}")
                say = fill(str(step.get("say") or ""), self.today(), refs)
                if say and say.lower() not in _text(replies).lower():
                    raise AssertionError(f"reply lacks {step['say']!r}")
            await self.check(sender, prior, script["expect"], out)
            out.ok = True
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its transcript
            out.reason = f"{type(exc).__name__}: {exc}"
        return out

    @staticmethod
    def tap(replies: list[dict[str, Any]], which: int | str) -> str:
        buttons = _buttons(replies)
        if not buttons:
            raise AssertionError(f"no button to tap ({which!r})")
        if isinstance(which, int):
            if which > len(buttons):
                raise AssertionError(f"only {len(buttons)} buttons, tap {which}")
            return buttons[which - 1]["payload"]
        hits = [b for b in buttons if str(which).lower() in b["title"].lower()]
        if not hits:
            raise AssertionError(f"no button titled {which!r}: {[b['title'] for b in buttons]}")
        return hits[0]["payload"]

    async def expire_hold(self, sender: str, *, taken: bool) -> None:
        loop = asyncio.get_running_loop()
        slots = (await loop.run_in_executor(self.pool, self.rasa.tracker, sender)
                 ).get("slots") or {}
        doctor_id, start_text = slots.get("doctor_id"), slots.get("slot_start")
        assert doctor_id and start_text, "no held slot to expire"
        start = datetime.fromisoformat(start_text)
        patient = self.store.find_user(whatsapp=sender)
        assert patient is not None
        await self.service.coord.release_hold(doctor_id, start, patient.id)
        if not taken:
            return
        other = await self.service.store.users.upsert_whatsapp_patient(
            "62877" + str(uuid.uuid4().int)[:8], "Pasien Lain", "id")
        result = await self.service.book(other.id, doctor_id, start)
        assert isinstance(result, Booked), result

    async def check(self, sender: str, prior: list[Any], expect: dict[str, Any],
                    out: Outcome) -> None:
        if out.turns > int(expect.get("max_turns", 99)):
            raise AssertionError(f"{out.turns} turns > {expect['max_turns']}")
        patient = self.store.find_user(whatsapp=sender)
        assert patient is not None, "patient never registered"
        bookings, _ = self.store.find_bookings(patient_id=patient.id)
        prior_ids = {b.id for b in prior}
        new = [b for b in bookings if b.id not in prior_ids
               and b.status == BookingStatus.confirmed and not any(
                   self.store.get_booking(p).rescheduled_to == b.id for p in prior_ids)]
        wanted = list(expect.get("booked") or [])
        if expect.get("none"):
            assert not new, f"unexpected booking(s): {[self.describe(b) for b in new]}"
        if wanted or "booked" in expect:
            found = [self.describe(b) for b in new]
            assert len(new) == len(wanted), f"{len(new)} new, expected {len(wanted)}: {found}"
            free = list(new)
            for item in wanted:
                hit = next((b for b in free if self.matches(b, item)), None)
                assert hit is not None, \
                    f"no booking like {item}: {[self.describe(b) for b in free]}"
                free.remove(hit)
        for index in expect.get("cancelled") or []:
            status = self.store.get_booking(prior[index].id).status
            assert status == BookingStatus.cancelled, f"booking {index} is {status}"
        for index, booking in enumerate(prior):
            if index not in (expect.get("cancelled") or []) and index not in {
                    m["index"] for m in expect.get("moved") or []}:
                status = self.store.get_booking(booking.id).status
                assert status == BookingStatus.confirmed, f"booking {index} became {status}"
        for move in expect.get("moved") or []:
            old = self.store.get_booking(prior[move["index"]].id)
            assert old.status == BookingStatus.rescheduled and old.rescheduled_to, \
                f"booking {move['index']} is {old.status}"
            moved_to = self.store.get_booking(old.rescheduled_to)
            assert self.matches(moved_to, move), f"moved to {self.describe(moved_to)}"

    def describe(self, booking: Any) -> str:
        doctor = self.doctors.get(booking.doctor_id)
        if doctor is None:
            return booking.doctor_id
        return (f"{doctor.specialty}/{doctor.city} "
                f"{booking.start.astimezone(doctor.tz):%a %Y-%m-%d %H:%M}")

    def matches(self, booking: Any, item: dict[str, Any]) -> bool:
        doctor = self.doctors.get(booking.doctor_id)
        if doctor is None:
            return False
        if item.get("specialty") and doctor.specialty != item["specialty"]:
            return False
        if item.get("city") and doctor.city != item["city"]:
            return False
        if item.get("doctor") and item["doctor"] not in doctor.name:
            return False
        if item.get("when"):
            when = parse_when(fill(item["when"], self.today(doctor), []), self.service.clock(),
                              doctor.timezone)
            if when.empty or not when.accepts(booking.start.astimezone(doctor.tz)):
                return False
        return True

    async def run_all(self, scripts: list[dict[str, Any]], parallel: int = PARALLEL
                      ) -> list[Outcome]:
        gate = asyncio.Semaphore(parallel)

        async def one(script: dict[str, Any]) -> Outcome:
            async with gate:
                return await self.run_one(script)
        return list(await asyncio.gather(*(one(s) for s in scripts)))


def report(outcomes: list[Outcome], seconds: float) -> tuple[str, float, float | None]:
    """The printed summary: task success, median turns to book, failures with transcripts."""
    ok = [o for o in outcomes if o.ok]
    success = len(ok) / len(outcomes) if outcomes else 0.0
    full = [o.turns for o in ok if o.script.get("full") and (o.script["expect"].get("booked"))]
    median = statistics.median(full) if full else None
    typo = [o for o in outcomes if o.script.get("typo")]
    lines = [
        f"conversations: {len(outcomes)} ({sum(o.script.get('lang') == 'en' for o in outcomes)}"
        f" English, {len(typo)} with typos or slang), {seconds:.0f} s",
        f"task success: {len(ok)}/{len(outcomes)} = {success:.1%}"
        f" (typos/slang: {sum(o.ok for o in typo)}/{len(typo)})",
        f"median patient turns to a confirmed booking (first message names specialty, city"
        f" and day): {median if median is not None else '-'} over {len(full)} conversations",
    ]
    for o in outcomes:
        if not o.ok:
            lines += ["", f"FAILED {o.id}: {o.reason}", *("    " + t for t in o.transcript)]
    return "\n".join(lines), success, median


async def run_suite(rasa: RasaServer, service: BookingService, store: MongoStore,
                    only: str | None = None) -> tuple[str, float, float | None]:
    runner = Runner(rasa, service, store)
    runner.install_doctors()
    scripts = [s for s in load_scripts() if not only or re.search(only, s["id"])]
    started = time.monotonic()
    try:
        outcomes = await runner.run_all(scripts)
    finally:
        runner.pool.shutdown(wait=False)
    return report(outcomes, time.monotonic() - started)
