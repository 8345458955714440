"""The patient's language from their words (pure, deterministic): one rule for the gateway
(a message before Rasa sees it) and the actions (the conversation's language slot).

Indonesian is the default. A message switches the conversation to English only when it
is clearly English (several English function words and no Indonesian ones), and back
to Indonesian when it clearly is Indonesian; short or mixed messages ("ok", "dr. Sari",
button payloads) keep the current language.
"""

from __future__ import annotations

import re

DEFAULT = "id"

_EN = frozenset("""
i i'm im me my you your we our the a an is are am was be to of for with on at in and or
please want would like need can could should will book appointment doctor doctors see make
cancel change move reschedule my what when where which who how do does did have has any
there tomorrow today next this morning afternoon evening night week time times free
available earliest slot slots hello hi hey thanks thank yes no not don't dont it that
name call talk speak human person agent real much cost price insurance accept open close
""".split())
_ID = frozenset("""
saya sy aku gue gw kamu anda kak kakak min mas mbak dok dokter mau ingin pengen pingin bisa
ada yang yg di ke dari dan atau untuk buat utk dengan sama dgn apa kapan berapa brp gimana
bagaimana dimana mana kok dong deh ya iya iyaa tidak gak ga nggak enggak engga gk ngga tdk
besok bsk lusa hari jam pukul pagi siang sore malam minggu depan ini itu aja saja tolong
halo hai selamat terima kasih makasih jadwal periksa janji batal batalkan batalin ganti
pindah ubah cari kosong praktek biaya harga buka tutup alamat nama anak gigi kulit sakit
sudah udah belum lagi juga nya punya kalau kalo tapi terus boleh mohon
""".split())
_WORD = re.compile(r"[a-z']+")


def detect_language(text: str | None) -> str | None:
    """'en' or 'id' when the message is clearly in that language, else None (keep current)."""
    if not text or text.startswith("/"):
        return None
    words = _WORD.findall(text.lower())
    en = sum(1 for w in words if w in _EN and w not in _ID)
    ind = sum(1 for w in words if w in _ID and w not in _EN)
    if en >= 2 and ind == 0:
        return "en"
    if en >= 3 and en >= 3 * ind:
        return "en"
    if ind >= 1 and ind >= en:
        return "id"
    return None


def next_language(current: str | None, text: str | None) -> str:
    """The conversation's language after this message."""
    return detect_language(text) or current or DEFAULT
