"""Typo- and abbreviation-tolerant lookup of a specialty or city in free text (pure).

The NLU model (DIET) extracts specialty and city; when it finds none, the actions fall
back to `find_specialty(text)` / `find_city(text)`, which read the message against the
catalogue of `booking/catalog.py`:

1. normalise chat shorthand word by word ("dktr" -> "dokter", "dlm" -> "dalam", "n"/"&"
   -> "dan", "anak2" -> "anak") and English plurals ("pediatricians" -> "pediatrician");
2. exact phrases, longest first ("dokter penyakit dalam", "kulit dan kelamin", "sby");
3. consonant skeletons for vowel-less abbreviations ("mksr" = Makassar, "plmbg" no);
4. rapidfuzz similarity of 1-3 word spans against every catalogue form, above a
   threshold chosen on generated typos vs the ordinary words of the training data
   (`python -m booking.fuzzy` prints that evaluation; figures in docs/nlu.md).

Words that carry dates and times ("malam", "besok", "depan"...) and common chat words are
never fuzzy-matched: "malam" is not Malang.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process

from booking.catalog import CITIES, SPECIALTIES, city_name, specialty_code

# Score (0-100, rapidfuzz.fuzz.ratio) a span must reach; the evaluation in main() chose it.
THRESHOLD = 84.0
LONG_SPAN, LONG_SLACK = 10, 4.0  # spans of 10+ characters match from THRESHOLD - 4
MIN_FUZZY_LEN = 4  # shorter spans only match exactly ("tht", "ent", "sby")

SHORTHAND: dict[str, str] = {
    "dktr": "dokter", "dkt": "dokter", "dok": "dokter", "dokte": "dokter", "doktor": "dokter",
    "dr": "dokter", "dr.": "dokter", "dokternya": "dokter", "drgigi": "dokter gigi",
    "dlm": "dalam", "dalem": "dalam", "pnyakit": "penyakit", "peny": "penyakit",
    "n": "dan", "&": "dan", "dn": "dan", "anak2": "anak", "anak-anak": "anak",
    "sp": "spesialis", "spesialist": "spesialis", "specialist": "spesialis",
    "kelamn": "kelamin", "klit": "kulit", "ggi": "gigi", "gigy": "gigi", "gig": "gigi",
    "obgin": "obgyn", "obsgin": "obgyn", "jiwa": "kejiwaan", "mta": "mata", "thtkl": "tht",
    "jantng": "jantung", "kandungn": "kandungan", "kndungan": "kandungan",
    "yogya": "yogyakarta", "jogja": "yogyakarta", "sbya": "surabaya", "sby": "surabaya",
    "jkt": "jakarta", "jkrt": "jakarta", "bdg": "bandung", "bndung": "bandung",
    "mksr": "makassar", "mks": "makassar", "mksar": "makassar", "smrg": "semarang",
}
# Never fuzzy-matched: time words (dates.py) and frequent chat words near catalogue forms.
STOP = frozenset("""
malam malem pagi siang sore besok lusa depan nanti minggu senin selasa rabu kamis jumat sabtu
hari tanggal jam pukul bulan pekan tahun morning afternoon evening night tomorrow today week
monday tuesday wednesday thursday friday saturday sunday next this
mau ingin pengen booking book buat bikin cari carikan ada bisa dong yang untuk dengan saya
aku anakku ibu bapak kak min admin tolong please want need find see the and for with
dokter doctor spesialis klinik jadwal janji periksa kontrol appointment schedule available
dimana mana kota daerah sekitar dekat near in at on di ke dari jadi aja saja ya iya oke
batal batalkan ganti pindah cancel move reschedule lagi juga terus sama kalau biar gimana
berapa kapan siapa apa halo hai hello terima kasih makasih thanks bayar bpjs harga biaya
spot slot free time sakit ulang balik that thats this mksh makasih kesehatan kali sekali baru
kota menu sekarang skrg kemarin kemaren barusan sebentar
""".split())
# "untuk anak saya", "for my son": who the visit is for, not a specialty
_FOR_WHOM = re.compile(r"\b(untuk|buat|utk|for|bwt)\s+(anak|anakku|my (son|daughter|child|kid))"
                       r"(\s+(saya|sy|aku|ku|gw|gue))?\b|\banak\s*(saya|sy|aku|ku|gw|gue)\b|"
                       r"\banakku\b|\bmy (son|daughter|child|kid)\b", re.I)


_PREFIX = re.compile(r"^((dokter|doctor|spesialis|poli|klinik|kota|city)\s+)+")


def _skeleton(word: str) -> str:
    """Consonants only, repeats collapsed: 'makassar' -> 'mksr'."""
    out = re.sub(r"[aeiou\W\d_]", "", word.lower())
    return re.sub(r"(.)\1+", r"\1", out)


def _tokens(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9&.+-]+", text.lower())
    out: list[str] = []
    for word in words:
        word = word.strip(".-")
        if not word:
            continue
        word = re.sub(r"^(.+?)2$", r"\1", word) if word.endswith("2") and len(word) > 3 else word
        out.extend(SHORTHAND.get(word, word).split())
    return out


def _spans(tokens: list[str], longest: int = 4) -> Iterable[tuple[int, int, str]]:
    for size in range(min(longest, len(tokens)), 0, -1):
        for i in range(len(tokens) - size + 1):
            yield i, i + size, " ".join(tokens[i:i + size])


def _singular(span: str) -> str | None:
    if span.endswith("ies"):
        return span[:-3] + "y"
    if span.endswith("s") and not span.endswith("ss"):
        return span[:-1]
    return None


def _forms(table: dict[str, list[str]]) -> dict[str, str]:
    return {form: value for value, forms in table.items() for form in forms}


def _specialty_table() -> dict[str, list[str]]:
    return {s.code: sorted({f.lower() for f in (s.code.replace("_", " "), s.name_id,
                                                 s.name_en, *s.synonyms)})
            for s in SPECIALTIES}


def _city_table() -> dict[str, list[str]]:
    return {c.name: sorted({f.lower() for f in (c.name, *c.aliases)}) for c in CITIES}


_SPEC_FORMS = _forms(_specialty_table())
_CITY_FORMS = _forms(_city_table())


def _skeletons(forms: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    clash: set[str] = set()
    for form, value in forms.items():
        if " " in form or len(form) < 5:
            continue
        key = _skeleton(form)
        if len(key) < 3:
            continue
        if out.setdefault(key, value) != value:
            clash.add(key)
    return {k: v for k, v in out.items() if k not in clash}


_SPEC_SKELETONS = _skeletons(_SPEC_FORMS)
_CITY_SKELETONS = _skeletons(_CITY_FORMS)


def _lookup(text: str, resolve: Callable[[str | None], str | None], forms: dict[str, str],
            skeletons: dict[str, str], threshold: float) -> str | None:
    """`resolve` is the catalogue's own exact resolver (code, name, synonym, prefixes)."""
    tokens = _tokens(text)
    spans = list(_spans(tokens))
    for _, _, span in spans:  # exact, longest first
        for candidate in (span, _singular(span)):
            if candidate and candidate not in STOP:
                found = resolve(candidate)
                if found:
                    return str(found)
    for _, _, span in spans:  # vowel-less abbreviations
        if " " not in span and len(span) >= 3 and not re.search(r"[aeiou]{1}.*[aeiou]", span) \
                and span not in STOP and span in skeletons.keys():
            return skeletons[span]
    best: tuple[float, str] | None = None
    for _, _, span in spans:
        span = _PREFIX.sub("", span)  # "dokter gigy" is compared as "gigy"
        if len(span) < MIN_FUZZY_LEN or not span or span.split()[0] in STOP \
                or span.split()[-1] in STOP:
            continue
        # two edits in a long word ("pediatrition") score ~83: long spans get some slack
        cutoff = threshold - LONG_SLACK if len(span) >= LONG_SPAN else threshold
        hit = process.extractOne(span, forms.keys(), scorer=fuzz.ratio, score_cutoff=cutoff)
        if hit is not None and (best is None or hit[1] > best[0]):
            best = (hit[1], forms[hit[0]])
    return best[1] if best else None


