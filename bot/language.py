"""A small guess of the patient's language (Indonesian or English) from their words (pure)."""

from __future__ import annotations

import re

_EN = frozenset("""hi hello hey i i'm im want would like to book the a an doctor appointment
cancel please my is are for with what when where can could thanks thank you yes no reschedule
tomorrow today morning afternoon evening need see available how which attend change time next
week help me do does have an at on of it this that""".split())
_ID = frozenset("""halo hai saya aku mau ingin dokter dok pesan jadwal besok hari ini pagi siang
sore malam tolong terima kasih ya tidak nggak gak enggak batal batalkan ubah untuk dengan di
yang apa kapan bisa ada anak gigi jam minggu depan hadir selamat mohon sakit periksa berapa
dong kak mas mbak pak bu lusa nanti sekarang boleh cari ke dan atau""".split())
_WORD = re.compile(r"[a-z']+")


def guess(text: str | None) -> str | None:
    """'id' or 'en' when the words say so clearly, else None (keep what we knew)."""
    words = _WORD.findall((text or "").lower())
    en = sum(w in _EN for w in words)
    idn = sum(w in _ID for w in words)
    if en > idn:
        return "en"
    if idn > en:
        return "id"
    return None
