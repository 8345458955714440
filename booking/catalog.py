"""Fixed reference tables: specialties and cities.

One source of truth: the NLU synonym and lookup data (nlu/) are generated from
these tables by `python -m booking.nlu_data`, never edited by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Specialty:
    code: str
    name_id: str
    name_en: str
    synonyms: tuple[str, ...]


SPECIALTIES: tuple[Specialty, ...] = (
    Specialty("general", "Dokter Umum", "General Practitioner",
              ("dokter umum", "dr umum", "umum", "gp", "general practitioner", "general doctor",
               "family doctor", "poli umum")),
    Specialty("pediatrics", "Dokter Anak", "Pediatrics",
              ("dokter anak", "spesialis anak", "sp.a", "spa", "anak", "pediatrician",
               "pediatrics", "paediatrician", "child doctor", "dsa")),
    Specialty("dentistry", "Dokter Gigi", "Dentistry",
              ("dokter gigi", "drg", "gigi", "dentist", "dental", "dentistry", "poli gigi",
               "sakit gigi")),
    Specialty("obstetrics_gynecology", "Kandungan (Obgyn)", "Obstetrics & Gynecology",
              ("kandungan", "dokter kandungan", "obgyn", "spog", "sp.og", "obsgyn",
               "gynecologist", "obstetrician", "kebidanan", "gynaecologist")),
    Specialty("internal_medicine", "Penyakit Dalam", "Internal Medicine",
              ("penyakit dalam", "spesialis penyakit dalam", "internis", "sp.pd", "sppd",
               "internist", "internal medicine")),
    Specialty("dermatology", "Kulit & Kelamin", "Dermatology",
              ("kulit", "dokter kulit", "kulit dan kelamin", "spkk", "sp.kk", "sp.dve",
               "dermatologist", "dermatology", "skin doctor")),
    Specialty("ophthalmology", "Mata", "Ophthalmology",
              ("mata", "dokter mata", "spesialis mata", "sp.m", "ophthalmologist",
               "ophthalmology", "eye doctor")),
    Specialty("ent", "THT", "Ear, Nose & Throat",
              ("tht", "dokter tht", "telinga hidung tenggorokan", "sp.tht", "ent",
               "ear nose throat", "otolaryngologist")),
    Specialty("cardiology", "Jantung", "Cardiology",
              ("jantung", "dokter jantung", "spesialis jantung", "sp.jp", "spjp",
               "cardiologist", "cardiology", "heart doctor")),
    Specialty("neurology", "Saraf", "Neurology",
              ("saraf", "syaraf", "dokter saraf", "neurolog", "sp.n", "spn",
               "neurologist", "neurology")),
    Specialty("psychiatry", "Psikiater", "Psychiatry",
              ("psikiater", "kejiwaan", "kesehatan jiwa", "sp.kj", "spkj",
               "psychiatrist", "psychiatry")),
    Specialty("orthopedics", "Ortopedi", "Orthopedics",
              ("ortopedi", "orthopedi", "dokter tulang", "tulang", "sp.ot", "spot",
               "orthopedic", "orthopedics", "orthopaedic")),
    Specialty("pulmonology", "Paru", "Pulmonology",
              ("paru", "paru-paru", "dokter paru", "sp.p", "pulmonologist",
               "pulmonology", "lung doctor")),
    Specialty("urology", "Urologi", "Urology",
              ("urologi", "dokter urologi", "sp.u", "urologist", "urology")),
    Specialty("nutrition", "Gizi Klinik", "Clinical Nutrition",
              ("gizi", "dokter gizi", "ahli gizi", "sp.gk", "spgk", "nutritionist",
               "nutrition", "dietitian")),
)

SPECIALTY_BY_CODE: dict[str, Specialty] = {s.code: s for s in SPECIALTIES}


@dataclass(frozen=True, slots=True)
class City:
    name: str
    timezone: str
    aliases: tuple[str, ...]
    at: tuple[float, float] | None = None  # (latitude, longitude), for "nearest first"


# Demo cities cover WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9); the others are
# large cities patients name, so the NLU knows them even without a clinic there.
CITIES: tuple[City, ...] = (
    City("Jakarta", "Asia/Jakarta", ("jkt", "dki", "jakarta pusat", "jakarta selatan",
                                     "jaksel", "jakbar", "jaktim", "jakut"), (-6.2, 106.8)),
    City("Bandung", "Asia/Jakarta", ("bdg", "bandung kota"), (-6.9, 107.6)),
    City("Semarang", "Asia/Jakarta", ("smg",), (-7.0, 110.4)),
    City("Yogyakarta", "Asia/Jakarta", ("jogja", "yogya", "jogjakarta", "jogya", "yk", "diy"),
         (-7.8, 110.4)),
    City("Surabaya", "Asia/Jakarta", ("sby", "suroboyo"), (-7.25, 112.75)),
    City("Medan", "Asia/Jakarta", ("mdn",), (3.6, 98.7)),
    City("Denpasar", "Asia/Makassar", ("bali", "dps"), (-8.65, 115.2)),
    City("Makassar", "Asia/Makassar", ("mks", "ujung pandang"), (-5.15, 119.4)),
    City("Jayapura", "Asia/Jayapura", ("jyp", "papua"), (-2.5, 140.7)),
    City("Malang", "Asia/Jakarta", ("mlg",), (-7.98, 112.6)),
    City("Palembang", "Asia/Jakarta", ("plg",), (-2.98, 104.75)),
    City("Bogor", "Asia/Jakarta", ("bgr",), (-6.6, 106.8)),
    City("Tangerang", "Asia/Jakarta", ("tng", "tangsel"), (-6.18, 106.63)),
    City("Bekasi", "Asia/Jakarta", ("bks",), (-6.24, 107.0)),
    City("Depok", "Asia/Jakarta", ("dpk",), (-6.4, 106.8)),
    City("Solo", "Asia/Jakarta", ("surakarta",), (-7.57, 110.82)),
    City("Balikpapan", "Asia/Makassar", ("bpp",), (-1.27, 116.83)),
    City("Manado", "Asia/Makassar", ("mdo",), (1.47, 124.84)),
    City("Pekanbaru", "Asia/Jakarta", ("pku",), (0.51, 101.45)),
    City("Padang", "Asia/Jakarta", ("pdg",), (-0.95, 100.35)),
    City("Pontianak", "Asia/Jakarta", ("ptk",), (-0.03, 109.33)),
    City("Banjarmasin", "Asia/Makassar", ("bjm",), (-3.32, 114.59)),
    City("Ambon", "Asia/Jayapura", (), (-3.7, 128.18)),
)

CITY_BY_NAME: dict[str, City] = {c.name.lower(): c for c in CITIES}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


_SPECIALTY_INDEX: dict[str, str] = {}
for _s in SPECIALTIES:
    for _k in (_s.code, _s.code.replace("_", " "), _s.name_id, _s.name_en, *_s.synonyms):
        _SPECIALTY_INDEX[_norm(_k)] = _s.code

_CITY_INDEX: dict[str, str] = {}
for _c in CITIES:
    for _k in (_c.name, *_c.aliases):
        _CITY_INDEX[_norm(_k)] = _c.name


def specialty_code(text: str | None) -> str | None:
    """Canonical specialty code for a code, name or synonym; None when unknown."""
    if not text:
        return None
    key = _norm(text)
    for prefix in ("spesialis ", "dokter ", "dr. ", "dr "):
        if key not in _SPECIALTY_INDEX and key.startswith(prefix):
            key = key[len(prefix):]
    for suffix in (" doctors", " doctor", " specialists", " specialist", " dokter"):
        if key not in _SPECIALTY_INDEX and key.endswith(suffix):  # "ENT doctor"
            key = key[:-len(suffix)]
    if key not in _SPECIALTY_INDEX and key.endswith("s") and key[:-1] in _SPECIALTY_INDEX:
        key = key[:-1]  # "pediatricians"
    return _SPECIALTY_INDEX.get(key)


def city_name(text: str | None) -> str | None:
    """Canonical city name for a name or alias; None when unknown."""
    if not text:
        return None
    key = _norm(text)
    if key.startswith("kota "):
        key = key[5:]
    return _CITY_INDEX.get(key)


def distance_km(a: str, b: str) -> float | None:
    """Great-circle distance between two catalogue cities; None when one is unknown."""
    first, second = CITY_BY_NAME.get(a.lower()), CITY_BY_NAME.get(b.lower())
    if first is None or second is None or first.at is None or second.at is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (*first.at, *second.at))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest_first(origin: str | None, cities: list[str]) -> list[str]:
    """`cities` ordered by distance from `origin` (unknown distances last, by name)."""
    def key(city: str) -> tuple[float, str]:
        dist = distance_km(origin, city) if origin else None
        return (dist if dist is not None else float("inf"), city)
    return sorted(dict.fromkeys(cities), key=key)


def specialty_label(code: str, lang: str = "id") -> str:
    spec = SPECIALTY_BY_CODE.get(code)
    if spec is None:
        return code
    return spec.name_en if lang == "en" else spec.name_id