def find_specialty(text: str | None, threshold: float = THRESHOLD) -> str | None:
    """The specialty code the text names, typos and shorthand allowed; None if none."""
    if not text:
        return None
    return _lookup(_FOR_WHOM.sub(" ", text), specialty_code, _SPEC_FORMS, _SPEC_SKELETONS,
                   threshold)


def find_city(text: str | None, threshold: float = THRESHOLD) -> str | None:
    """The canonical city the text names, typos and shorthand allowed; None if none."""
    if not text:
        return None
    return _lookup(text, city_name, _CITY_FORMS, _CITY_SKELETONS, threshold)


# ---- choosing the threshold (python -m booking.fuzzy) ---------------------------------
def _typos(form: str) -> list[str]:
    """Deterministic one-edit typos: a dropped, doubled or swapped letter."""
    out: list[str] = []
    for i in range(1, len(form) - 1):
        if form[i] == " " or form[i - 1] == " " or form[i + 1] == " ":
            continue
        out += [form[:i] + form[i + 1:], form[:i] + form[i] + form[i:],
                form[:i] + form[i + 1] + form[i] + form[i + 2:]]
    return sorted(set(out) - {form})


def _ordinary_texts() -> list[str]:
    """Training messages with their entity annotations removed: what must not match."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent / "nlu"
    texts: list[str] = []
    for path in sorted(root.glob("*.yml")):
        if path.name == "generated_entities.yml":
            continue
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip().removeprefix("- ")
                if "](" in line or "]{" in line:
                    line = re.sub(r"\[[^\]]*\](\([^)]*\)|\{[^}]*\})", " ", line)
                texts.append(line)
    return texts


def evaluate(thresholds: Iterable[float] = (70, 75, 80, 84, 88, 92)) -> list[str]:
    rows = ["| threshold | one-edit typos found | fuzzy-only hits on other training text |",
            "|---|---|---|"]
    cases = [(t, v, find_specialty) for v, fs in _specialty_table().items() for f in fs
             if len(f) >= 5 for t in _typos(f)]
    cases += [(t, v, find_city) for v, fs in _city_table().items() for f in fs
              if len(f) >= 5 for t in _typos(f)]
    ordinary = _ordinary_texts()
    for th in thresholds:
        hit = sum(1 for t, v, fn in cases if fn(f"mau ke {t} besok", th) == v)
        false = sum(1 for t in ordinary  # found only thanks to the fuzziness
                    if (find_specialty(t, th) and not find_specialty(t, 100))
                    or (find_city(t, th) and not find_city(t, 100)))
        rows.append(f"| {th:g} | {hit}/{len(cases)} = {hit / len(cases):.3f} | "
                    f"{false}/{len(ordinary)} |")
    return rows


if __name__ == "__main__":
    print("\n".join(evaluate()))
