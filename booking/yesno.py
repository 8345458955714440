"""Reading a yes/no answer and a correction at a confirm step (pure). Shared by the Rasa
actions (actions/forms.py) and the WhatsApp gateway (the erasure confirmation), which may
not import each other: hence here, in the core.

At "Lanjutkan?", "Batalkan booking ...?" or "Pindahkan ...?" the patient answers in their own
words: "iya batalkan", "ya pindahkan aja", "oke booking", "sip", "gas", "yes go ahead" are
yes; "jangan", "nggak jadi", "ga usah", "cancel that" are no. The NLU intent of such a
message is often not affirm/deny (it names the action: cancel_appointment...), so the
confirm step reads the words first (`yes_no`) and only then falls back to the intent.

`verb` is what the question asks to do ("book", "cancel", "reschedule", "erase"): naming it is a yes
("iya batalkan" at the cancel question), unless negated ("jangan dibatalkan").
"""

from __future__ import annotations

import re

_YES = re.compile(
    r"\b(y|ya+|iy+a*|iyo|yoi|yoa|yes+|yess|yep|yup|yeah|yah|ok+|oke+|okay|okey|okeh|okk|sip+|siap|"
    r"boleh|gas+|gass|lanjut(kan)?|lanjutin|jadi|setuju|betul|benar|bener|konfirmasi|"
    r"confirm(ed)?|sure|go ahead|proceed|correct|deal|mantap|mantul|pastikan|silakan|"
    r"silahkan|monggo|of course|absolutely|please do|do it|sounds good|fine|alright|"
    r"gapapa|ga papa|gak papa|nggak papa|ga apa apa|tidak apa apa|no problem|no worries)\b")
_NO = re.compile(
    r"\b(tidak|tdk|gak|ga|nggak|ngga|enggak|engga|gk|nda|ndak|no|nope|nah|jangan|jgn|"
    r"batal|gajadi|gak jadi|ga jadi|nggak jadi|tidak jadi|ga usah|gak usah|nggak usah|"
    r"tidak usah|gausah|gaus|don'?t|do not|never ?mind|not now|cancel that|stop|"
    r"salah|keliru|wrong)\b")
_NOT_NEGATION = re.compile(r"\b(ga|gak|nggak|tidak|no) ?(apa[ -]?apa|papa|problem|worries)\b")
_VERBS = {  # naming what the question asks to do
    "book": r"book(ing)?(kan|in)?|pesan|daftar(kan)?|ambil|reserve",
    "cancel": r"(di)?batal(kan|in)?|cancel(led)?|hapus",
    "reschedule": r"(di)?pindah(kan|in)?|ganti|ubah|reschedule|move",
    "erase": r"(di)?hapus(kan|in)?|erase|delete",
}
_NEG = r"(jangan|jgn|ga|gak|nggak|ngga|tidak|tdk|enggak|engga|don'?t|do not|no)"
# "eh salah, maksudnya Kamis", "bukan, yang jam 2", "ganti dokter lain": what changes
CHANGE_DOCTOR = re.compile(r"\b(ganti|tukar|cari|mau|pilih)\s+(dokter|dr|dok)\w*\s+(lain|yang lain|"
                           r"lainnya)\b|\b(dokter|dr|dok)\s+(lain|yang lain|lainnya)\b|"
                           r"\b(another|different|other) doctor\b|\bchange (the )?doctor\b")
CHANGE_DAY = re.compile(r"\b(hari|tanggal|tgl)\s+(lain|yang lain)\b|\b(another|different|other) "
                        r"day\b|\bganti (hari|tanggal|tgl)\b")
CHANGE_TIME = re.compile(r"\b(jam|waktu)\s+(lain|yang lain)\b|\b(another|different|other) "
                         r"time\b|\bganti jam\b")


def _norm(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


def yes_no(text: str, intent: str, verb: str = "book") -> bool | None:
    """True for yes, False for no, None when the message answers neither."""
    norm = _norm(text) if text and not text.startswith("/") else ""
    if not norm:
        return {"affirm": True, "deny": False}.get(intent)
    cleared = _NOT_NEGATION.sub(" ok ", norm)
    verb_re = re.compile(rf"\b({_VERBS.get(verb, _VERBS['book'])})\b")
    if re.search(rf"\b{_NEG}\s+(jadi\s+|usah\s+|mau\s+)?({_VERBS.get(verb, '')})", cleared):
        return False  # "jangan dibatalkan", "ga jadi pindah", "don't book"
    # at the cancel question "batal"/"cancel" name the action asked about, not a no
    no_text = verb_re.sub(" ", cleared) if verb == "cancel" else cleared
    if _NO.search(no_text):
        return False
    if _YES.search(cleared) or verb_re.search(cleared):
        return True
    return {"affirm": True, "deny": False}.get(intent)


def is_correction(text: str) -> bool:
    """Does the message change an answer rather than confirm it?"""
    norm = _norm(text)
    return bool(CHANGE_DOCTOR.search(norm) or CHANGE_DAY.search(norm)
                or CHANGE_TIME.search(norm))
