"""Every metric on the hand-built data set (conftest.py), worked out by hand."""

from __future__ import annotations

from typing import Any

from analytics.metrics import METRICS
from analytics.service import AnalyticsService
from tests.analytics.conftest import week_query

DAYS = [f"2026-12-{d:02d}" for d in range(7, 14)]


def values(result: dict[str, Any]) -> dict[str, Any]:
    return {name: m["value"] for name, m in result["metrics"].items()}


async def test_every_metric_is_defined_once_and_described(analytics: AnalyticsService) -> None:
    result = await analytics.compute(week_query())
    assert set(result["metrics"]) == {m.name for m in METRICS}
    assert set(result["definitions"]) == {m.name for m in METRICS}
    for m in METRICS:
        shown = result["metrics"][m.name]
        assert shown["description"] == m.description == result["definitions"][m.name][
            "description"]
        assert shown["title"] == m.title and m.description.endswith(".")


async def test_booking_volume_per_day_and_week(analytics: AnalyticsService) -> None:
    v = values(await analytics.compute(week_query()))
    # b1 b2 b9 on the 7th (b9 at 00:30 WIB is still the 6th in UTC), b3 on the 8th,
    # b4 on the 9th, b6 on the 12th, b8 on the 13th; b5 is a reschedule, b7/b10/b11 outside.
    assert v["bookings_per_day"] == {
        "days": DAYS,
        "series": {"whatsapp": [1, 1, 0, 0, 0, 0, 0], "web": [1, 0, 0, 0, 0, 0, 1],
                   "mobile": [0, 0, 0, 0, 0, 1, 0], "admin": [1, 0, 1, 0, 0, 0, 0]},
        "total": 7}
    assert v["bookings_per_week"] == {
        "weeks": ["2026-W50"], "total": 7,
        "series": {"whatsapp": [2], "web": [2], "mobile": [1], "admin": [2]}}


async def test_outcome_rates_overall_per_doctor_and_specialty(
        analytics: AnalyticsService) -> None:
    v = values(await analytics.compute(week_query()))
    # appointments: b1 b2 b3 b9 (dA), b5 b7 (dB), b10 (dC); b4 superseded, b6 b8 b11 outside
    assert v["cancellation_rate"]["appointments"] == 7
    assert v["cancellation_rate"]["cancelled"] == 2
    assert v["cancellation_rate"]["rate"] == 0.2857
    assert v["cancellation_rate"]["by_specialty"] == [
        {"specialty": "general", "appointments": 5, "cancelled": 2, "cancellation_rate": 0.4},
        {"specialty": "pediatrics", "appointments": 2, "cancelled": 0,
         "cancellation_rate": 0.0}]
    assert [(d["doctor_id"], d["cancellation_rate"]) for d in
            v["cancellation_rate"]["by_doctor"]] == [("dA", 0.25), ("dB", 0.0), ("dC", 1.0)]
    assert v["reschedule_rate"] == {"appointments": 7, "rescheduled": 1, "rate": 0.1429}
    assert v["no_show_rate"] == {"completed": 3, "no_show": 1, "rate": 0.25}
    assert v["per_doctor"] == [
        {"doctor_id": "dA", "name": "dr. Alpha", "specialty": "general", "city": "Jakarta",
         "appointments": 4, "cancelled": 1, "cancellation_rate": 0.25, "rescheduled": 0,
         "reschedule_rate": 0.0, "completed": 2, "no_show": 1, "no_show_rate": 0.3333},
        {"doctor_id": "dB", "name": "dr. Beta, Sp.A", "specialty": "pediatrics",
         "city": "Jakarta", "appointments": 2, "cancelled": 0, "cancellation_rate": 0.0,
         "rescheduled": 1, "reschedule_rate": 0.5, "completed": 1, "no_show": 0,
         "no_show_rate": 0.0},
        {"doctor_id": "dC", "name": "dr. Gamma", "specialty": "general", "city": "Makassar",
         "appointments": 1, "cancelled": 1, "cancellation_rate": 1.0, "rescheduled": 0,
         "reschedule_rate": 0.0, "completed": 0, "no_show": 0, "no_show_rate": None}]


async def test_lead_time_and_busiest_times(analytics: AnalyticsService) -> None:
    v = values(await analytics.compute(week_query()))
    # leads (h): b3 6, b9 8.5, b4 24, b1 25, b2 37, b6 57.5, b8 178 -> rank ceil(3.5) = 4th
    assert v["median_lead_time"] == {"bookings": 7, "hours": 25.0}
    # visits (not cancelled): b9 Mon 09, b1 Tue 10, b3 Tue 14, b5 Fri 11, b7 Sat 16
    assert [d["appointments"] for d in v["busiest_weekdays"]] == [1, 2, 0, 0, 1, 1, 0]
    assert v["busiest_weekdays"][0] == {"weekday": 0, "name": "Monday", "appointments": 1}
    hours = {h["hour"]: h["appointments"] for h in v["busiest_hours"] if h["appointments"]}
    assert hours == {9: 1, 10: 1, 11: 1, 14: 1, 16: 1}
    assert len(v["busiest_hours"]) == 24


