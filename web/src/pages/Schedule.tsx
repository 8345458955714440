import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ApiError } from "../api";
import type { Schedule } from "../api";
import { useSession } from "../auth";
import { ErrorNote, Loading, PageTitle, useDoctor, useLang } from "../ui";
import { formatDate, formatDateTime } from "../time";
import { validateRange } from "../validate";

interface Stranded { id: string; ref: string; start: string }
interface Saved { affected_bookings: string[]; notified: number }

const hhmm = (t: string) => t.slice(0, 5);

/** A doctor's own schedule, or (admins) the doctor given. */
export default function SchedulePage({ doctorId: given }: { doctorId?: string }) {
  const { t } = useTranslation();
  const lang = useLang();
  const { me } = useSession();
  const doctorId = given ?? me?.doctor_id ?? "";
  const client = useQueryClient();
  const weekdays = t("weekday", { returnObjects: true }) as string[];
  const doctor = useDoctor(doctorId || undefined);
  const loaded = useQuery({
    queryKey: ["schedule", doctorId],
    queryFn: () => api<Schedule>(`/doctors/${doctorId}/schedule`),
    enabled: Boolean(doctorId),
  });
  const [plan, setPlan] = useState<Schedule | null>(null);
  const [stranded, setStranded] = useState<Stranded[] | null>(null);
  const [newDayOff, setNewDayOff] = useState("");
  useEffect(() => {
    if (loaded.data && !plan) {
      setPlan({
        ...loaded.data,
        weekly: loaded.data.weekly.map((r) => ({ ...r, start: hhmm(r.start), end: hhmm(r.end) })),
        breaks: loaded.data.breaks.map((r) => ({ ...r, start: hhmm(r.start), end: hhmm(r.end) })),
      });
    }
  }, [loaded.data, plan]);
  const save = useMutation({
    mutationFn: (force: boolean) => {
      const { doctor_id: _ignored, ...body } = plan!;
      void _ignored;
      return api<Saved>(`/doctors/${doctorId}/schedule${force ? "?force=true" : ""}`, { method: "PUT", body });
    },
    onMutate: () => setStranded(null),
    onSuccess: () => client.invalidateQueries({ queryKey: ["schedule", doctorId] }),
    onError: (error) => {
      if (error instanceof ApiError && error.error === "schedule_conflict") {
        setStranded((error.details.stranded as Stranded[]) ?? []);
      }
    },
  });
  if (!doctorId) return <p>{t("agenda.notLinked")}</p>;
  if (loaded.isError) return <ErrorNote error={loaded.error} />;
  if (!plan) return <Loading />;
  const zone = plan.timezone;
  const rangeErrors = [...plan.weekly, ...plan.breaks].map(validateRange).filter(Boolean);
  const update = (patch: Partial<Schedule>) => { setPlan({ ...plan, ...patch }); save.reset(); setStranded(null); };
  return (
    <>
      <PageTitle>{t("schedule.title")}{doctor.data ? ` · ${doctor.data.name}` : ""}</PageTitle>
      <form onSubmit={(e) => { e.preventDefault(); if (!rangeErrors.length) save.mutate(false); }} noValidate>
        <fieldset className="card">
          <legend>{t("schedule.weekly")}</legend>
          {plan.weekly.map((r, i) => (
            <div className="row schedule-row" key={i} data-testid="weekly-row">
              <div className="field">
                <label htmlFor={`wd-${i}`}>{t("schedule.day")}</label>
                <select id={`wd-${i}`} value={r.weekday} onChange={(e) => update({
                  weekly: plan.weekly.map((x, j) => j === i ? { ...x, weekday: Number(e.target.value) } : x) })}>
                  {weekdays.map((w, k) => <option key={k} value={k}>{w}</option>)}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`ws-${i}`}>{t("schedule.from")}</label>
                <input id={`ws-${i}`} type="time" value={r.start} data-testid="weekly-start" onChange={(e) => update({
                  weekly: plan.weekly.map((x, j) => j === i ? { ...x, start: e.target.value } : x) })} />
              </div>
              <div className="field">
                <label htmlFor={`we-${i}`}>{t("schedule.to")}</label>
                <input id={`we-${i}`} type="time" value={r.end} data-testid="weekly-end" onChange={(e) => update({
                  weekly: plan.weekly.map((x, j) => j === i ? { ...x, end: e.target.value } : x) })} />
              </div>
              <button type="button" className="link" data-testid="weekly-remove"
                aria-label={`${t("schedule.remove")} ${weekdays[r.weekday]} ${r.start}`}
                onClick={() => update({ weekly: plan.weekly.filter((_, j) => j !== i) })}>{t("schedule.remove")}</button>
              {validateRange(r) && <p className="error">{t(validateRange(r)!)}</p>}
            </div>
          ))}
          <button type="button" onClick={() => update({ weekly: [...plan.weekly, { weekday: 0, start: "08:00", end: "12:00" }] })}>
            {t("schedule.add")}
          </button>
        </fieldset>
        <fieldset className="card">
          <legend>{t("schedule.breaks")}</legend>
          {plan.breaks.map((r, i) => (
            <div className="row schedule-row" key={i}>
              <div className="field">
                <label htmlFor={`bd-${i}`}>{t("schedule.day")}</label>
                <select id={`bd-${i}`} value={r.weekdays.length === 1 ? r.weekdays[0] : -1} onChange={(e) => {
                  const v = Number(e.target.value);
                  update({ breaks: plan.breaks.map((x, j) => j === i ? { ...x, weekdays: v < 0 ? [] : [v] } : x) });
                }}>
                  <option value={-1}>{t("schedule.everyDay")}</option>
                  {weekdays.map((w, k) => <option key={k} value={k}>{w}</option>)}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`bs-${i}`}>{t("schedule.from")}</label>
                <input id={`bs-${i}`} type="time" value={r.start} onChange={(e) => update({
                  breaks: plan.breaks.map((x, j) => j === i ? { ...x, start: e.target.value } : x) })} />
              </div>
              <div className="field">
                <label htmlFor={`be-${i}`}>{t("schedule.to")}</label>
                <input id={`be-${i}`} type="time" value={r.end} onChange={(e) => update({
                  breaks: plan.breaks.map((x, j) => j === i ? { ...x, end: e.target.value } : x) })} />
              </div>
              <button type="button" className="link" onClick={() => update({ breaks: plan.breaks.filter((_, j) => j !== i) })}>
                {t("schedule.remove")}
              </button>
            </div>
          ))}
          <button type="button" onClick={() => update({ breaks: [...plan.breaks, { weekdays: [], start: "12:00", end: "13:00" }] })}>
            {t("schedule.add")}
          </button>
        </fieldset>
        <fieldset className="card">
          <legend>{t("schedule.daysOff")}</legend>
          <ul className="plain">
            {plan.days_off.map((d) => (
              <li key={d}>{formatDate(d + "T12:00:00Z", "UTC", lang)} <button type="button" className="link" aria-label={`${t("schedule.remove")} ${d}`}
                onClick={() => update({ days_off: plan.days_off.filter((x) => x !== d) })}>{t("schedule.remove")}</button></li>
            ))}
          </ul>
          <div className="row">
            <div className="field">
              <label htmlFor="day-off">{t("schedule.addDayOff")}</label>
              <input id="day-off" type="date" data-testid="day-off-input" value={newDayOff} onChange={(e) => setNewDayOff(e.target.value)} />
            </div>
            <button type="button" data-testid="day-off-add" disabled={!newDayOff} onClick={() => {
              if (!plan.days_off.includes(newDayOff)) update({ days_off: [...plan.days_off, newDayOff].sort() });
              setNewDayOff("");
            }}>{t("schedule.add")}</button>
          </div>
        </fieldset>
        {stranded && (
          <section className="notice" role="alert" data-testid="stranded">
            <p>{t("schedule.stranded")}</p>
            <ul>{stranded.map((b) => <li key={b.id} data-testid="stranded-item"><span className="mono">{b.ref}</span> · {formatDateTime(b.start, zone, lang)}</li>)}</ul>
            <button type="button" className="danger" data-testid="schedule-force" onClick={() => save.mutate(true)}>{t("schedule.force")}</button>
          </section>
        )}
        {save.isError && !stranded && <ErrorNote error={save.error} />}
        {save.isSuccess && (
          <p role="status" data-testid="schedule-saved">{t("schedule.saved")} {save.data.notified ? t("schedule.notified", { count: save.data.notified }) : ""}</p>
        )}
        <button type="submit" className="primary" data-testid="schedule-save" disabled={save.isPending || rangeErrors.length > 0}>
          {t("schedule.save")}
        </button>
      </form>
    </>
  );
}
