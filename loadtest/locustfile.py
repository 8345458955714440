"""Locust users of the clinic assistant: web patients, WhatsApp patients, admins.

Run through `make load` / `python -m loadtest` (which starts a local stack when no
LOAD_HOST is given, seeds the load users and writes load-report.json), or directly:

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8080 WebPatient Admin

Environment (all optional):
- LOAD_USERS_FILE: JSON list of seeded patients {email, password, refresh_token}
  (loadtest/stack.py writes it). Without it, each web patient registers itself first.
- LOAD_LOGIN_SHARE (0.1): share of web patients that log in with their password at the
  start of their visit (argon2: ~0.3-0.8 s of CPU each); the others come back with a
  remembered session (POST /auth/refresh with their refresh token).
- LOAD_THINK_MIN / LOAD_THINK_MAX (5 / 15 s): think time between a patient's actions.
- LOAD_SANDBOX_URL: the Wati sandbox the app sends to (WhatsApp patients need it).
- LOAD_ADMIN_TOKEN, or LOAD_ADMIN_EMAIL + LOAD_ADMIN_PASSWORD: the admins' credentials;
  LOAD_ADMINS (1): how many admins (0 leaves them out: python -m loadtest).

The users are FastHttpUser (geventhttpclient): Locust's docs measure several times less CPU
per request than the requests-based HttpUser, and here Locust shares the app's cores.

Expected answers are not failures: 409 when a slot was taken meanwhile (the patient picks
another), an empty day. Anything else outside 2xx is a failure, and so is a WhatsApp
message that gets no reply within LOAD_REPLY_TIMEOUT (30 s).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
import uuid
from datetime import date, timedelta
from typing import Any

import requests
from locust import FastHttpUser, between, events, task

THINK = between(float(os.environ.get("LOAD_THINK_MIN", "5")),
                float(os.environ.get("LOAD_THINK_MAX", "15")))
LOGIN_SHARE = float(os.environ.get("LOAD_LOGIN_SHARE", "0.1"))
REPLY_TIMEOUT_S = float(os.environ.get("LOAD_REPLY_TIMEOUT", "30"))
HOT_SHARE = 0.3  # bookings that go for one popular doctor's earliest slots (contention)
CITIES = ["Jakarta", "Bandung", "Surabaya", "Medan", "Yogyakarta", "Denpasar", "Makassar"]
SPECIALTIES = ["general", "pediatrics", "dentistry", "internal_medicine", "dermatology",
               "obstetrics_gynecology"]  # codes of booking/catalog.py
WA_CONVERSATIONS = [
    ["halo", "jam buka klinik kapan?", "terima kasih"],
    ["selamat pagi", "apakah bisa pakai BPJS?", "berapa biaya konsultasi?", "makasih ya"],
    ["hai", "saya mau booking dokter umum di Jakarta", "batal", "terima kasih"],
    ["hello", "what are the opening hours?", "thanks"],
]

_users: list[dict[str, Any]] | None = None
_next_user = itertools.count()
_doctors: list[str] = []
_lock = threading.Lock()


def seeded_users() -> list[dict[str, Any]]:
    global _users
    if _users is None:
        path = os.environ.get("LOAD_USERS_FILE")
        _users = json.loads(open(path).read()) if path and os.path.exists(path) else []
    return _users


def later_day(rng: random.Random) -> str:
    """A day 1-6 days ahead (past the cancellation cut-off, inside the booking horizon)."""
    return (date.today() + timedelta(days=rng.randint(1, 6))).isoformat()


class WebPatient(FastHttpUser):
    """Logs in (or resumes a session), searches doctors, looks at slots, books, lists its
    bookings and cancels some, with think times."""

    weight = 10
    wait_time = THINK

    def on_start(self) -> None:
        self.rng = random.Random()
        self.token: str | None = None
        self.refresh_token: str | None = None
        self.mine: list[str] = []
        users = seeded_users()
        if users:
            self.account = users[next(_next_user) % len(users)]
            self.refresh_token = self.account.get("refresh_token")
        else:
            self.account = self._register()
        if self.refresh_token and self.rng.random() >= LOGIN_SHARE:
            self._refresh()
        if self.token is None:
            self._login()
        self._load_doctors()

    # ---- session ---------------------------------------------------------------------------
    def _register(self) -> dict[str, Any]:
        n = uuid.uuid4().hex[:12]
        account = {"email": f"load-{n}@load.test", "password": "load-pass-" + n}
        self.client.post("/auth/register", name="/auth/register", json={
            "name": "Load Patient", "email": account["email"], "password": account["password"],
            "whatsapp": f"62877{self.rng.randrange(10**8):08d}"})
        return account

    def _login(self) -> None:
        with self.client.post("/auth/login", name="/auth/login", catch_response=True,
                              json={"email": self.account["email"],
                                    "password": self.account["password"]}) as resp:
            if resp.status_code == 200:
                self._take(resp.json())
            else:
                resp.failure(f"login {resp.status_code}")

    def _refresh(self) -> None:
        with self.client.post("/auth/refresh", name="/auth/refresh", catch_response=True,
                              json={"refresh_token": self.refresh_token}) as resp:
            if resp.status_code == 200:
                self._take(resp.json())
            elif resp.status_code == 401:  # session revoked (token reused): log in again
                resp.success()
                self.refresh_token = None
            else:
                resp.failure(f"refresh {resp.status_code}")
                self.refresh_token = None

    def _take(self, tokens: dict[str, Any]) -> None:
        self.token = tokens["access_token"]
        self.refresh_token = tokens["refresh_token"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _load_doctors(self) -> None:
        with _lock:
            if _doctors:
                return
        resp = self.client.get("/doctors", params={"page_size": 100}, name="/doctors?list")
        if resp.status_code == 200:
            with _lock:
                _doctors[:] = [d["id"] for d in resp.json()["items"]] or _doctors

    # ---- what a patient does ----------------------------------------------------------------
    @task(4)
    def search_doctors(self) -> None:
        params: dict[str, Any] = {"city": self.rng.choice(CITIES)}
        if self.rng.random() < 0.5:
            params["specialty"] = self.rng.choice(SPECIALTIES)
        self.client.get("/doctors", params=params, name="/doctors?city&specialty")

    @task(4)
    def view_slots(self) -> None:
        self._slots(self._doctor(), later_day(self.rng))

    def _doctor(self, hot: bool = False) -> str:
        with _lock:
            doctors = list(_doctors)
        if not doctors:
            return "doc-jak-general-1"
        return doctors[0] if hot else self.rng.choice(doctors)

    def _slots(self, doctor: str, day: str) -> list[str]:
        resp = self.client.get(f"/doctors/{doctor}/slots", params={"date": day},
                               name="/doctors/{id}/slots?date")
        return [s["start"] for s in resp.json()["slots"]] if resp.status_code == 200 else []

    @task(2)
    def book(self) -> None:
        if len(self.mine) >= 3:  # stay under MAX_UPCOMING_BOOKINGS: free one first
            self.cancel()
        hot = self.rng.random() < HOT_SHARE
        doctor = self._doctor(hot)
        day = (date.today() + timedelta(days=1)).isoformat() if hot else later_day(self.rng)
        slots = self._slots(doctor, day)
        if not slots:
            return
        start = slots[0] if hot else self.rng.choice(slots)
        with self.client.post("/bookings", json={"doctor_id": doctor, "start": start},
                              headers=self.auth, name="/bookings [book]",
                              catch_response=True) as resp:
            if resp.status_code == 201:
                self.mine.append(resp.json()["id"])
            elif resp.status_code == 409:  # taken meanwhile (or this patient overlaps)
                resp.success()
            elif resp.status_code == 401:
                resp.success()
                self._reauth()
            else:
                resp.failure(f"book {resp.status_code}: {resp.text[:200]}")

    @task(2)
    def list_bookings(self) -> None:
        with self.client.get("/bookings", params={"status": "confirmed"}, headers=self.auth,
                             name="/bookings [list]", catch_response=True) as resp:
            if resp.status_code == 200:
                self.mine = [b["id"] for b in resp.json()["items"]]
            elif resp.status_code == 401:
                resp.success()
                self._reauth()

    @task(1)
    def cancel(self) -> None:
        if not self.mine:
            return
        booking = self.mine.pop(self.rng.randrange(len(self.mine)))
        with self.client.post(f"/bookings/{booking}/cancel", json={"reason": "load test"},
                              headers=self.auth, name="/bookings/{id}/cancel",
                              catch_response=True) as resp:
            if resp.status_code == 401:
                resp.success()
                self._reauth()

    def _reauth(self) -> None:
        self.token = None
        if self.refresh_token:
            self._refresh()
        if self.token is None:
            self._login()


class WhatsAppPatient(FastHttpUser):
    """Chats with the bot: each message goes to the Wati sandbox's inbound API, which posts
    it to the app's /whatsapp/webhook?token=... exactly as Wati does (the real gateway,
    Rasa, rendering, the Wati client); the reply is awaited in the sandbox's chat log.
    The time to the first reply is reported as `WA reply`."""

    weight = 10
    wait_time = THINK

    def on_start(self) -> None:
        self.sandbox = os.environ.get("LOAD_SANDBOX_URL", "").rstrip("/")
        self.rng = random.Random()
        self.wa_id = f"62899{self.rng.randrange(10**8):08d}"
        self.seen = 0
        if not self.sandbox:
            raise RuntimeError("WhatsApp patients need LOAD_SANDBOX_URL (the Wati sandbox)")
        # the phone's side (sandbox inbound API, chat log polls) is not app traffic: its
        # calls are not counted, only the `WA reply` time of each message
        self.phone = requests.Session()

    @task
    def conversation(self) -> None:
        for text in self.rng.choice(WA_CONVERSATIONS):
            self.say(text)
            self.wait()

    def say(self, text: str) -> None:
        started = time.perf_counter()
        exc: Exception | None = None
        try:
            resp = self.phone.post(self.sandbox + "/_sandbox/api/send", timeout=30,
                                   json={"wa_id": self.wa_id, "name": "Pasien Load",
                                         "text": text})
            resp.raise_for_status()
            self._await_reply()
        except Exception as err:  # noqa: BLE001 - reported to Locust as a failure
            exc = err
        events.request.fire(request_type="WA", name="WA reply",
                            response_time=(time.perf_counter() - started) * 1000,
                            response_length=0, exception=exc, context={})

    def _await_reply(self) -> None:
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        inbound_seq: int | None = None
        while time.monotonic() < deadline:
            resp = self.phone.get(self.sandbox + "/_sandbox/api/messages", timeout=30,
                                  params={"wa_id": self.wa_id, "after": str(self.seen)})
            for message in resp.json().get("messages", []):
                self.seen = max(self.seen, message["seq"])
                if message["direction"] == "in":
                    inbound_seq = message["seq"]
                elif inbound_seq is not None:
                    return
            time.sleep(0.25)
        raise TimeoutError(f"no reply within {REPLY_TIMEOUT_S:.0f} s")


class Admin(FastHttpUser):
    """Opens the analytics dashboard now and then: LOAD_ADMINS (1) of them, whatever the
    number of patients (a clinic network has a few admins, not one per ten patients)."""

    fixed_count = max(1, int(os.environ.get("LOAD_ADMINS") or 1))
    wait_time = between(30, 90)

    def on_start(self) -> None:
        token = os.environ.get("LOAD_ADMIN_TOKEN")
        if not token and os.environ.get("LOAD_ADMIN_EMAIL"):
            resp = self.client.post("/auth/login", name="/auth/login [admin]", json={
                "email": os.environ["LOAD_ADMIN_EMAIL"],
                "password": os.environ.get("LOAD_ADMIN_PASSWORD", "")})
            token = resp.json().get("access_token") if resp.status_code == 200 else None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    @task
    def dashboard(self) -> None:
        self.client.get("/dashboard", name="/dashboard")
        if not self.headers:
            return
        self.client.get("/analytics", headers=self.headers, name="/analytics")
        rng = random.Random()
        if rng.random() < 0.5:
            self.client.get("/analytics", headers=self.headers, name="/analytics?city",
                            params={"city": rng.choice(CITIES)})
