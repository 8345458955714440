"""Fixed reference tables: specialties and cities.

One source of truth: the NLU synonym and lookup data (nlu/) are generated from
these tables by `python -m booking.nlu_data`, never edited by hand.
"""

from __future__ import annotations

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


# Demo cities cover WIB (UTC+7), WITA (UTC+8) and WIT (UTC+9); the others are
# large cities patients name, so the NLU knows them even without a clinic there.
CITIES: tuple[City, ...] = (
    City("Jakarta", "Asia/Jakarta", ("jkt", "dki", "jakarta pusat", "jakarta selatan",
                                     "jaksel", "jakbar", "jaktim", "jakut")),
    City("Bandung", "Asia/Jakarta", ("bdg", "bandung kota")),
    City("Semarang", "Asia/Jakarta", ("smg",)),
    City("Yogyakarta", "Asia/Jakarta", ("jogja", "yogya", "jogjakarta", "jogya", "yk", "diy")),
    City("Surabaya", "Asia/Jakarta", ("sby", "suroboyo")),
    City("Medan", "Asia/Jakarta", ("mdn",)),
    City("Denpasar", "Asia/Makassar", ("bali", "dps")),
    City("Makassar", "Asia/Makassar", ("mks", "ujung pandang")),
    City("Jayapura", "Asia/Jayapura", ("jyp", "papua")),
    City("Malang", "Asia/Jakarta", ("mlg",)),
    City("Palembang", "Asia/Jakarta", ("plg",)),
    City("Bogor", "Asia/Jakarta", ("bgr",)),
    City("Tangerang", "Asia/Jakarta", ("tng", "tangsel")),
    City("Bekasi", "Asia/Jakarta", ("bks",)),
    City("Depok", "Asia/Jakarta", ("dpk",)),
    City("Solo", "Asia/Jakarta", ("surakarta",)),
    City("Balikpapan", "Asia/Makassar", ("bpp",)),
    City("Manado", "Asia/Makassar", ("mdo",)),
    City("Pekanbaru", "Asia/Jakarta", ("pku",)),
    City("Padang", "Asia/Jakarta", ("pdg",)),
    City("Pontianak", "Asia/Jakarta", ("ptk",)),
    City("Banjarmasin", "Asia/Makassar", ("bjm",)),
    City("Ambon", "Asia/Jayapura", ()),
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
    return _SPECIALTY_INDEX.get(key)


def city_name(text: str | None) -> str | None:
    """Canonical city name for a name or alias; None when unknown."""
    if not text:
        return None
    key = _norm(text)
    if key.startswith("kota "):
        key = key[5:]
    return _CITY_INDEX.get(key)


def specialty_label(code: str, lang: str = "id") -> str:
    spec = SPECIALTY_BY_CODE.get(code)
    if spec is None:
        return code
    return spec.name_en if lang == "en" else spec.name_id
