"""Demo data: a realistic clinic network over WIB, WITA and WIT.

Loaded only on the embedded in-process store or when asked for explicitly
(`python -m app.demo --force`), never by accident into a configured database.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, date, datetime, time, timedelta

from booking.models import (
    Booking,
    BookingSource,
    BookingStatus,
    Break,
    DateOverride,
    Doctor,
    HistoryEntry,
    Role,
    TimeRange,
    User,
    WeeklyRule,
    slot_key,
)
from booking.refs import new_ref
from booking.slots import available_slots
from booking.store import MongoStore

log = logging.getLogger(__name__)

DEMO_ADMIN = "admin@demo.klinik.id"
DEMO_DOCTOR = "doctor@demo.klinik.id"
DEMO_PATIENT = "patient@demo.klinik.id"
DEMO_STAFF = "staff@demo.klinik.id"
DEMO_PATIENT_WA = "6281200000001"
DEMO_DOCTOR_ID = "doc-jak-general-1"
DEMO_WHATSAPP_PATIENTS = 100
DEMO_UPCOMING_PER_PATIENT = 3

CLINICS = {
    "Jakarta": ("Klinik Sehat Menteng", "Jl. HOS Cokroaminoto No. 12, Menteng"),
    "Bandung": ("Klinik Sehat Dago", "Jl. Ir. H. Juanda No. 88, Dago"),
    "Semarang": ("Klinik Sehat Simpang Lima", "Jl. Pahlawan No. 5"),
    "Yogyakarta": ("Klinik Sehat Malioboro", "Jl. Malioboro No. 101"),
    "Surabaya": ("Klinik Sehat Darmo", "Jl. Raya Darmo No. 45"),
    "Medan": ("Klinik Sehat Polonia", "Jl. Imam Bonjol No. 17"),
    "Denpasar": ("Klinik Sehat Renon", "Jl. Raya Puputan No. 9, Renon"),
    "Makassar": ("Klinik Sehat Losari", "Jl. Penghibur No. 21"),
    "Jayapura": ("Klinik Sehat Dok II", "Jl. Soa Siu No. 3, Dok II"),
}
TIMEZONES = {"Denpasar": "Asia/Makassar", "Makassar": "Asia/Makassar",
             "Jayapura": "Asia/Jayapura"}

# (city, specialty, name, fee in IDR)
DOCTORS: list[tuple[str, str, str, int]] = [
    ("Jakarta", "general", "dr. Sari Wulandari", 150_000),
    ("Jakarta", "pediatrics", "dr. Budi Santoso, Sp.A", 350_000),
    ("Jakarta", "dentistry", "drg. Ratna Dewi", 300_000),
    ("Jakarta", "cardiology", "dr. Hendra Gunawan, Sp.JP", 500_000),
    ("Jakarta", "dermatology", "dr. Maya Lestari, Sp.KK", 400_000),
    ("Jakarta", "obstetrics_gynecology", "dr. Indah Permata, Sp.OG", 450_000),
    ("Jakarta", "psychiatry", "dr. Arief Rahman, Sp.KJ", 450_000),
    ("Bandung", "general", "dr. Dedi Kurniawan", 125_000),
    ("Bandung", "pediatrics", "dr. Rina Marlina, Sp.A", 300_000),
    ("Bandung", "ophthalmology", "dr. Agus Setiawan, Sp.M", 350_000),
    ("Bandung", "ent", "dr. Lina Herlina, Sp.THT", 325_000),
    ("Bandung", "internal_medicine", "dr. Yudi Prasetyo, Sp.PD", 350_000),
    ("Semarang", "general", "dr. Siti Aminah", 120_000),
    ("Semarang", "dentistry", "drg. Bayu Aji", 250_000),
    ("Semarang", "neurology", "dr. Hartono Wijaya, Sp.N", 400_000),
    ("Semarang", "orthopedics", "dr. Eko Susilo, Sp.OT", 450_000),
    ("Yogyakarta", "general", "dr. Putri Handayani", 120_000),
    ("Yogyakarta", "pediatrics", "dr. Wahyu Nugroho, Sp.A", 300_000),
    ("Yogyakarta", "nutrition", "dr. Fitri Anggraini, Sp.GK", 300_000),
    ("Yogyakarta", "psychiatry", "dr. Galih Pratama, Sp.KJ", 400_000),
    ("Yogyakarta", "dermatology", "dr. Nadia Safitri, Sp.KK", 350_000),
    ("Surabaya", "general", "dr. Rudi Hartanto", 130_000),
    ("Surabaya", "cardiology", "dr. Fransiska Tan, Sp.JP", 500_000),
    ("Surabaya", "urology", "dr. Bambang Sutrisno, Sp.U", 450_000),
    ("Surabaya", "obstetrics_gynecology", "dr. Dewi Kartika, Sp.OG", 400_000),
    ("Surabaya", "pulmonology", "dr. Teguh Santoso, Sp.P", 400_000),
    ("Medan", "general", "dr. Rahmat Siregar", 120_000),
    ("Medan", "internal_medicine", "dr. Sondang Simanjuntak, Sp.PD", 350_000),
    ("Medan", "dentistry", "drg. Friska Nainggolan", 250_000),
    ("Medan", "ent", "dr. Hotman Pardede, Sp.THT", 325_000),
    ("Denpasar", "general", "dr. Made Wirawan", 150_000),
    ("Denpasar", "dermatology", "dr. Ayu Pradnyani, Sp.KK", 400_000),
    ("Denpasar", "pediatrics", "dr. Ketut Suardana, Sp.A", 325_000),
    ("Denpasar", "orthopedics", "dr. Nyoman Artha, Sp.OT", 450_000),
    ("Makassar", "general", "dr. Andi Baso", 120_000),
    ("Makassar", "obstetrics_gynecology", "dr. Nurhayati Daeng, Sp.OG", 400_000),
    ("Makassar", "ophthalmology", "dr. Syamsul Bahri, Sp.M", 350_000),
    ("Makassar", "neurology", "dr. Irma Suryani, Sp.N", 400_000),
    ("Jayapura", "general", "dr. Yohanes Wenda", 150_000),
    ("Jayapura", "internal_medicine", "dr. Maria Rumbiak, Sp.PD", 375_000),
    ("Jayapura", "pediatrics", "dr. Elisabeth Kogoya, Sp.A", 325_000),
    ("Jayapura", "pulmonology", "dr. Petrus Yoku, Sp.P", 400_000),
    # every city has a GP, a paediatrician and a dentist: what patients ask for most
    ("Bandung", "dentistry", "drg. Wulan Purnama", 275_000),
    ("Semarang", "pediatrics", "dr. Anita Kusuma, Sp.A", 300_000),
    ("Yogyakarta", "dentistry", "drg. Satrio Wibisono", 250_000),
    ("Surabaya", "pediatrics", "dr. Lukas Halim, Sp.A", 325_000),
    ("Surabaya", "dentistry", "drg. Citra Ayuningtyas", 275_000),
    ("Medan", "pediatrics", "dr. Rosmawati Lubis, Sp.A", 300_000),
    ("Denpasar", "dentistry", "drg. Putu Ayu Lestari", 300_000),
    ("Makassar", "pediatrics", "dr. Muhammad Idris, Sp.A", 300_000),
    ("Makassar", "dentistry", "drg. Rahmawati Said", 250_000),
    ("Jayapura", "dentistry", "drg. Yakobus Mandowen", 275_000),
]

FIRST_NAMES = ["Ahmad", "Siti", "Dian", "Rizky", "Nur", "Agus", "Putri", "Eka", "Fajar", "Lestari",
               "Bagus", "Wulan", "Hadi", "Intan", "Joko", "Kartika", "Lukman", "Mega"]
LAST_NAMES = ["Saputra", "Rahayu", "Hidayat", "Pratiwi", "Nugraha", "Sari", "Wibowo", "Utami"]


def _doctor_id(city: str, specialty: str, index: int) -> str:
    return f"doc-{city[:3].lower()}-{specialty.replace('_', '-')}-{index}"


def build_doctors(today: date) -> list[Doctor]:
    rng = random.Random(7)  # noqa: S311 - demo data, reproducible
    doctors: list[Doctor] = []
    counts: dict[tuple[str, str], int] = {}
    for city, specialty, name, fee in DOCTORS:
        counts[(city, specialty)] = counts.get((city, specialty), 0) + 1
        morning = rng.choice([(8, 12), (9, 12), (9, 13)])
        afternoon = rng.choice([(14, 17), (15, 19), (16, 20)])
        workdays = rng.choice([[0, 1, 2, 3, 4], [0, 1, 2, 3, 4, 5], [0, 2, 4, 5]])
        weekly = []
        for day in workdays:
            weekly.append(WeeklyRule(weekday=day, start=time(morning[0]), end=time(morning[1])))
            if day != 5:  # Saturdays: mornings only
                weekly.append(WeeklyRule(weekday=day, start=time(afternoon[0]),
                                         end=time(afternoon[1])))
        breaks = [Break(start=time(10, 0), end=time(10, 30), weekdays=[4])]  # Friday coffee
        day_off = today + timedelta(days=rng.randint(3, 20))
        short_day = today + timedelta(days=rng.randint(2, 20))
        clinic, address = CLINICS[city]
        doctors.append(Doctor(
            id=_doctor_id(city, specialty, counts[(city, specialty)]),
            name=name, specialty=specialty, city=city, clinic=clinic, address=address,
            timezone=TIMEZONES.get(city, "Asia/Jakarta"),
            slot_minutes=20 if specialty == "general" else 30,
            buffer_minutes=0 if specialty == "general" else rng.choice([0, 0, 10]),
            min_notice_minutes=60, horizon_days=30, weekly=weekly, breaks=breaks,
            days_off=[day_off],
            overrides=[DateOverride(date=short_day,
                                    ranges=[TimeRange(start=time(9), end=time(11))])],
            fee=fee, languages=["id", "en"] if rng.random() < 0.6 else ["id"],
        ))
    return doctors


def load(store: MongoStore, *, password_hash: str | None, now: datetime | None = None,
         bookings_per_doctor: int = 6) -> dict[str, int]:
    """Idempotent: re-running replaces demo doctors and keeps existing users and bookings.

    `password_hash=None` (production): no account can log in with the public demo password
    and no calendar feed has the public demo token."""
    now = now or datetime.now(UTC)
    store.ensure_indexes()
    doctors = build_doctors(now.date())
    for doctor in doctors:
        if doctor.id == DEMO_DOCTOR_ID:
            doctor.user_id = "user-demo-doctor"
            doctor.whatsapp = "6281200000002"
            doctor.email = DEMO_DOCTOR
            if password_hash is not None:
                doctor.calendar_token = "demo-calendar-token-0b7f"  # noqa: S105 - demo data
        store.upsert_doctor(doctor)
    accounts = [
        User(id="user-demo-admin", name="Admin Klinik", email=DEMO_ADMIN, role=Role.admin,
             password_hash=password_hash),
        User(id="user-demo-doctor", name="dr. Sari Wulandari", email=DEMO_DOCTOR,
             role=Role.doctor, doctor_id=DEMO_DOCTOR_ID, whatsapp="6281200000002",
             password_hash=password_hash),
        User(id="user-demo-patient", name="Rina Pasien", email=DEMO_PATIENT,
             whatsapp=DEMO_PATIENT_WA, role=Role.patient, password_hash=password_hash),
        User(id="user-demo-staff", name="Dewi Staf", email=DEMO_STAFF, role=Role.staff,
             password_hash=password_hash),
    ]
    rng = random.Random(11)  # noqa: S311
    for i in range(DEMO_WHATSAPP_PATIENTS):
        accounts.append(User(id=f"user-demo-p{i:02d}",
                             name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                             whatsapp=f"628130000{i:04d}", role=Role.patient))
    created_users = 0
    for user in accounts:
        if store.find_user(email=user.email) if user.email else \
                store.find_user(whatsapp=user.whatsapp):
            continue
        store.insert_user(user)
        created_users += 1
    created_bookings = 0
    if not store.find_bookings(limit=1)[0]:
        patients = [u for u in accounts if u.role == Role.patient]
        held = {p.id: 0 for p in patients}
        for doctor in doctors:
            slots = available_slots(doctor, now=now, start=now, end=now + timedelta(days=14))
            for slot in rng.sample(slots, min(bookings_per_doctor, len(slots))):
                patient = rng.choice(patients)
                # below MAX_UPCOMING_BOOKINGS: every demo patient can still book
                if held[patient.id] >= DEMO_UPCOMING_PER_PATIENT or \
                        store.patient_overlaps(patient.id, slot.start, slot.end):
                    continue
                held[patient.id] += 1
                store.insert_booking(Booking(
                    ref=new_ref(), patient_id=patient.id, doctor_id=doctor.id,
                    start=slot.start, end=slot.end, created_at=now, updated_at=now,
                    source=rng.choice(list(BookingSource)), slot_key=slot_key(doctor.id,
                                                                              slot.start),
                    history=[HistoryEntry(at=now, action="booked", actor="seed",
                                          status=BookingStatus.confirmed)]))
                created_bookings += 1
    return {"doctors": len(doctors), "users": created_users, "bookings": created_bookings}
