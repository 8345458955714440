"""A tiny Rasa assistant for the retraining tests: four intents, one entity, a fast
pipeline (count vectors + logistic regression + CRF), fixed seeds; trains in seconds.

The training data is Indonesian only; the frozen held-out test set is mostly English,
which the base model gets wrong: real English messages from the logs, labelled, fix it.
"""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
recipe: default.v1
assistant_id: tiny-retrain
language: id
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 2
    max_ngram: 4
  - name: LogisticRegressionClassifier
    random_state: 42
  - name: CRFEntityExtractor
  - name: FallbackClassifier
    threshold: 0.2
policies:
  - name: RulePolicy
"""

DOMAIN = """\
version: "3.1"
intents:
  - greet
  - book
  - cancel
  - thank
entities:
  - city
"""

BASE_NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - halo
    - hai
    - selamat pagi
    - selamat siang
    - selamat sore
    - halo kak
    - permisi
    - assalamualaikum
- intent: book
  examples: |
    - saya mau booking dokter
    - mau buat janji dengan dokter
    - daftar periksa ke dokter
    - pesan jadwal dokter di [jakarta](city)
    - booking dokter di [bandung](city)
    - saya ingin membuat janji temu
    - tolong daftarkan saya periksa
    - jadwalkan konsultasi dokter di [surabaya](city)
- intent: cancel
  examples: |
    - batalkan janji saya
    - saya mau membatalkan booking
    - tolong batalkan jadwal
    - batal periksa
    - jadwal saya dibatalkan saja
    - tidak jadi datang, batalkan
    - hapus booking saya
    - batalkan konsultasi di [jakarta](city)
- intent: thank
  examples: |
    - terima kasih
    - makasih banyak
    - terima kasih dok
    - makasih kak
    - trims
    - terima kasih atas bantuannya
    - makasih ya
    - terimakasih
"""

TEST_SET = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello there
    - hi
    - good morning
    - hey
    - halo selamat malam
- intent: book
  examples: |
    - i want to book a doctor
    - book an appointment in [bandung](city)
    - schedule a visit with a doctor
    - can i make an appointment
    - mau booking dokter di [medan](city)
- intent: cancel
  examples: |
    - cancel my appointment
    - please cancel my booking
    - i can't come, cancel it
    - cancel the visit in [surabaya](city)
    - batalkan booking saya ya
- intent: thank
  examples: |
    - thanks a lot
    - thank you
    - thanks doc
    - many thanks
    - terima kasih banyak
"""

# Patient messages as the gateway logged them (the good batch): English phrasings, some
# near-duplicates, PII, and Indonesian messages the model already knows.
GOOD_BATCH = [
    "i would like to book an appointment", "book a doctor please",
    "i need an appointment with a doctor", "can you book me a visit in medan",
    "my name is Budi Santoso, book a doctor for me",
    "cancel my booking please", "cancel my booking pls", "i want to cancel the appointment",
    "please cancel my visit", "call me at 081234567890 to cancel my appointment",
    "hello", "hi there", "good afternoon", "hey there",
    "thank you so much", "thanks", "thank you doctor", "thanks for the help",
    "halo", "terima kasih",
]
# The deliberately bad batch: new English phrasings, all labelled greet by a careless admin.
BAD_BATCH = [
    "book an appointment for me", "i wanna book a doctor", "make a booking for me",
    "book a visit for tomorrow", "i need to book a doctor", "booking for my son please",
    "cancel it please", "cancel my visit tomorrow", "i wish to cancel", "cancel booking",
    "please cancel the appointment", "cancel everything",
    "thank you very much", "many thanks to you", "thanks a bunch", "thank you all",
]


def write_project(root: Path) -> Path:
    (root / "nlu").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "config.yml").write_text(CONFIG)
    (root / "domain.yml").write_text(DOMAIN)
    (root / "nlu" / "base.yml").write_text(BASE_NLU)
    (root / "tests" / "nlu_test_set.yml").write_text(TEST_SET)
    return root

CITIES = ("jakarta", "bandung", "surabaya", "medan")
_KEYWORDS = (("cancel", ("cancel", "batal")),
             ("book", ("book", "appointment", "visit", "janji", "daftar")),
             ("thank", ("thank", "terima kasih", "makasih", "trims")),
             ("greet", ("hello", "hi", "hey", "good", "halo", "hai", "selamat")))


def label_well(text: str) -> str:
    """The scripted careful admin: keyword rules that are right for these messages."""
    low = text.lower()
    for intent, words in _KEYWORDS:
        if any(w in low.split() or (" " in w and w in low) or low.startswith(w) for w in words):
            return intent
    return "nlu_fallback"


def label_badly(text: str) -> str:
    """The scripted careless admin: everything is a greeting."""
    return "greet"


def annotate_cities(text: str) -> str:
    words = []
    for word in text.split(" "):
        words.append(f"[{word}](city)" if word.lower() in CITIES else word)
    return " ".join(words)
