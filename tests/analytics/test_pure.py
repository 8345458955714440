"""Pure parts: query validation, nearest-rank, weekly roll-up, weekday mapping, reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from analytics import shaping
from analytics.metrics import METRICS, nearest_rank, rate
from analytics.query import AnalyticsQuery


@pytest.mark.parametrize(("n", "p", "index"), [
    (1, 0.5, 0), (2, 0.5, 0), (3, 0.5, 1), (4, 0.5, 1), (5, 0.5, 2), (7, 0.5, 3),
    (5, 0.95, 4), (20, 0.95, 18), (100, 0.95, 94), (1, 0.95, 0)])
def test_nearest_rank(n: int, p: float, index: int) -> None:
    assert nearest_rank(n, p) == index


def test_nearest_rank_refuses_empty() -> None:
    with pytest.raises(ValueError):
        nearest_rank(0, 0.5)


def test_rate_rounds_and_handles_zero() -> None:
    assert rate(1, 3) == 0.3333 and rate(2, 3) == 0.6667 and rate(0, 0) is None


def test_metric_names_unique_and_descriptions_one_line() -> None:
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert all("\n" not in m.description and len(m.description) < 120 for m in METRICS)


def test_query_defaults_to_last_30_days_and_converts_bounds() -> None:
    q = AnalyticsQuery.from_params({}, today=date(2026, 12, 13))
    assert (q.date_from, q.date_to, q.tz) == (date(2026, 11, 14), date(2026, 12, 13),
                                              "Asia/Jakarta")
    assert len(q.days()) == 30
    q2 = AnalyticsQuery.from_params({"from": "2026-12-07", "to": "2026-12-07",
                                     "tz": "Asia/Jayapura"}, today=date(2026, 12, 13))
    assert q2.utc_start == datetime(2026, 12, 6, 15, tzinfo=UTC)
    assert q2.utc_end == datetime(2026, 12, 7, 15, tzinfo=UTC)


@pytest.mark.parametrize("params", [
    {"from": "2026-12-08", "to": "2026-12-07"},                       # reversed
    {"from": "2025-01-01", "to": "2026-12-07"},                       # too long
    {"tz": "Mars/Olympus"},
    {"city": {"$ne": None}},                                          # operator injection
    {"doctor_id": "a\"b$"},
    {"unknown": "x"},
    {"from": "yesterday"},
])
def test_query_rejects_bad_input(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AnalyticsQuery.from_params(params, today=date(2026, 12, 13))  # type: ignore[arg-type]


def test_cache_key_depends_on_every_field() -> None:
    base = AnalyticsQuery.from_params({"from": "2026-12-01", "to": "2026-12-07"},
                                      today=date(2026, 12, 13))
    keys = {base.cache_key(),
            base.model_copy(update={"tz": "Asia/Makassar"}).cache_key(),
            base.model_copy(update={"city": "Jakarta"}).cache_key(),
            base.model_copy(update={"specialty": "general"}).cache_key(),
            base.model_copy(update={"doctor_id": "dA"}).cache_key(),
            base.model_copy(update={"date_to": date(2026, 12, 8)}).cache_key()}
    assert len(keys) == 6


def test_weekly_rollup_splits_at_iso_weeks() -> None:
    days = [date(2026, 12, 5), date(2026, 12, 6), date(2026, 12, 7), date(2026, 12, 8)]
    daily = {"days": [d.isoformat() for d in days], "total": 10,
             "series": {"whatsapp": [1, 2, 3, 4], "web": [0, 0, 0, 0]}}
    assert shaping.weekly_from_daily(daily) == {
        "weeks": ["2026-W49", "2026-W50"], "total": 10,
        "series": {"whatsapp": [3, 7], "web": [0, 0]}}


def test_iso_week_across_new_year() -> None:
    assert shaping.iso_week(date(2026, 12, 31)) == "2026-W53"
    assert shaping.iso_week(date(2027, 1, 4)) == "2027-W01"


def test_weekday_mapping_from_mongo_day_of_week() -> None:
    rows = [{"_id": 1, "n": 5}, {"_id": 2, "n": 1}, {"_id": 7, "n": 3}]   # Sun, Mon, Sat
    out = shaping.weekdays(rows)
    assert [d["appointments"] for d in out] == [1, 0, 0, 0, 0, 3, 5]
    assert out[6]["name"] == "Sunday"


def test_daily_series_keeps_unknown_sources_and_zero_days() -> None:
    days = [date(2026, 12, 7), date(2026, 12, 8)]
    rows = [{"_id": {"y": 2026, "m": 12, "d": 8, "source": "kiosk"}, "n": 2},
            {"_id": {"y": 2026, "m": 12, "d": 9, "source": "web"}, "n": 5}]   # outside
    out = shaping.daily_by_source(rows, days)
    assert out["series"]["kiosk"] == [0, 2] and out["series"]["web"] == [0, 0]
    assert out["total"] == 2


def test_reminders_fold_sending_into_pending() -> None:
    out = shaping.reminders({"sending": 2, "pending": 1, "dead": 4})
    assert out["pending"] == 3 and out["dead"] == 4 and out["total"] == 7


def test_response_time_from_histogram_equals_sorting_every_value() -> None:
    import random
    rng = random.Random(7)
    values = [float(int(rng.lognormvariate(6.5, 0.6))) for _ in range(997)]
    counts: dict[float, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    histogram = [{"_id": v, "n": n} for v, n in counts.items()]   # unordered, as $group
    ordered = sorted(values)
    assert shaping.response_time(histogram) == {
        "replies": 997, "p50_ms": ordered[nearest_rank(997, 0.5)],
        "p95_ms": ordered[nearest_rank(997, 0.95)]}


def test_response_time_of_one_bucket_and_of_none() -> None:
    assert shaping.response_time([{"_id": 812.0, "n": 3}]) == {
        "replies": 3, "p50_ms": 812.0, "p95_ms": 812.0}
    assert shaping.response_time([]) == {"replies": 0, "p50_ms": None, "p95_ms": None}


def test_conversion_counts_senders_whose_user_booked() -> None:
    senders = [{"_id": "62811"}, {"_id": "62812"}, {"_id": "62813"}, {"_id": None}]
    patients = [{"_id": "u1"}, {"_id": "u3"}, {"_id": "u9"}]   # u9 booked without chatting
    wa_users = {"62811": "u1", "62812": "u2", "62899": "u3"}    # 62813 is not a user
    assert shaping.conversion(senders, patients, wa_users) == {
        "chatted": 3, "booked": 1, "rate": 0.3333}
    assert shaping.conversion([], patients, wa_users) == {
        "chatted": 0, "booked": 0, "rate": None}
