"""booking.dates: the Indonesian/English date-time parser, table-tested with a fixed now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from booking.dates import PARTS, When, parse_when

# Wednesday 9 December 2026, 09:00 WIB
NOW = datetime(2026, 12, 9, 2, 0, tzinfo=UTC)
D = date


@pytest.mark.parametrize(("text", "expected"), [
    ("hari ini", When(day=D(2026, 12, 9))),
    ("besok", When(day=D(2026, 12, 10))),
    ("bsk aja", When(day=D(2026, 12, 10))),
    ("lusa", When(day=D(2026, 12, 11))),
    ("3 hari lagi", When(day=D(2026, 12, 12))),
    ("dalam 2 hari", When(day=D(2026, 12, 11))),
    ("senin", When(day=D(2026, 12, 14))),
    ("senin ini", When(day=D(2026, 12, 14))),
    ("senin depan", When(day=D(2026, 12, 14))),
    ("rabu", When(day=D(2026, 12, 9))),
    ("rabu depan", When(day=D(2026, 12, 16))),
    ("jumat", When(day=D(2026, 12, 11))),
    ("jum'at depan", When(day=D(2026, 12, 18))),
    ("kamis ini", When(day=D(2026, 12, 10))),
    # "minggu": the week ...
    ("minggu depan", When(day=D(2026, 12, 14), span_days=7)),
    ("minggu ini", When(day=D(2026, 12, 9), span_days=5)),
    ("2 minggu lagi", When(day=D(2026, 12, 23))),
    ("seminggu lagi", When(day=D(2026, 12, 16))),
    # ... or Sunday
    ("hari minggu", When(day=D(2026, 12, 13))),
    ("minggu pagi", When(day=D(2026, 12, 13), window=PARTS["pagi"])),
    ("hari minggu depan", When(day=D(2026, 12, 20))),
    ("minggu jam 10", When(day=D(2026, 12, 13), at=time(10))),
    ("tanggal 12", When(day=D(2026, 12, 12))),
    ("tgl 5", When(day=D(2027, 1, 5))),
    ("12/4", When(day=D(2027, 4, 12))),
    ("25/12", When(day=D(2026, 12, 25))),
    ("12 April", When(day=D(2027, 4, 12))),
    ("20 desember", When(day=D(2026, 12, 20))),
    ("jam 10", When(at=time(10))),
    ("jam 10 pagi", When(at=time(10))),
    ("jam 3 sore", When(at=time(15))),
    ("jam 3", When(at=time(15))),
    ("jam 7 malam", When(at=time(19))),
    ("jam 12 siang", When(at=time(12))),
    ("jam 1 siang", When(at=time(13))),
    ("pukul 08.00", When(at=time(8))),
    ("15.30", When(at=time(15, 30))),
    ("yang jam 10 aja", When(at=time(10))),
    ("jam 10-an", When(at=time(10), window=(time(9, 30), time(11)))),
    ("10an", When(at=time(10), window=(time(9, 30), time(11)))),
    ("setengah 10", When(at=time(9, 30))),
    ("pagi", When(window=PARTS["pagi"])),
    ("siang", When(window=PARTS["siang"])),
    ("sore aja", When(window=PARTS["sore"])),
    ("malam", When(window=PARTS["malam"])),
    ("besok sore", When(day=D(2026, 12, 10), window=PARTS["sore"])),
    ("lusa jam 9", When(day=D(2026, 12, 11), at=time(9))),
    ("senin depan jam 2 siang", When(day=D(2026, 12, 14), at=time(14))),
    ("kamis depan jam 4 sore", When(day=D(2026, 12, 17), at=time(16))),
    ("tomorrow afternoon", When(day=D(2026, 12, 10), window=PARTS["afternoon"])),
    ("next Monday 9am", When(day=D(2026, 12, 14), at=time(9))),
    ("friday at 3pm", When(day=D(2026, 12, 11), at=time(15))),
    ("today", When(day=D(2026, 12, 9))),
    ("December 24, 2026", When(day=D(2026, 12, 24))),
    ("2026-12-24", When(day=D(2026, 12, 24))),
    # dates as people write them (issue 13)
    ("14/1", When(day=D(2027, 1, 14))),
    ("14-01", When(day=D(2027, 1, 14))),
    ("14 Jan", When(day=D(2027, 1, 14))),
    ("tgl 14", When(day=D(2026, 12, 14))),
    ("tgl.14 sore", When(day=D(2026, 12, 14), window=PARTS["sore"])),
    ("cari dokter THT di Medan tgl 14/1 sore", When(day=D(2027, 1, 14), window=PARTS["sore"])),
    ("on the 14th", When(day=D(2026, 12, 14))),
    ("on the 14", When(day=D(2026, 12, 14))),
    ("actually make it the 12", When(day=D(2026, 12, 12))),
    ("the 14th in the morning", When(day=D(2026, 12, 14), window=PARTS["morning"])),
    ("Jan 14th at 2pm", When(day=D(2027, 1, 14), at=time(14))),
    ("Kamis ini", When(day=D(2026, 12, 10))),
    ("Kamis depan", When(day=D(2026, 12, 17))),
    ("next Thursday", When(day=D(2026, 12, 17))),
    ("this Thursday", When(day=D(2026, 12, 10))),
    ("pekan depan", When(day=D(2026, 12, 14), span_days=7)),
    ("next week afternoon", When(day=D(2026, 12, 14), span_days=7,
                                 window=PARTS["afternoon"])),
    ("akhir pekan", When(day=D(2026, 12, 12), span_days=2)),
    ("akhir pekan depan", When(day=D(2026, 12, 19), span_days=2)),
    ("this weekend", When(day=D(2026, 12, 12), span_days=2)),
    ("next weekend", When(day=D(2026, 12, 19), span_days=2)),
    ("bulan depan", When(day=D(2027, 1, 1), span_days=31)),
    ("nanti sore", When(day=D(2026, 12, 9), window=PARTS["sore"])),
    ("ntar malem", When(day=D(2026, 12, 9), window=PARTS["malam"])),
    ("sore ini", When(day=D(2026, 12, 9), window=PARTS["sore"])),
    ("this afternoon", When(day=D(2026, 12, 9), window=PARTS["afternoon"])),
    ("tonight", When(day=D(2026, 12, 9), window=PARTS["malam"])),
    ("besok lusa", When(day=D(2026, 12, 11))),
    ("besok pagi", When(day=D(2026, 12, 10), window=PARTS["pagi"])),
    ("tomorrow morning", When(day=D(2026, 12, 10), window=PARTS["morning"])),
    ("jam 2 siang", When(at=time(14))),
    ("2 siang", When(at=time(14))),
    ("9 pagi", When(at=time(9))),
    ("jam 7 malam", When(at=time(19))),
    ("7 malam", When(at=time(19))),
    ("setengah 10", When(at=time(9, 30))),
    ("setengah 3 sore", When(at=time(14, 30))),
    ("half past 9", When(at=time(9, 30))),
    ("half past 2 in the afternoon", When(at=time(14, 30))),
    ("after 3pm", When(window=(time(15), time(23, 59)))),
    ("setelah jam 3", When(window=(time(15), time(23, 59)))),
    ("sebelum jam 11", When(window=(time(5), time(11)))),
    ("kamis jam 2 siang", When(day=D(2026, 12, 10), at=time(14))),
    ("selamat pagi, mau ke dokter gigi besok", When(day=D(2026, 12, 10))),
    ("good morning, a dentist tomorrow afternoon",
     When(day=D(2026, 12, 10), window=PARTS["afternoon"])),
    ("14/1 jam 10", When(day=D(2027, 1, 14), at=time(10))),
    # a greeting that opens the message or addresses someone is not the time wanted
    ("pagi dok, bs daftar tgl 20 sore gk", When(day=D(2026, 12, 20), window=PARTS["sore"])),
    ("siang kak, mau booking jam 2", When(at=time(14))),
    ("malam min, besok bisa?", When(day=D(2026, 12, 10))),
    ("halo pagi dok, besok sore ada?", When(day=D(2026, 12, 10), window=PARTS["sore"])),
    ("Morning! need a GP tomorrow afternoon",
     When(day=D(2026, 12, 10), window=PARTS["afternoon"])),
    ("besok pagi dok", When(day=D(2026, 12, 10), window=PARTS["pagi"])),
    ("sore kak", When(window=PARTS["sore"])),
    ("pagi.", When(window=PARTS["pagi"])),
    # "hari 18" is the 18th; a count of days is not
    ("hari 18 jam 10 pagi", When(day=D(2026, 12, 18), at=time(10))),
    ("mau buat janji hari 26 siang", When(day=D(2026, 12, 26), window=PARTS["siang"])),
    # a booking code's digits are not a date ("AF7-9XQ" is not 7 September)
    ("ganti jadwal booking AF7-9XQ ke 9/12 jam 3 sore", When(day=D(2026, 12, 9), at=time(15))),
    ("batalkan af79xq", When()),
    ("pindah K7M-4QX ke 14/1", When(day=D(2027, 1, 14))),
    ("sudah 3 hari demam", When()),
    ("hari ke 3 saya batuk", When()),
    # nothing about time: numbers alone are choices, not times
    ("2", When()),
    ("nomor 2", When()),
    ("halo kak", When()),
    ("dr. Sari Wulandari", When()),
])
def test_parse_when(text: str, expected: When) -> None:
    assert parse_when(text, NOW, "Asia/Jakarta") == expected


def test_today_is_the_clinic_zone_today() -> None:
    # 23:30 WIB on the 9th is already 01:30 WIT on the 10th
    late = datetime(2026, 12, 9, 16, 30, tzinfo=UTC)
    assert parse_when("besok", late, "Asia/Jakarta").day == D(2026, 12, 10)
    assert parse_when("besok", late, "Asia/Jayapura").day == D(2026, 12, 11)


def test_start_at_and_accepts() -> None:
    when = parse_when("besok jam 10", NOW)
    start = when.start_at("Asia/Jakarta")
    assert start == datetime(2026, 12, 10, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    tz = ZoneInfo("Asia/Jakarta")
    assert when.accepts(datetime(2026, 12, 10, 10, 0, tzinfo=tz))
    assert not when.accepts(datetime(2026, 12, 10, 10, 30, tzinfo=tz))
    sore = parse_when("besok sore", NOW)
    assert sore.start_at(tz) is None
    assert sore.accepts(datetime(2026, 12, 10, 15, 30, tzinfo=tz))
    assert not sore.accepts(datetime(2026, 12, 10, 9, 0, tzinfo=tz))
    week = parse_when("minggu depan", NOW)
    assert week.accepts(datetime(2026, 12, 20, 9, 0, tzinfo=tz))
    assert not week.accepts(datetime(2026, 12, 21, 9, 0, tzinfo=tz))
