"""Computes every metric for one query from the store, cached briefly in Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from analytics import shaping
from analytics.metrics import TOP_INTENTS, definitions, nearest_rank, wrap
from analytics.query import AnalyticsQuery
from booking.locks import Coordinator
from booking.store import Store
from booking.store_analytics import AnalyticsStore

log = logging.getLogger(__name__)

# Metrics are aggregates over days of data: a minute of staleness is invisible to staff
# and spares MongoDB when the dashboard is reloaded or several admins look at once.
CACHE_NAMESPACE = "analytics:v1:"
CACHE_TTL_S = 60


class AnalyticsService:
    def __init__(self, store: Store, coordinator: Coordinator, *,
                 cache_ttl_s: int = CACHE_TTL_S,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.coordinator = coordinator
        self.cache_ttl_s = cache_ttl_s
        self.clock = clock

    async def metrics(self, query: AnalyticsQuery, *, use_cache: bool = True) -> dict[str, Any]:
        key = CACHE_NAMESPACE + query.cache_key()
        if use_cache and self.cache_ttl_s > 0:
            cached = await self.coordinator.cache_get(key)
            if cached is not None:
                cached["cached"] = True
                return dict(cached)
        result = await self.compute(query)
        if self.cache_ttl_s > 0:
            await self.coordinator.cache_set(key, result, self.cache_ttl_s)
        return {**result, "cached": False}

    async def compute(self, query: AnalyticsQuery) -> dict[str, Any]:
        a = self.store.analytics
        start, end, tz = query.utc_start, query.utc_end, query.tz
        doctor_ids = await a.doctor_ids_for(city=query.city, specialty=query.specialty,
                                            doctor_id=query.doctor_id)
        new, appts, chat, wa_users, reminder_counts, directory = await asyncio.gather(
            a.new_booking_facets(start, end, tz, doctor_ids),
            a.appointment_facets(start, end, tz, doctor_ids),
            a.chat_facets(start, end, tz, TOP_INTENTS),
            a.whatsapp_users(),
            a.reminder_status_counts(start, end, doctor_ids),
            a.doctor_directory())
        days = query.days()
        daily = shaping.daily_by_source(new["by_day"], days)
        new_total = daily["total"]
        # The median needs the count first; it is the only second pass (a top-k sort).
        lead_ms, info, waitlist = await asyncio.gather(
            _median_lead_ms(a, start, end, doctor_ids, new_total),
            a.doctor_info([r["_id"] for r in appts["by_doctor"]]),
            self.store.waitlist.stats(start, end, doctor_ids))
        overall = shaping.overall(appts["by_doctor"])
        values: dict[str, Any] = {
            "bookings_per_day": daily,
            "bookings_per_week": shaping.weekly_from_daily(daily),
            "cancellation_rate": {
                "appointments": overall["appointments"], "cancelled": overall["cancelled"],
                "rate": overall["cancellation_rate"],
                "by_doctor": [{k: r[k] for k in ("doctor_id", "name", "specialty", "city",
                                                  "appointments", "cancelled",
                                                  "cancellation_rate")}
                              for r in shaping.per_doctor(appts["by_doctor"], info)],
                "by_specialty": [{k: r[k] for k in ("specialty", "appointments", "cancelled",
                                                     "cancellation_rate")}
                                 for r in shaping.per_specialty(appts["by_doctor"], info)]},
            "reschedule_rate": {"appointments": overall["appointments"],
                                "rescheduled": overall["rescheduled"],
                                "rate": overall["reschedule_rate"]},
            "no_show_rate": {"completed": overall["completed"], "no_show": overall["no_show"],
                             "rate": overall["no_show_rate"]},
            "median_lead_time": {"bookings": new_total,
                                 "hours": None if lead_ms is None
                                 else round(lead_ms / 3_600_000, 2)},
            "busiest_weekdays": shaping.weekdays(appts["by_weekday"]),
            "busiest_hours": shaping.hours(appts["by_hour"]),
            "messages_per_day": shaping.messages_daily(chat["by_day"], days),
            "bot_response_time": shaping.response_time(chat["latency"]),
            "nlu_fallback_rate": shaping.fallback(chat["inbound"]),
            "top_intents": shaping.top_intents(chat["intents"], chat["inbound"]),
            "conversion": shaping.conversion(chat["senders"], new["patients"], wa_users),
            "reminder_outcomes": shaping.reminders(reminder_counts),
            "waitlist": waitlist,
            "per_doctor": shaping.per_doctor(appts["by_doctor"], info),
        }
        log.debug("analytics computed for %s..%s tz=%s", query.date_from, query.date_to, tz)
        return {"query": query.public(),
                "generated_at": self.clock().astimezone(UTC).isoformat(),
                "metrics": {name: wrap(name, value) for name, value in values.items()},
                "definitions": definitions(),
                "options": {"doctors": directory,
                            "cities": sorted({d["city"] for d in directory if d["city"]}),
                            "specialties": sorted({d["specialty"] for d in directory
                                                   if d["specialty"]})}}


async def _median_lead_ms(a: AnalyticsStore, start: datetime, end: datetime,
                          doctor_ids: list[str] | None, n: int) -> float | None:
    if n <= 0:
        return None
    return await a.lead_time_ms_at(start, end, doctor_ids, nearest_rank(n, 0.5))
