"""Phone normalisation, booking references, the specialty/city tables, settings."""

from __future__ import annotations

import pytest

from app.settings import Settings, SettingsError, load_settings
from booking.catalog import SPECIALTIES, city_name, specialty_code
from booking.errors import InvalidPhoneNumber
from booking.phone import mask_phone, normalise_whatsapp
from booking.refs import REF_ALPHABET, new_ref, normalise_ref


@pytest.mark.parametrize(("raw", "expected"), [
    ("081234567890", "6281234567890"),
    ("+62 812-3456-7890", "6281234567890"),
    ("6281234567890", "6281234567890"),
    ("0812 3456 7890", "6281234567890"),
    ("(0812) 3456-7890", "6281234567890"),
    ("+31 6 12345678", "31612345678"),
])
def test_normalise_whatsapp(raw: str, expected: str) -> None:
    assert normalise_whatsapp(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "0812", "+62 12", "12345678901234567890"])
def test_invalid_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalise_whatsapp(raw)


def test_mask_phone_keeps_no_middle_digits() -> None:
    assert mask_phone("6281234567890") == "62*********90"
    assert "3456" not in mask_phone("6281234567890")


def test_refs_are_readable_and_round_trip() -> None:
    refs = {new_ref() for _ in range(2000)}
    assert len(refs) > 1990
    for ref in list(refs)[:50]:
        assert len(ref) == 7 and ref[3] == "-"
        assert all(ch in REF_ALPHABET for ch in ref.replace("-", ""))
        assert normalise_ref(ref.lower().replace("-", " ")) == ref
    for confusable in "0O1IL5S2Z8B":
        assert confusable not in REF_ALPHABET
    assert normalise_ref("ABC-12") is None
    assert normalise_ref("OOO-OOO") is None


@pytest.mark.parametrize(("text", "code"), [
    ("dokter gigi", "dentistry"), ("drg", "dentistry"), ("Dentist", "dentistry"),
    ("dokter anak", "pediatrics"), ("spesialis anak", "pediatrics"),
    ("pediatrician", "pediatrics"), ("kandungan", "obstetrics_gynecology"),
    ("obgyn", "obstetrics_gynecology"), ("spog", "obstetrics_gynecology"), ("THT", "ent"),
    ("spesialis jantung", "cardiology"), ("penyakit dalam", "internal_medicine"),
    ("unknown thing", None),
])
def test_specialty_synonyms(text: str, code: str | None) -> None:
    assert specialty_code(text) == code


@pytest.mark.parametrize(("text", "city"), [
    ("bdg", "Bandung"), ("jogja", "Yogyakarta"), ("yogya", "Yogyakarta"),
    ("jogjakarta", "Yogyakarta"), ("sby", "Surabaya"), ("jkt", "Jakarta"),
    ("bali", "Denpasar"), ("dps", "Denpasar"), ("Kota Medan", "Medan"), ("Atlantis", None),
])
def test_city_aliases(text: str, city: str | None) -> None:
    assert city_name(text) == city


def test_specialty_table_covers_required_codes() -> None:
    required = {"general", "pediatrics", "dentistry", "obstetrics_gynecology",
                "internal_medicine", "dermatology", "ophthalmology", "ent", "cardiology",
                "neurology", "psychiatry", "orthopedics", "pulmonology", "urology", "nutrition"}
    assert required <= {s.code for s in SPECIALTIES}
    # no synonym points at two specialties
    seen: dict[str, str] = {}
    for spec in SPECIALTIES:
        for syn in spec.synonyms:
            assert seen.setdefault(syn, spec.code) == spec.code, syn


def test_settings_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PORT", "not-a-port")
    with pytest.raises(SettingsError, match="APP_PORT"):
        load_settings()
    monkeypatch.setenv("APP_PORT", "8081")
    monkeypatch.setenv("KLINIK_ROLES", "api,teleport")
    with pytest.raises(SettingsError, match="ROLES"):
        load_settings()


def test_prefixed_variable_wins_and_secrets_stay_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_PORT", "8081")
    monkeypatch.setenv("KLINIK_APP_PORT", "8082")
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    settings = load_settings()
    assert settings.app_port == 8082
    assert "s" * 40 not in repr(settings) and "s" * 40 not in str(settings.model_dump())


def test_short_jwt_secret_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "short")
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        load_settings()


@pytest.mark.parametrize(("env", "embedded", "demo"), [
    ({}, True, True),
    ({"MONGODB_URL": "mongomock://"}, True, True),
    ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, False, True),
    ({"MONGODB_URL": "mongodb://db:27017/klinik"}, False, False),
    ({"MONGODB_URL": "mongodb://db:27017/klinik", "LOAD_DEMO_DATA": "true"}, False, True),
])
def test_embedded_default_detection(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                    embedded: bool, demo: bool) -> None:
    for name in ("MONGODB_URL", "REDIS_URL", "LOAD_DEMO_DATA"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv("KLINIK_" + name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.embedded is embedded
    assert settings.demo_data is demo


def test_readme_configuration_table_is_current() -> None:
    """The README lists every variable, as generated from Settings (python -m app.settings)."""
    from pathlib import Path

    from app.settings import markdown_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("<!-- settings-table -->\n")[1].split("<!-- /settings-table -->")[0]
    assert table.strip() == markdown_table().strip()


def test_demo_network_covers_common_requests() -> None:
    from datetime import date

    from booking.demo import build_doctors

    doctors = build_doctors(date(2026, 12, 7))
    assert len(doctors) >= 40
    assert len({d.specialty for d in doctors}) >= 12
    assert {d.timezone for d in doctors} == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}
    for city in {d.city for d in doctors}:
        assert {"general", "pediatrics", "dentistry"} <= {d.specialty for d in doctors
                                                          if d.city == city}, city
