"""Pure parts of NLU retraining, table-driven: masking, normalisation and grouping,
selection of messages, annotations, merge checks, the promotion rule, the report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from bot.retrain.evaluation import (
    Evaluation,
    Rule,
    Score,
    compare,
    confusion_changes,
    parse_results,
)
from bot.retrain.merge import DomainInfo, check_examples
from bot.retrain.nlu_yaml import AnnotationError, parse_example, render_block, render_file
from bot.retrain.pii import PiiContext, mask
from bot.retrain.report import RunInfo, render
from bot.retrain.review import ReviewOptions, build_review, select_candidates
from bot.retrain.routes import BadQuery, review_query
from bot.retrain.similarity import canonical, group_near_duplicates, normalise, similarity

CTX = PiiContext.build(["Budi Santoso", "Rina"], ["dr. Sari Wijaya"], ["K7M-4QX", "ACD-EFG"])


@pytest.mark.parametrize(("text", "masked"), [
    ("nama saya budi santoso, mau booking", "nama saya <NAME>, mau booking"),
    ("nama saya andi pratama dan mau booking", "nama saya <NAME> dan mau booking"),
    ("Saya Rina mau ke dr Sari", "Saya <NAME> mau ke dr Sari"),
    ("saya mau booking", "saya mau booking"),
    ("my name is John Smith and I want a doctor", "my name is <NAME> and I want a doctor"),
    ("I am sick", "I am sick"),
    ("atas nama Ibu Ani Lestari ya kak", "atas nama Ibu <NAME> ya kak"),
    ("hubungi 0812-3456-7890 atau budi@mail.com", "hubungi <PHONE> atau <EMAIL>"),
    ("nomor wa saya +62 812 3456 789", "nomor wa saya <PHONE>"),
    ("no bpjs 123456789012", "no bpjs <NUMBER>"),
    ("kode booking k7m4qx batal", "kode booking <REF> batal"),
    ("batalkan K7M 4QX", "batalkan <REF>"),
    ("acd efg batalkan", "<REF> batalkan"),          # letters only: known ref
    ("cek ada jadwal", "cek ada jadwal"),            # ref-shaped words stay
    ("jam 4pm bisa", "jam 4pm bisa"),
    ("tgl 12-12-2026 jam 10.30", "tgl 12-12-2026 jam 10.30"),
    ("[budi](doctor_name) di [jakarta](city)", "[<NAME>](doctor_name) di [jakarta](city)"),
    ("mau ke dr Sari Wijaya", "mau ke dr Sari Wijaya"),   # doctors' names are entities
    ("RINA mau booking", "<NAME> mau booking"),
    ("Saya Dokter Gigi mau tanya", "Saya Dokter Gigi mau tanya"),
    ("ini Andi, mau booking", "ini <NAME>, mau booking"),
])
def test_mask(text: str, masked: str) -> None:
    assert mask(text, CTX) == masked


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Haloooo  kak!!", "halo kak", True),
    ("gak bisa datang", "nggak bisa datang", True),
    ("Mau booking, dok!", "mau booking dok", True),
    ("batal", "booking", False),
])
def test_normalise(a: str, b: str, same: bool) -> None:
    assert (normalise(a) == normalise(b)) is same


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("Mau booking, dok!", "mau booking dok", "mau booking dok"),
    ("aku mau", "saya mau", None),          # canonical keeps words apart
])
def test_canonical(a: str, b: str, expected: str | None) -> None:
    assert (canonical(a) == canonical(b)) is (expected is not None)
    if expected:
        assert canonical(a) == expected


def test_similarity_and_grouping() -> None:
    assert similarity("cancel my booking please", "cancel my booking pls") >= 0.8
    assert similarity("cancel my booking", "thank you doctor") < 0.5
    texts = ["cancel my booking please", "thanks", "Cancel my booking pls", "thanks!",
             "thanks", "book a doctor"]
    groups = group_near_duplicates(texts, lambda t: t, 0.8)
    assert groups == [["thanks", "thanks!", "thanks"],
                      ["cancel my booking please", "Cancel my booking pls"], ["book a doctor"]]


T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def msg(wa: str, text: str, minute: float, intent: str = "book", conf: float = 0.95,
        **kw: Any) -> dict[str, Any]:
    return {"wa_id": wa, "direction": "in", "text": text, "type": "text", "intent": intent,
            "confidence": conf, "entities": [], "at": T0 + timedelta(minutes=minute),
            "fallback": False, "handoff": False, **kw}


def test_select_candidates_reasons() -> None:
    logs = [
        msg("a", "halo", 0, "greet", 0.99),                                  # fine
        msg("a", "mau ke dokter gigi", 60, "nlu_fallback", 0.3, fallback=True),
        msg("b", "bsk bs ga", 0, "affirm", 0.55),                           # low
        msg("c", "mw periksa gigi", 0, "greet", 0.7),                       # rephrased
        msg("c", "mau periksa gigi", 1, "book", 0.97),
        msg("d", "dokternya galak", 0, "out_of_scope", 0.9),                # before handoff
        msg("d", "saya mau komplain", 3, "out_of_scope", 0.9, handoff=True),
        msg("e", "mau bicara dengan admin", 0, "human_handoff", 0.98, handoff=True),
        {**msg("f", "Baik kak", 0, None, None), "direction": "out"},
        msg("g", "/inform{\"choice\":\"x\"}", 0, "inform", 0.1),
        msg("h", "pilih", 0, "inform", 0.1, type="button"),
        msg("i", "halo lagi", 0, "greet", 0.7),                             # next too late
        msg("i", "mau booking", 10, "book", 0.97),
        msg("j", "rasa was down", 0, None, None),                          # never scored
    ]
    got = {c.text: sorted(c.reasons) for c in select_candidates(logs, ReviewOptions())}
    assert got == {
        "mau ke dokter gigi": ["fallback", "low_confidence"],
        "bsk bs ga": ["low_confidence"],
        "mw periksa gigi": ["rephrased"],
        "dokternya galak": ["handoff"],
        "saya mau komplain": ["handoff"],
    }


def test_build_review_yaml() -> None:
    logs = [msg(f"62812{i}", t, i, intent, conf) for i, (t, intent, conf) in enumerate([
        ("cancel my booking please", "greet", 0.4), ("cancel my booking pls", "greet", 0.35),
        ("nama saya Budi, book dokter di jakarta", "book", 0.5),
        ("wa saya 081234567890", "nlu_fallback", 0.2)])]
    start = logs[2]["text"].index("jakarta")
    logs[2]["entities"] = [{"entity": "city", "start": start, "end": start + 7,
                            "value": "jakarta"}]
    review = build_review(logs, CTX, ReviewOptions(), now=T0)
    data = yaml.safe_load(review.yaml)
    blocks = [(b["intent"], b["examples"].strip()) for b in data["nlu"]]
    assert blocks == [("greet", "- cancel my booking please"),
                      ("book", "- nama saya <NAME>, book dokter di [jakarta](city)"),
                      ("nlu_fallback", "- wa saya <PHONE>")]
    assert "# variant: cancel my booking pls" in review.yaml
    assert "# predicted greet confidence 0.35-0.40; 2 message(s) from 2 sender(s)" \
        in review.yaml
    assert "Budi" not in review.yaml and "0812" not in review.yaml
    assert review.summary()["by_intent"] == {"greet": 2, "book": 1, "nlu_fallback": 1}


@pytest.mark.parametrize(("raw", "text", "entities"), [
    ("mau ke [dokter gigi](specialty)", "mau ke dokter gigi", [("specialty", 7, 18, None)]),
    ("[jkt](city:jakarta) ya", "jkt ya", [("city", 0, 3, "jakarta")]),
    ('[x]{"entity": "city", "value": "y"} ok', "x ok", [("city", 0, 1, "y")]),
    ("tanpa anotasi", "tanpa anotasi", []),
])
def test_parse_example(raw: str, text: str, entities: list[tuple[Any, ...]]) -> None:
    ex = parse_example(raw)
    assert ex.text == text
    assert [(e.entity, e.start, e.end, e.value) for e in ex.entities] == entities


@pytest.mark.parametrize("raw", [
    "[x] (city)", "[ x](city)", "bad [x(city)", "[](city)", "[x](ci ty)", "x](city)",
    '[x]{"value": "y"}', "[x]{not json}", "[x](city:)", "",
])
def test_parse_example_malformed(raw: str) -> None:
    with pytest.raises(AnnotationError):
        parse_example(raw)


DOMAIN = DomainInfo(frozenset({"greet", "book", "cancel", "faq"}), frozenset({"city"}),
                    frozenset({"faq/ask_price"}))
EXISTING = {"greet": ["halo", "hai"], "book": ["booking dokter di [jakarta](city)"],
            "faq/ask_price": ["berapa biayanya"]}


@pytest.mark.parametrize(("intent", "raw", "reason"), [
    ("book", "mau booking dong", "ok"),
    ("book", "book a doctor in [medan](city)", "ok"),
    ("faq/ask_price", "harganya berapa kak", "ok"),
    ("nlu_fallback", "apa ini", "unknown intent 'nlu_fallback' (label it with a domain "
                                "intent or delete it)"),
    ("faq", "harga konsultasi", "'faq' is a retrieval intent: use faq/<response>"),
    ("faq/ask_time", "jam buka", "unknown retrieval intent 'faq/ask_time' "
                                 "(no response utter_faq/ask_time)"),
    ("book", "di [medan](kota)", "unknown entity 'kota'"),
    ("book", "di [medan] (city)", "malformed annotation: stray '[' (annotation must be "
                                  "[text](entity))"),
    ("greet", "Halo!", "already present in the training data"),
    ("cancel", "booking dokter di jakarta", "conflicts with an existing example under book"),
    ("cancel", "held out text", "in the frozen held-out test set (never train on it)"),
])
def test_check_examples_one(intent: str, raw: str, reason: str) -> None:
    [decision] = check_examples([(intent, raw)], DOMAIN, EXISTING, ["held out [text](city)"])
    assert decision.reason == reason
    assert decision.accepted is (reason == "ok")


def test_check_examples_within_file() -> None:
    decisions = check_examples([("book", "mau daftar"), ("cancel", "mau daftar!"),
                                ("greet", "pagi"), ("greet", "Pagi"), ("book", "besok")],
                               DOMAIN, EXISTING)
    assert [(d.example, d.reason) for d in decisions] == [
        ("mau daftar", "conflicts with the same text under cancel in this file"),
        ("mau daftar!", "conflicts with the same text under book in this file"),
        ("pagi", "ok"), ("Pagi", "duplicate in this file"), ("besok", "ok")]


def ev(macro: float, per: dict[str, tuple[float, int]], entity: float | None = 0.9,
       confusions: dict[str, int] | None = None) -> Evaluation:
    return Evaluation(macro, macro, {k: Score(f, f, f, n) for k, (f, n) in per.items()},
                      entity, {}, confusions or {}, sum(n for _, n in per.values()))


BASE = ev(0.80, {"book": (0.8, 10), "cancel": (0.8, 10), "rare": (0.8, 2)})


@pytest.mark.parametrize(("after", "promote", "why"), [
    (ev(0.85, {"book": (0.9, 10), "cancel": (0.8, 10), "rare": (0.85, 2)}), True, ""),
    (ev(0.795, {"book": (0.79, 10), "cancel": (0.8, 10), "rare": (0.8, 2)}), True, ""),
    (ev(0.78, {"book": (0.76, 10), "cancel": (0.8, 10), "rare": (0.78, 2)}), False,
     "intent macro-F1 0.800 -> 0.780"),
    (ev(0.85, {"book": (0.95, 10), "cancel": (0.65, 10), "rare": (0.95, 2)}), False,
     "intent cancel F1 0.800 -> 0.650"),
    (ev(0.82, {"book": (0.85, 10), "cancel": (0.8, 10), "rare": (0.2, 2)}), True, ""),
    (ev(0.85, {"book": (0.9, 10), "cancel": (0.8, 10)}, entity=0.85), False,
     "entity F1 0.900 -> 0.850"),
    (ev(0.85, {"book": (0.9, 10), "cancel": (0.8, 10)}, entity=None), False,
     "entity F1 0.900 -> 0.000"),
])
def test_compare_rule(after: Evaluation, promote: bool, why: str) -> None:
    verdict = compare(BASE, after, Rule(tolerance=0.01, entity_tolerance=0.01,
                                        sharp_drop=0.10, min_support=3))
    assert verdict.promote is promote
    assert (why in verdict.reasons[0]) if why else verdict.reasons == ()


def test_compare_without_current_model_promotes() -> None:
    assert compare(None, BASE).promote is True


def test_parse_results_and_confusions() -> None:
    intents = {"book": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 2},
               "greet": {"precision": 0.5, "recall": 1.0, "f1-score": 0.667, "support": 1},
               "accuracy": 0.667, "macro avg": {"f1-score": 0.667, "support": 3}}
    errors = [{"text": "x", "intent": "book", "intent_prediction": {"name": "greet"}}]
    result = parse_results(intents, None, errors, {"city": 2})
    assert result.intent_macro_f1 == 0.667 and result.examples == 3
    assert result.entity_f1 == 0.0 and result.per_entity["city"].support == 2
    assert result.confusions == {"book -> greet": 1}
    assert Evaluation.from_json(result.to_json()) == result
    entity = {"city": {"precision": 1, "recall": 0.5, "f1-score": 0.667, "support": 2},
              "micro avg": {"f1-score": 0.667}}
    assert parse_results(intents, entity, []).entity_f1 == 0.667
    after = ev(0.9, {}, confusions={"book -> greet": 0, "cancel -> book": 2})
    before = ev(0.8, {}, confusions={"book -> greet": 3})
    assert [(c.pair, c.before, c.after) for c in confusion_changes(before, after)] == [
        ("book -> greet", 3, 0), ("cancel -> book", 0, 2)]


def test_report_markdown() -> None:
    after = ev(0.85, {"book": (0.9, 10), "cancel": (0.8, 10)}, confusions={"x -> y": 1})
    verdict = compare(BASE, after)
    info = RunInfo("2026-11-20 08:00 UTC", "candidate-1.tar.gz", "current.tar.gz",
                   "tests/t.yml", "ab" * 32, "promoted", 12.0)
    md = render(info, BASE, after, verdict, Rule())
    assert md.startswith("# NLU retraining 2026-11-20 08:00 UTC: promoted")
    assert "| book | 10 | 0.800 | 0.800 | 0.800 | 0.900 | 0.900 | 0.900 | **+0.100** |" in md
    assert "| rare | 2 | 0.800 | 0.800 | 0.800 | – | – | – | – |" in md
    assert "| x -> y | 0 | 1 |" in md


def test_render_file_roundtrip() -> None:
    text = render_file([render_block("book", ["mau  booking\ndong"], ["a comment"])],
                       ["header"])
    assert text.startswith("# header\nversion: \"3.1\"\nnlu:\n# a comment\n- intent: book")
    assert yaml.safe_load(text)["nlu"][0]["examples"] == "- mau booking dong\n"


NOW = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(("params", "expected"), [
    ({}, (NOW - timedelta(days=7), NOW, 0.6)),
    ({"days": "1", "threshold": "0.8"}, (NOW - timedelta(days=1), NOW, 0.8)),
    ({"since": "2026-11-01", "until": "2026-11-02"},
     (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC), 0.6)),
    ({"days": "0"}, "days must be between"), ({"days": "x"}, "days must be an integer"),
    ({"threshold": "2"}, "threshold must be between"),
    ({"since": "2026-11-05", "until": "2026-11-02"}, "since must be before until"),
    ({"since": "yesterday"}, "since must be an ISO"),
])
def test_review_query(params: dict[str, str], expected: Any) -> None:
    if isinstance(expected, str):
        with pytest.raises(BadQuery, match=expected):
            review_query(params, NOW)
    else:
        since, until, opts = review_query(params, NOW)
        assert (since, until, opts.low_confidence) == expected


def test_group_takes_the_majority_prediction() -> None:
    logs = [msg("1", "cancel my booking please", 0, "greet", 0.4),
            msg("2", "cancel my booking pls", 1, "cancel", 0.5),
            msg("3", "cancel my booking plz", 2, "cancel", 0.45)]
    review = build_review(logs, CTX, ReviewOptions(), now=T0)
    [group] = review.groups
    assert (group.intent, group.example, group.count) == ("cancel", "cancel my booking pls", 3)
    assert group.variants == ["cancel my booking please", "cancel my booking plz"]
    assert "# also predicted: greet x1" in review.yaml
    assert "# predicted cancel confidence 0.45-0.50; 3 message(s) from 3 sender(s)" \
        in review.yaml
