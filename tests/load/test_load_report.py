"""load-report.json's parts: the double-booking count and Locust's CSV statistics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loadtest import report

HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
          "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
          "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n")


def test_double_bookings_counts_extra_active_bookings_per_doctor_and_start() -> None:
    nine = datetime(2030, 1, 7, 2, 0, tzinfo=UTC)
    ten = datetime(2030, 1, 7, 3, 0, tzinfo=UTC)
    bookings = [
        {"doctor_id": "d1", "start": nine, "status": "confirmed"},
        {"doctor_id": "d1", "start": nine, "status": "cancelled"},   # not active
        {"doctor_id": "d2", "start": nine, "status": "confirmed"},   # other doctor
        {"doctor_id": "d1", "start": ten, "status": "confirmed"},
    ]
    assert report.double_bookings(bookings) == 0
    bookings += [{"doctor_id": "d1", "start": ten, "status": "confirmed"},
                 {"doctor_id": "d1", "start": ten, "status": "confirmed"}]
    assert report.double_bookings(bookings) == 2


def test_report_from_locust_stats(tmp_path: Path) -> None:
    stats = tmp_path / "load_stats.csv"
    stats.write_text(HEADER
                     + "GET,/doctors,90,0,12,15,2,80,900,3.0,0.0,12,14,16,18,25,40,60,70,80,80,80\n"
                     + "POST,/bookings,10,1,30,35,9,200,500,0.33,0.03,30,31,33,35,60,90,"
                       "150,190,200,200,200\n"
                     + ",Aggregated,100,1,13,17,2,200,860,3.33,0.03,13,15,17,19,30,50,"
                       "90,120,200,200,200\n")
    out = report.build(300, stats, 0, {"mix": "web"})
    assert out == {"users": 300, "requests": 100, "failures": 1, "p50_ms": 13.0,
                   "p95_ms": 50.0, "p99_ms": 120.0, "rps": 3.33, "double_bookings": 0,
                   "mix": "web"}
    rows = report.per_request(stats)
    assert [(r["name"], r["requests"], r["failures"]) for r in rows] == [
        ("/doctors", 90, 0), ("/bookings", 10, 1)]
