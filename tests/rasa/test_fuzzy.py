"""booking.fuzzy: the typo/abbreviation fallback for specialty and city, and the catalogue's
nearest-city order."""

from __future__ import annotations

import pytest

from booking.catalog import nearest_first
from booking.fuzzy import evaluate, find_city, find_specialty


@pytest.mark.parametrize(("text", "specialty", "city"), [
    ("dktr ggi di sby", "dentistry", "Surabaya"),
    ("dokte anak2 jkt", "pediatrics", "Jakarta"),
    ("kulit n kelamin jogja", "dermatology", "Yogyakarta"),
    ("spesialis penyakit dlm mksr", "internal_medicine", "Makassar"),
    ("dokter penyakit dalam", "internal_medicine", None),
    ("pediatricians in Bali", "pediatrics", "Denpasar"),
    ("internal medicine doctor", "internal_medicine", None),
    ("dermatologists surabya", "dermatology", "Surabaya"),
    ("opthalmologist makasar", "ophthalmology", "Makassar"),
    ("dokter tht medn", "ent", "Medan"),
    ("dentists near semarang", "dentistry", "Semarang"),
    ("dokter kandungn di surabya", "obstetrics_gynecology", "Surabaya"),
    ("dokter gigy bandng", "dentistry", "Bandung"),
    ("psikiatri", "psychiatry", None),
    ("cardiologists", "cardiology", None),
    ("palembag", None, "Palembang"),
    # who the visit is for, time words and chat words are not specialties or cities
    ("mau booking untuk anak saya besok malam", None, None),
    ("is there a spot tomorrow night", None, None),
    ("bisa diatur ulang ga jadwal saya", None, None),
    ("tolong hubungi saya balik", None, None),
    ("cancel that", None, None),
    ("makasih kak", None, None),
    ("", None, None),
])
def test_find(text: str, specialty: str | None, city: str | None) -> None:
    assert find_specialty(text) == specialty
    assert find_city(text) == city


def test_threshold_evaluation_has_no_false_hits_at_the_chosen_threshold() -> None:
    rows = evaluate([84])
    recall, false_hits = rows[-1].split("|")[2:4]
    assert float(recall.split("=")[1]) >= 0.9
    assert false_hits.strip().startswith("0/")


def test_nearest_first() -> None:
    assert nearest_first("Palembang", ["Makassar", "Medan", "Bandung", "Jakarta"]) == [
        "Jakarta", "Bandung", "Medan", "Makassar"]
    assert nearest_first(None, ["Medan", "Bandung"]) == ["Bandung", "Medan"]
