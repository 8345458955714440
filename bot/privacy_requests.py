"""Recognising a patient's data-protection request in a WhatsApp message (pure).

Two requests are read before Rasa sees the message (bot/gateway.py):
- erase: "hapus data saya", "tolong hapus semua data sy", "saya mau akun saya dihapus",
  "delete my data", "please erase my account and data", "hapus akun";
- access: "data saya", "data apa saja yang kalian simpan tentang saya?", "my data",
  "what data do you have about me", "minta salinan data saya".

Why regular expressions and not the NLU: these are legal requests that must be answered the
same way every time, whatever the model learned this week, and a false positive is cheap
(the erasure asks for confirmation; the access answer is a summary). The other way round
must hold too: booking talk ("hapus janji saya besok" = cancel a booking, "data dokter",
"cancel my booking") is not a privacy request, so the object of the verb must be personal
data or the account, never a booking, a schedule or a doctor.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class PrivacyRequest(StrEnum):
    erase = "erase"
    access = "access"


_SELF = r"(saya|sy|sya|aku|aq|ak|gue|gw|gua|ku|kami|my|me|mine|i)"
# "data" of a doctor, a schedule or a clinic is booking talk, not personal data
_DATA = r"(data|dta|dt)(?!\s+(dokter|dr|doctor|klinik|clinic|jadwal|schedule|rs))\w*"
_OBJECT = (rf"({_DATA}|akun\w*|akn|account|acc|profil\w*|profile|identitas\w*|"
           r"info\w* pribadi|personal (data|info\w*|details)|nomor (saya|sy|hp|wa|aku)|"
           r"no (hp|wa) (saya|sy)|riwayat (chat|percakapan|obrolan)|chat history)")
_ERASE_VERB = (r"((meng|di)?hapus\w*|hps\w*|apus\w*|delete[ds]?|deleting|erase[ds]?|"
               r"erasing|remove|wipe|hilangkan|musnahkan|musnahin|buang)")
_NEGATION = r"(jangan|jgn|ga|gak|nggak|ngga|tidak|tdk|enggak|gausah|don'?t|do not|dont|never)"

_ERASE = re.compile(
    # verb first: "hapus data saya", "delete my account", "tolong hapus semua data sy"
    rf"\b{_ERASE_VERB}\b(\s+\S+){{0,4}}?\s+\b{_OBJECT}"
    # object first, passive: "akun saya dihapus", "data saya tolong dihapus aja"
    rf"|\b{_OBJECT}(\s+\S+){{0,3}}?\s+(tolong\s+|mohon\s+|minta\s+)?"
    r"(di)?(hapus|hps|apus)\w*"
    rf"|\b{_OBJECT}(\s+\S+){{0,3}}?\s+(deleted|erased|removed|wiped)\b"
    # "forget me", "hak untuk dilupakan"
    r"|\bforget (about )?me\b|\bright to (be forgotten|erasure)\b|\bdilupakan\b"
    r"|\blupakan (data )?(saya|aku|sy)\b")
_ERASE_NEGATED = re.compile(rf"\b{_NEGATION}\s+(\S+\s+)?{_ERASE_VERB}")

_ACCESS = re.compile(
    # "data saya", "data pribadi saya", "info pribadi aku", "data2 sy"
    rf"\b({_DATA}|info\w*|informasi)( pribadi| personal)?\s+(\S+\s+)?{_SELF}\b"
    # "my data", "my personal data", "my information"
    r"|\b(my|mine)\s+(personal\s+)?(data|info\w*|details)\b"
    # "data apa saja yang kalian simpan", "what data do you have/keep/store"
    rf"|\b{_DATA}\s+(apa|apa saja|apa aja|apa2)\b"
    r"|\b(what|which)\s+(personal\s+)?(data|info\w*)\b"
    # "salinan data", "copy of my data", "export data"
    rf"|\b(salinan|copy|export|ekspor|unduh|download)\b(\s+\S+){{0,3}}?\s+{_DATA}")
# Asking, not telling: the access request needs one of these, or to stand alone.
_ACCESS_CUE = re.compile(
    r"\b(lihat|liat|cek|check|minta|mohon|kirim|kirimkan|salinan|copy|export|ekspor|unduh|"
    r"download|akses|access|apa|what|which|show|see|send|simpan|disimpan|menyimpan|store|"
    r"stored|have|hold|keep|kept|punya|miliki|tahu|tau|tentang|about|view|request|get|give)\b")
_ACCESS_ALONE = re.compile(
    rf"^((tolong|mohon|please|pls|show|see)\s+)?(data|info|informasi)(\s+pribadi)?\s+{_SELF}"
    r"(\s+(dong|ya|donk|please|pls))?$"
    r"|^((show|see|get)\s+)?my\s+(personal\s+)?(data|info\w*)(\s+(please|pls))?$")
# Changing or confirming one's details is the booking form talking, not a request for them.
_EDIT = re.compile(r"\b(ubah|ganti|update|edit|perbarui|perbaiki|koreksi|benar|bener|salah|"
                   r"isi|lengkapi|masukkan|correct|wrong|change|fix)\b")


_ENGLISH = re.compile(r"\b(my|me|mine|you|your|delete|erase|remove|wipe|forget|what|which|"
                      r"please|account|copy|send|show|have|about)\b")
_INDONESIAN = re.compile(r"\b(saya|sy|aku|gue|gw|hapus\w*|hps|apus\w*|apa|tolong|mohon|"
                         r"minta|akun|kalian|tentang|dong|ya)\b")


def request_language(text: str) -> str | None:
    """The language of a request, for the answer: short requests ("my data") are too short
    for the general detector (booking/language.py)."""
    norm = normalise(text)
    english, indonesian = bool(_ENGLISH.search(norm)), bool(_INDONESIAN.search(norm))
    if english != indonesian:
        return "en" if english else "id"
    return None


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("’", "'")
    text = re.sub(r"[^\w\s']", " ", text)
    text = re.sub(r"\b([a-z]+)2\b", r"\1", text)  # "data2" (reduplication shorthand)
    return " ".join(text.split())


def privacy_request(text: str) -> PrivacyRequest | None:
    """What the message asks for, if it is a data-protection request (else None: the
    message goes on to the bot as usual)."""
    norm = normalise(text)
    if not norm or len(norm) > 200 or text.lstrip().startswith("/"):
        return None  # long stories and button payloads are not requests of this kind
    if _ERASE_NEGATED.search(norm):
        return None
    if _ERASE.search(norm):
        return PrivacyRequest.erase
    if _ACCESS_ALONE.match(norm):
        return PrivacyRequest.access
    if _ACCESS.search(norm) and _ACCESS_CUE.search(norm) and not _EDIT.search(norm):
        return PrivacyRequest.access
    return None
