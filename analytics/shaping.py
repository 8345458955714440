"""Pure functions turning raw aggregation rows into the metric values the API returns."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from analytics.metrics import REMINDER_STATUSES, SOURCES, WEEKDAY_NAMES, nearest_rank, rate


def _day_of(key: dict[str, Any]) -> date:
    return date(int(key["y"]), int(key["m"]), int(key["d"]))


def daily_by_source(rows: Iterable[dict[str, Any]], days: list[date]) -> dict[str, Any]:
    """{days: [...], series: {source: [count per day]}, total}: every day present, zeros too."""
    index = {d: i for i, d in enumerate(days)}
    series = {s: [0] * len(days) for s in SOURCES}
    for row in rows:
        day = _day_of(row["_id"])
        source = row["_id"].get("source") or "unknown"
        if day not in index:
            continue
        series.setdefault(source, [0] * len(days))[index[day]] += int(row["n"])
    total = sum(sum(v) for v in series.values())
    return {"days": [d.isoformat() for d in days], "series": series, "total": total}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_from_daily(daily: dict[str, Any]) -> dict[str, Any]:
    """Sum the daily series per ISO week (weeks cut by the range are partial, as labelled)."""
    weeks: list[str] = []
    for d in daily["days"]:
        w = iso_week(date.fromisoformat(d))
        if not weeks or weeks[-1] != w:
            weeks.append(w)
    pos = {w: i for i, w in enumerate(weeks)}
    series: dict[str, list[int]] = {}
    for source, counts in daily["series"].items():
        out = [0] * len(weeks)
        for d, n in zip(daily["days"], counts, strict=True):
            out[pos[iso_week(date.fromisoformat(d))]] += n
        series[source] = out
    return {"weeks": weeks, "series": series, "total": daily["total"]}


def _outcomes(row: dict[str, Any]) -> dict[str, Any]:
    n, cancelled = int(row["appointments"]), int(row["cancelled"])
    rescheduled, completed, no_show = (int(row["rescheduled"]), int(row["completed"]),
                                       int(row["no_show"]))
    return {"appointments": n, "cancelled": cancelled, "cancellation_rate": rate(cancelled, n),
            "rescheduled": rescheduled, "reschedule_rate": rate(rescheduled, n),
            "completed": completed, "no_show": no_show,
            "no_show_rate": rate(no_show, completed + no_show)}


_ZERO = {"appointments": 0, "cancelled": 0, "rescheduled": 0, "completed": 0, "no_show": 0}


def _sum_rows(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    total = dict(_ZERO)
    for row in rows:
        for k in total:
            total[k] += int(row[k])
    return total


def per_doctor(rows: list[dict[str, Any]], info: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-doctor outcome table, most appointments first, then by name."""
    table = []
    for row in rows:
        doc = info.get(row["_id"], {})
        table.append({"doctor_id": row["_id"], "name": doc.get("name", row["_id"]),
                      "specialty": doc.get("specialty"), "city": doc.get("city"),
                      **_outcomes(row)})
    return sorted(table, key=lambda r: (-r["appointments"], r["name"], r["doctor_id"]))


def per_specialty(rows: list[dict[str, Any]], info: dict[str, dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        specialty = info.get(row["_id"], {}).get("specialty") or "unknown"
        groups.setdefault(specialty, []).append(row)
    table = [{"specialty": s, **_outcomes(_sum_rows(g))} for s, g in groups.items()]
    return sorted(table, key=lambda r: (-r["appointments"], r["specialty"]))


def overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return _outcomes(_sum_rows(rows))


def weekdays(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mongo's $dayOfWeek is 1 = Sunday .. 7 = Saturday; shown Monday first."""
    counts = [0] * 7
    for row in rows:
        counts[(int(row["_id"]) + 5) % 7] += int(row["n"])
    return [{"weekday": i, "name": WEEKDAY_NAMES[i], "appointments": counts[i]}
            for i in range(7)]


def hours(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    counts = [0] * 24
    for row in rows:
        counts[int(row["_id"])] += int(row["n"])
    return [{"hour": h, "appointments": counts[h]} for h in range(24)]


def messages_daily(rows: Iterable[dict[str, Any]], days: list[date]) -> dict[str, Any]:
    index = {d: i for i, d in enumerate(days)}
    series = {"in": [0] * len(days), "out": [0] * len(days)}
    for row in rows:
        day, direction = _day_of(row["_id"]), row["_id"].get("direction")
        if day in index and direction in series:
            series[direction][index[day]] += int(row["n"])
    return {"days": [d.isoformat() for d in days], **series,
            "total_in": sum(series["in"]), "total_out": sum(series["out"])}


def fallback(inbound: list[dict[str, Any]]) -> dict[str, Any]:
    n = int(inbound[0]["n"]) if inbound else 0
    fb = int(inbound[0]["fallback"]) if inbound else 0
    return {"inbound": n, "fallback": fb, "rate": rate(fb, n)}


def top_intents(intents: list[dict[str, Any]], inbound: list[dict[str, Any]]
                ) -> list[dict[str, Any]]:
    with_intent = int(inbound[0]["with_intent"]) if inbound else 0
    return [{"intent": r["_id"], "count": int(r["n"]), "share": rate(int(r["n"]), with_intent)}
            for r in intents]


def reminders(counts: dict[str, int]) -> dict[str, int]:
    out = {s: 0 for s in REMINDER_STATUSES}
    for status, n in counts.items():
        key = "pending" if status == "sending" else status
        out[key] = out.get(key, 0) + int(n)
    out["total"] = sum(out.values())
    return out


def response_time(histogram: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Nearest-rank p50/p95 from a histogram of whole-ms reply latencies ([{_id: ms, n}]):
    exact at millisecond resolution, without sorting every reply."""
    buckets = sorted((float(r["_id"]), int(r["n"])) for r in histogram if r["_id"] is not None)
    replies = sum(n for _, n in buckets)
    if not replies:
        return {"replies": 0, "p50_ms": None, "p95_ms": None}
    return {"replies": replies, "p50_ms": _value_at_rank(buckets, nearest_rank(replies, 0.5)),
            "p95_ms": _value_at_rank(buckets, nearest_rank(replies, 0.95))}


def _value_at_rank(buckets: list[tuple[float, int]], index: int) -> float:
    """The value at 0-based `index` of the sorted values the (value, count) pairs stand for."""
    seen = 0
    for value, n in buckets:
        seen += n
        if index < seen:
            return value
    raise IndexError(index)


def conversion(senders: Iterable[dict[str, Any]], patients: Iterable[dict[str, Any]],
               wa_users: dict[str, str]) -> dict[str, Any]:
    """Patients who wrote in the range (distinct senders) and, of those, how many booked:
    a sender counts as booked when their WhatsApp number belongs to a user with a new
    booking in the range."""
    chatted = {r["_id"] for r in senders if r["_id"]}
    booked_users = {r["_id"] for r in patients}
    booked = sum(1 for wa in chatted if wa_users.get(wa) in booked_users)
    return {"chatted": len(chatted), "booked": booked, "rate": rate(booked, len(chatted))}
