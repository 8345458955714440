"""bot/privacy_requests.py: erase and access requests in free Indonesian and English, with
typos and slang, and booking talk that must not be taken for them."""

from __future__ import annotations

import pytest

from bot.privacy_requests import PrivacyRequest, privacy_request, request_language

ERASE = [
    "hapus data saya", "Hapus data saya!", "tolong hapus semua data sy",
    "saya mau akun saya dihapus", "hapus akun", "hapus akun saya", "hps data sy dong",
    "apus data aku ya", "tolong dihapus data saya", "data saya tolong dihapus aja",
    "mohon hapuskan data pribadi saya", "saya ingin menghapus akun saya",
    "bisa hapus semua data2 saya?", "akun sy minta dihapus", "hapusin akun gw",
    "saya minta data saya dihapus sesuai UU PDP", "hapus nomor saya dari sistem",
    "hapus riwayat chat saya", "hapus identitas saya", "tolong musnahkan data saya",
    "delete my data", "Delete my data please", "please erase my account and data",
    "delete my account", "erase my personal data", "remove my data from your system",
    "can you delete all my data?", "I want my account deleted", "pls delete my acc",
    "wipe my data", "please forget me", "I want to exercise my right to be forgotten",
    "delete my personal info", "remove my profile", "erase all the data you have on me",
    "hapus profil saya", "my data must be deleted",
]
ACCESS = [
    "data saya", "Data saya?", "data apa saja yang kalian simpan tentang saya?",
    "my data", "My data please", "what data do you have about me",
    "minta salinan data saya", "data pribadi saya apa aja yang disimpan?",
    "saya mau lihat data saya", "cek data saya dong", "liat data sy",
    "kirim data saya ke email", "klinik menyimpan data apa tentang saya?",
    "tolong data saya", "info pribadi saya apa saja yang kalian punya",
    "boleh minta data saya?", "data apa aja yang kalian punya tentang aku",
    "show my data", "what personal data do you keep", "what information do you hold about me",
    "can I get a copy of my data?", "send me my data", "I want to see my personal data",
    "export my data", "download data saya", "request access to my data",
    "which data do you store about me?", "what data have you stored", "unduh data saya",
    "mohon akses data pribadi saya", "show my personal data please", "data sy apa aja",
]
NEITHER = [
    "hapus janji saya besok", "hapus booking saya", "hapus jadwal saya hari kamis",
    "tolong hapus janji dengan dr budi", "cancel my booking", "delete my appointment",
    "please cancel my appointment tomorrow", "batalkan jadwal saya", "data dokter",
    "data dokter anak di bandung", "lihat data dokter gigi", "minta jadwal dokter",
    "saya mau booking dokter umum", "halo", "ya", "tidak", "data saya sudah benar",
    "mau ubah data saya", "ganti data saya", "my data is correct", "update my details",
    "jangan hapus data saya", "don't delete my data", "ga usah hapus akun", "hapus",
    "delete", "I want to book a doctor", "apakah dokter ada data jadwal minggu depan?",
    "reschedule my appointment", "tolong hapus pesan jam 12", "saya punya data lab",
    "hasil lab saya sudah keluar", "pindah jadwal ke jam 10", "/affirm",
    "berapa biaya konsultasi", "cancel that", "what time is my appointment",
    "nomor antrian saya berapa", "hapus janji jam 9 ya", "remove my booking on friday",
    "apa saja dokter yang tersedia", "what doctors do you have", "show me the schedule",
]


@pytest.mark.parametrize("text", ERASE)
def test_erase_requests(text: str) -> None:
    assert privacy_request(text) == PrivacyRequest.erase


@pytest.mark.parametrize("text", ACCESS)
def test_access_requests(text: str) -> None:
    assert privacy_request(text) == PrivacyRequest.access


@pytest.mark.parametrize("text", NEITHER)
def test_booking_talk_is_not_a_privacy_request(text: str) -> None:
    assert privacy_request(text) is None


def test_the_tables_are_large_and_bilingual() -> None:
    assert len(ERASE) >= 30 and len(ACCESS) >= 30 and len(NEITHER) >= 30
    for table in (ERASE, ACCESS, NEITHER):
        assert any("saya" in t or "sy" in t for t in table)
        assert any(" my " in f" {t} " or t.startswith(("cancel", "what")) for t in table)


@pytest.mark.parametrize(("text", "lang"), [
    ("my data", "en"), ("delete my data", "en"), ("what data do you have about me", "en"),
    ("data saya", "id"), ("hapus akun", "id"), ("tolong hapus semua data sy", "id"),
    ("data", None)])
def test_the_answer_follows_the_language_of_the_request(text: str, lang: str | None) -> None:
    assert request_language(text) == lang
