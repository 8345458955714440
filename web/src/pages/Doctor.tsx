import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useParams, useSearch } from "wouter";
import { api } from "../api";
import type { Booking, SlotsOut } from "../api";
import { ErrorNote, Loading, Money, PageTitle, useDoctor, useLang } from "../ui";
import { addDaysKey, formatDate, formatDayShort, formatTimeZoned, groupSlotsByDay, todayKey, weekKeys, zoneAbbr } from "../time";
import { useHold } from "./hold";

export function DoctorPage() {
  const { id } = useParams<{ id: string }>();
  const { t } = useTranslation();
  const lang = useLang();
  const params = new URLSearchParams(useSearch());
  const reschedule = params.get("reschedule");
  const doctor = useDoctor(id);
  const zone = doctor.data?.timezone ?? "Asia/Jakarta";
  const [first, setFirst] = useState<string | null>(params.get("date"));
  const start = first ?? todayKey(zone);
  const days = weekKeys(start);
  const [day, setDay] = useState<string | null>(null);
  const slots = useQuery({
    queryKey: ["slots", id, start, days[6]],
    queryFn: () => api<SlotsOut>(`/doctors/${id}/slots?from=${start}&to=${days[6]}`),
    enabled: doctor.isSuccess,
  });
  const moving = useQuery({
    queryKey: ["booking", reschedule],
    queryFn: () => api<Booking>(`/bookings/${reschedule}`),
    enabled: Boolean(reschedule),
  });
  const hold = useHold(doctor.data);
  if (doctor.isPending) return <Loading />;
  if (doctor.isError) return <ErrorNote error={doctor.error} />;
  const d = doctor.data;
  const groups = groupSlotsByDay(slots.data?.slots ?? [], zone);
  const byDay = new Map(groups.map((g) => [g.date, g.slots]));
  const chosen = day && days.includes(day) ? day : (groups[0]?.date ?? days[0]);
  const daySlots = byDay.get(chosen) ?? [];
  const isFirstWeek = start <= todayKey(zone);
  return (
    <>
      <PageTitle>{d.name}</PageTitle>
      <div className="card doctor-head">
        {d.photo_url && <img src={d.photo_url} alt="" width={96} height={96} />}
        <div>
          <p>{d.specialty_name}</p>
          <p className="muted">{d.clinic}, {d.city}{d.address ? ` — ${d.address}` : ""}</p>
          <p className="muted"><Money amount={d.fee} /> · {d.languages.map((l) => l.toUpperCase()).join(", ")} · {zoneAbbr(zone)}</p>
        </div>
      </div>
      {reschedule && moving.data && (
        <p className="notice">{t("doctor.rescheduling", { ref: moving.data.ref })}</p>
      )}
      <section aria-labelledby="week-title">
        <h2 id="week-title">{t("doctor.week")}</h2>
        <div className="week-nav">
          <button type="button" disabled={isFirstWeek} onClick={() => { setFirst(addDaysKey(start, -7)); setDay(null); }}>
            ‹ {t("doctor.prevWeek")}
          </button>
          <button type="button" onClick={() => { setFirst(addDaysKey(start, 7)); setDay(null); }}>
            {t("doctor.nextWeek")} ›
          </button>
        </div>
        <div role="group" aria-label={t("doctor.chooseDay")} className="days">
          {days.map((k) => (
            <button key={k} type="button" className="day" aria-pressed={k === chosen}
              data-testid="day-button" onClick={() => setDay(k)}>
              {formatDayShort(k, lang)}
              <span className="count">{t("doctor.free", { count: byDay.get(k)?.length ?? 0 })}</span>
            </button>
          ))}
        </div>
        <h3>{formatDate(chosen + "T12:00:00Z", "UTC", lang)}</h3>
        {slots.isPending ? <Loading /> : slots.isError ? <ErrorNote error={slots.error} /> :
          daySlots.length === 0 ? <p className="muted">{t("doctor.noSlotsDay")}</p> : (
            <ul className="plain slots">
              {daySlots.map((s) => (
                <li key={s.start}>
                  <button type="button" className="slot" data-testid="slot-button"
                    disabled={hold.isPending} onClick={() => hold.mutate(s.start)}>
                    {formatTimeZoned(s.start, zone)}
                  </button>
                </li>
              ))}
            </ul>
          )}
        {hold.isPending && <p role="status">{t("doctor.holding")}</p>}
        {hold.view}
      </section>
    </>
  );
}
