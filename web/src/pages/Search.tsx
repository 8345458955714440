import { useState } from "react";
import type { FormEvent } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useSearch } from "wouter";
import { api } from "../api";
import type { Doctor, Page, SlotsOut } from "../api";
import { ErrorNote, Loading, Money, PageTitle, cityName, specialtyCode, useCatalog, useLang } from "../ui";
import { addDaysKey, formatDayShort, formatTimeZoned, groupSlotsByDay, PARTS_OF_DAY, todayKey } from "../time";
import type { PartOfDay } from "../time";
import { useHold } from "./hold";

const SLOTS_SHOWN = 3;

export function SearchPage() {
  const { t } = useTranslation();
  const params = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const catalog = useCatalog();
  const lang = useLang();
  const [form, setForm] = useState({
    specialty: params.get("specialty") ?? "",
    city: params.get("city") ?? "",
    date: params.get("date") ?? "",
    part: params.get("part") ?? "",
    q: params.get("q") ?? "",
  });
  const [problem, setProblem] = useState<string | null>(null);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form.specialty && !specialtyCode(catalog.data, form.specialty)) {
      setProblem(t("search.unknownSpecialty"));
      return;
    }
    if (form.city && !cityName(catalog.data, form.city)) {
      setProblem(t("search.unknownCity"));
      return;
    }
    setProblem(null);
    const q = new URLSearchParams(Object.entries(form).filter(([, v]) => v));
    navigate(`/?${q}`);
  };

  const specialtyOptions = catalog.data?.specialties.map((s) => (lang === "en" ? s.name_en : s.name_id)) ?? [];
  return (
    <>
      <PageTitle>{t("search.title")}</PageTitle>
      <form className="card search" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="specialty">{t("search.specialty")}</label>
          <input id="specialty" list="specialties" data-testid="search-specialty" autoComplete="off"
            value={form.specialty} onChange={set("specialty")} />
          <datalist id="specialties">{specialtyOptions.map((s) => <option key={s} value={s} />)}</datalist>
        </div>
        <div className="field">
          <label htmlFor="city">{t("search.city")}</label>
          <input id="city" list="cities" data-testid="search-city" autoComplete="address-level2"
            value={form.city} onChange={set("city")} />
          <datalist id="cities">{catalog.data?.cities.map((c) => <option key={c.name} value={c.name} />)}</datalist>
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="date">{t("search.date")}</label>
            <input id="date" type="date" data-testid="search-date" value={form.date} onChange={set("date")} />
          </div>
          <div className="field">
            <label htmlFor="part">{t("search.part")}</label>
            <select id="part" data-testid="search-part" value={form.part} onChange={set("part")}>
              <option value="">{t("search.anyPart")}</option>
              {PARTS_OF_DAY.map((p) => <option key={p} value={p}>{t(`part.${p}`)}</option>)}
            </select>
          </div>
        </div>
        <div className="field">
          <label htmlFor="q">{t("search.name")}</label>
          <input id="q" data-testid="search-name" value={form.q} onChange={set("q")} />
        </div>
        {problem && <p className="error" role="alert">{problem}</p>}
        <button type="submit" className="primary" data-testid="search-submit">{t("search.submit")}</button>
      </form>
      {params.toString() && <Results params={params} />}
    </>
  );
}

function Results({ params }: { params: URLSearchParams }) {
  const { t } = useTranslation();
  const catalog = useCatalog();
  const specialty = specialtyCode(catalog.data, params.get("specialty") ?? "");
  const city = cityName(catalog.data, params.get("city") ?? "");
  const query = new URLSearchParams({ page_size: "20" });
  if (specialty) query.set("specialty", specialty);
  if (city) query.set("city", city);
  if (params.get("q")) query.set("q", params.get("q")!);
  if (params.get("date")) query.set("available_on", params.get("date")!);
  const doctors = useQuery({
    queryKey: ["doctors", query.toString()],
    queryFn: () => api<Page<Doctor>>(`/doctors?${query}`),
    enabled: catalog.isSuccess,
  });
  if (doctors.isPending) return <Loading />;
  if (doctors.isError) return <ErrorNote error={doctors.error} />;
  return (
    <section aria-labelledby="results-title">
      <h2 id="results-title" aria-live="polite">{t("search.results", { count: doctors.data.total })}</h2>
      {doctors.data.items.length === 0 && <p>{t("search.none")}</p>}
      <ul className="plain cards">
        {doctors.data.items.map((d) => (
          <DoctorCard key={d.id} doctor={d} date={params.get("date") ?? ""}
            part={(params.get("part") ?? "") as PartOfDay | ""} />
        ))}
      </ul>
    </section>
  );
}

function DoctorCard({ doctor, date, part }: { doctor: Doctor; date: string; part: PartOfDay | "" }) {
  const { t } = useTranslation();
  const lang = useLang();
  const from = date || todayKey(doctor.timezone);
  const to = addDaysKey(from, 6);
  const slots = useQuery({
    queryKey: ["slots", doctor.id, from, to],
    queryFn: () => api<SlotsOut>(`/doctors/${doctor.id}/slots?from=${from}&to=${to}`),
  });
  const hold = useHold(doctor);
  const next = groupSlotsByDay(slots.data?.slots ?? [], doctor.timezone, part)
    .flatMap((g) => g.slots.map((s) => ({ ...s, date: g.date }))).slice(0, SLOTS_SHOWN);
  const titleId = `doctor-${doctor.id}`;
  return (
    <li className="card doctor" data-testid="doctor-card" aria-labelledby={titleId}>
      <div className="doctor-head">
        {doctor.photo_url ? <img src={doctor.photo_url} alt="" width={64} height={64} /> :
          <span className="avatar" aria-hidden="true">{doctor.name.replace(/^dr[g]?\.?\s*/i, "").charAt(0)}</span>}
        <div>
          <h3 id={titleId}><Link href={`/doctors/${doctor.id}`}>{doctor.name}</Link></h3>
          <p className="muted">{doctor.specialty_name} · {doctor.clinic}, {doctor.city}</p>
          <p className="muted">{t("search.fee")}: <Money amount={doctor.fee} /> · {t("search.languages")}: {doctor.languages.map((l) => l.toUpperCase()).join(", ")}</p>
        </div>
      </div>
      <p className="label">{t("search.nextSlots")}</p>
      {slots.isPending ? <Loading /> : next.length === 0 ? <p className="muted">{t("search.noSlots")}</p> : (
        <ul className="plain slots">
          {next.map((s) => (
            <li key={s.start}>
              <button type="button" className="slot" data-testid="slot-button" disabled={hold.isPending}
                onClick={() => hold.mutate(s.start)}>
                {formatDayShort(s.date, lang)} {formatTimeZoned(s.start, doctor.timezone)}
              </button>
            </li>
          ))}
        </ul>
      )}
      {hold.view}
      <Link href={`/doctors/${doctor.id}`} className="more">{t("search.seeWeek")}</Link>
    </li>
  );
}