async def test_chat_metrics(analytics: AnalyticsService) -> None:
    v = values(await analytics.compute(week_query()))
    assert v["messages_per_day"] == {
        "days": DAYS, "in": [2, 1, 2, 1, 0, 0, 1], "out": [2, 1, 2, 0, 0, 0, 1],
        "total_in": 7, "total_out": 6}
    # reply latencies 400 600 800 1200 2000 (m10 has none): p50 rank 3, p95 rank 5
    assert v["bot_response_time"] == {"replies": 5, "p50_ms": 800.0, "p95_ms": 2000.0}
    assert v["nlu_fallback_rate"] == {"inbound": 7, "fallback": 1, "rate": 0.1429}
    assert v["top_intents"] == [
        {"intent": "book_appointment", "count": 2, "share": 0.3333},
        {"intent": "cancel_booking", "count": 1, "share": 0.1667},
        {"intent": "greet", "count": 1, "share": 0.1667},
        {"intent": "inform", "count": 1, "share": 0.1667},
        {"intent": "nlu_fallback", "count": 1, "share": 0.1667}]
    # chatted: p1, p2, stranger; booked in range: p1 only (p2's b7 was booked earlier)
    assert v["conversion"] == {"chatted": 3, "booked": 1, "rate": 0.3333}


async def test_reminder_outcomes(analytics: AnalyticsService) -> None:
    v = values(await analytics.compute(week_query()))
    assert v["reminder_outcomes"] == {"pending": 2, "sent": 1, "delivered": 2, "read": 1,
                                      "failed": 1, "emailed": 1, "dead": 0, "skipped": 0,
                                      "total": 8}


async def test_time_zone_moves_day_boundaries(analytics: AnalyticsService) -> None:
    """WITA (UTC+8): b10 (23:00 WIB on the 6th) now falls on the 7th, b8 on the 14th."""
    v = values(await analytics.compute(week_query(tz="Asia/Makassar")))
    assert v["bookings_per_day"]["series"]["whatsapp"] == [2, 1, 0, 0, 0, 0, 0]
    assert v["bookings_per_day"]["series"]["web"] == [1, 0, 0, 0, 0, 0, 0]
    assert v["bookings_per_day"]["total"] == 7
    hours = {h["hour"]: h["appointments"] for h in v["busiest_hours"] if h["appointments"]}
    assert hours == {10: 1, 11: 1, 12: 1, 15: 1, 17: 1}


async def test_filters_narrow_booking_metrics_only(analytics: AnalyticsService) -> None:
    v = values(await analytics.compute(week_query(specialty="pediatrics")))
    assert v["bookings_per_day"]["total"] == 1                     # b4 (b5 is its reschedule)
    assert v["bookings_per_day"]["series"]["admin"] == [0, 0, 1, 0, 0, 0, 0]
    assert [d["doctor_id"] for d in v["per_doctor"]] == ["dB"]
    assert v["conversion"] == {"chatted": 3, "booked": 1, "rate": 0.3333}
    assert v["messages_per_day"]["total_in"] == 7                  # clinic-wide
    assert v["reminder_outcomes"]["total"] == 0                    # dB has no reminders
    city = values(await analytics.compute(week_query(city="Makassar")))
    assert [d["doctor_id"] for d in city["per_doctor"]] == ["dC"]
    assert city["conversion"] == {"chatted": 3, "booked": 0, "rate": 0.0}
    # reminders follow the filters through the doctor_id each outbox entry carries
    assert city["reminder_outcomes"] == {"pending": 0, "sent": 0, "delivered": 0, "read": 0,
                                         "failed": 1, "emailed": 1, "dead": 0, "skipped": 0,
                                         "total": 2}
    one = values(await analytics.compute(week_query(doctor_id="dA")))
    assert one["cancellation_rate"]["appointments"] == 4
    # b1 b2 b3 b8 b9: 6, 8.5, 25, 37, 178 -> rank ceil(2.5) = 3rd
    assert one["median_lead_time"] == {"bookings": 5, "hours": 25.0}
    assert one["reminder_outcomes"]["total"] == 6 and one["reminder_outcomes"]["failed"] == 0
    none = values(await analytics.compute(week_query(doctor_id="nobody")))
    assert none["bookings_per_day"]["total"] == 0 and none["per_doctor"] == []


async def test_empty_range_gives_zeros_not_errors(analytics: AnalyticsService) -> None:
    result = await analytics.compute(week_query().model_copy(
        update={"date_from": week_query().date_from.replace(year=2025),
                "date_to": week_query().date_to.replace(year=2025)}))
    v = values(result)
    assert v["bookings_per_day"]["total"] == 0
    assert v["median_lead_time"] == {"bookings": 0, "hours": None}
    assert v["bot_response_time"] == {"replies": 0, "p50_ms": None, "p95_ms": None}
    assert v["conversion"] == {"chatted": 0, "booked": 0, "rate": None}
    assert v["cancellation_rate"]["rate"] is None
    assert v["reminder_outcomes"]["total"] == 0


async def test_results_are_cached_briefly_in_redis(analytics: AnalyticsService) -> None:
    first = await analytics.metrics(week_query())
    assert first["cached"] is False
    # a new booking does not show until the cache entry expires (TTL), by design
    analytics.store.sync.bookings.delete_one({"_id": "b1"})
    second = await analytics.metrics(week_query())
    assert second["cached"] is True
    assert second["metrics"] == first["metrics"]
    key = analytics.coordinator.ns + "cache:analytics:v1:" + week_query().cache_key()
    ttl = await analytics.coordinator.redis.ttl(key)
    assert 0 < ttl <= 60
    fresh = await analytics.metrics(week_query(), use_cache=False)
    assert fresh["metrics"]["bookings_per_day"]["value"]["total"] == 6
    other = await analytics.metrics(week_query(tz="Asia/Jayapura"))
    assert other["cached"] is False                                 # another key
