import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api } from "../api";
import type { Agenda, Booking } from "../api";
import { useSession } from "../auth";
import { ErrorNote, Loading, PageTitle, Status, useDoctor, useLang } from "../ui";
import { addDaysKey, formatDate, formatTimeZoned, todayKey } from "../time";

/** One doctor's bookings on one clinic-local date, with no-show marking once started. */
export function DayAgenda({ doctorId, date, zone, title }: { doctorId: string; date: string; zone: string; title: string }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const agenda = useQuery({
    queryKey: ["agenda", doctorId, date],
    queryFn: () => api<Agenda>(`/doctors/${doctorId}/agenda?date=${date}`),
  });
  const noShow = useMutation({
    mutationFn: (id: string) => api<Booking>(`/bookings/${id}/no-show`, { method: "POST" }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["agenda", doctorId] }),
  });
  return (
    <section aria-label={title} className="card">
      <h3>{title}</h3>
      {agenda.isPending ? <Loading /> : agenda.isError ? <ErrorNote error={agenda.error} /> :
        agenda.data.items.length === 0 ? <p className="muted">{t("agenda.none")}</p> : (
          <table className="agenda">
            <thead><tr><th scope="col">{t("confirm.when")}</th><th scope="col">{t("agenda.patient")}</th><th scope="col">Status</th><th scope="col"><span className="sr-only">{t("agenda.noShow")}</span></th></tr></thead>
            <tbody>
              {agenda.data.items.map((b) => (
                <tr key={b.id} data-testid="agenda-item">
                  <td>{formatTimeZoned(b.start, zone)}</td>
                  <td>{b.patient_name} <span className="muted mono">{b.ref}</span></td>
                  <td><Status status={b.status} /></td>
                  <td>{b.status === "confirmed" && Date.parse(b.start) <= Date.now() && (
                    <button type="button" data-testid="no-show" disabled={noShow.isPending}
                      onClick={() => noShow.mutate(b.id)}>{t("agenda.noShow")}</button>
                  )}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <ErrorNote error={noShow.error} />
    </section>
  );
}

function CalendarFeed({ doctorId }: { doctorId: string }) {
  const { t } = useTranslation();
  const [path, setPath] = useState<string | null>(null);
  const make = useMutation({
    mutationFn: () => api<{ path: string }>(`/doctors/${doctorId}/calendar-token`, { method: "POST" }),
    onSuccess: (out) => setPath(out.path),
  });
  return (
    <section className="card" aria-labelledby="feed-title">
      <h2 id="feed-title">{t("agenda.feed")}</h2>
      <p className="muted">{t("agenda.feedHint")}</p>
      {path ? <p><a href={path} className="mono break" data-testid="calendar-feed">{location.origin + path}</a></p> :
        <button type="button" onClick={() => make.mutate()} disabled={make.isPending}>{t("agenda.feedMake")}</button>}
      <ErrorNote error={make.error} />
    </section>
  );
}

export default function AgendaPage() {
  const { t } = useTranslation();
  const lang = useLang();
  const { me } = useSession();
  const doctor = useDoctor(me?.doctor_id ?? undefined);
  if (!me?.doctor_id) return <p>{t("agenda.notLinked")}</p>;
  if (doctor.isPending) return <Loading />;
  if (doctor.isError) return <ErrorNote error={doctor.error} />;
  const zone = doctor.data.timezone;
  const today = todayKey(zone);
  const tomorrow = addDaysKey(today, 1);
  const label = (k: string, word: string) => `${word} — ${formatDate(k + "T12:00:00Z", "UTC", lang)}`;
  return (
    <>
      <PageTitle>{t("agenda.title")} · {doctor.data.name}</PageTitle>
      <DayAgenda doctorId={me.doctor_id} date={today} zone={zone} title={label(today, t("agenda.today"))} />
      <DayAgenda doctorId={me.doctor_id} date={tomorrow} zone={zone} title={label(tomorrow, t("agenda.tomorrow"))} />
      <CalendarFeed doctorId={me.doctor_id} />
    </>
  );
}
