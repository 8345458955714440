// Admins: doctor management — add, edit, deactivate/activate, photo, and their schedule.
import { useState } from "react";
import type { FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { api } from "../api";
import type { Doctor, Page } from "../api";
import { ErrorNote, Loading, Money, PageTitle, useCatalog, useLang } from "../ui";

interface Form {
  name: string; specialty: string; city: string; clinic: string; address: string; fee: string;
  en: boolean;
}

const EMPTY: Form = { name: "", specialty: "general", city: "Jakarta", clinic: "", address: "", fee: "0", en: false };

function toForm(d: Doctor): Form {
  return { name: d.name, specialty: d.specialty, city: d.city, clinic: d.clinic, address: d.address,
    fee: String(d.fee), en: d.languages.includes("en") };
}

function DoctorForm({ doctor, onDone }: { doctor: Doctor | null; onDone(): void }) {
  const { t } = useTranslation();
  const lang = useLang();
  const catalog = useCatalog();
  const client = useQueryClient();
  const [form, setForm] = useState<Form>(doctor ? toForm(doctor) : EMPTY);
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {
        name: form.name.trim(), specialty: form.specialty, city: form.city, clinic: form.clinic.trim(),
        address: form.address.trim(), fee: Number(form.fee) || 0, languages: form.en ? ["id", "en"] : ["id"],
      };
      if (!doctor) {
        const zone = catalog.data?.cities.find((c) => c.name === form.city)?.timezone ?? "Asia/Jakarta";
        // A new doctor starts Monday to Friday 09-12 and 13-16; the schedule editor changes it.
        body.timezone = zone;
        body.weekly = [0, 1, 2, 3, 4].flatMap((weekday) => [
          { weekday, start: "09:00", end: "12:00" }, { weekday, start: "13:00", end: "16:00" }]);
      }
      return doctor
        ? api<Doctor>(`/doctors/${doctor.id}`, { method: "PATCH", body })
        : api<Doctor>("/doctors", { method: "POST", body });
    },
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["doctors"] });
      client.invalidateQueries({ queryKey: ["doctor"] });
      onDone();
    },
  });
  const set = (k: keyof Form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const prefix = doctor ? `edit-${doctor.id}` : "new";
  return (
    <form className="card" data-testid="doctor-form" onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
      <div className="field">
        <label htmlFor={`${prefix}-name`}>{t("auth.name")}</label>
        <input id={`${prefix}-name`} required minLength={2} value={form.name} onChange={set("name")} />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor={`${prefix}-specialty`}>{t("search.specialty")}</label>
          <select id={`${prefix}-specialty`} value={form.specialty} onChange={set("specialty")}>
            {catalog.data?.specialties.map((s) => <option key={s.code} value={s.code}>{lang === "en" ? s.name_en : s.name_id}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${prefix}-city`}>{t("search.city")}</label>
          <select id={`${prefix}-city`} value={form.city} onChange={set("city")}>
            {catalog.data?.cities.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
          </select>
        </div>
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-clinic`}>{t("confirm.clinic")}</label>
        <input id={`${prefix}-clinic`} required value={form.clinic} onChange={set("clinic")} />
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-address`}>{t("confirm.address")}</label>
        <input id={`${prefix}-address`} value={form.address} onChange={set("address")} />
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor={`${prefix}-fee`}>{t("search.fee")} (Rp)</label>
          <input id={`${prefix}-fee`} type="number" min={0} step={1000} inputMode="numeric" value={form.fee} onChange={set("fee")} />
        </div>
        <div className="field check">
          <label htmlFor={`${prefix}-en`}>
            <input id={`${prefix}-en`} type="checkbox" checked={form.en} onChange={(e) => setForm({ ...form, en: e.target.checked })} /> English
          </label>
        </div>
      </div>
      <ErrorNote error={save.error} />
      <div className="actions">
        <button type="submit" className="primary" data-testid="doctor-save" disabled={save.isPending}>{t("staff.save")}</button>
        <button type="button" onClick={onDone}>{t("bookings.keep")}</button>
      </div>
    </form>
  );
}

function Row({ doctor }: { doctor: Doctor }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const toggle = useMutation({
    mutationFn: () => api<Doctor>(`/doctors/${doctor.id}`, { method: "PATCH", body: { active: !doctor.active } }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["doctors"] }),
  });
  const photo = useMutation({
    mutationFn: (file: File) => api<Doctor>(`/doctors/${doctor.id}/photo`, { method: "PUT", body: file }),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["doctors"] });
      client.invalidateQueries({ queryKey: ["doctor", doctor.id] });
    },
  });
  if (editing) return <li><DoctorForm doctor={doctor} onDone={() => setEditing(false)} /></li>;
  return (
    <li className="card" data-testid="managed-doctor" data-active={doctor.active}>
      <div className="doctor-head">
        {doctor.photo_url ? <img src={doctor.photo_url} alt="" width={48} height={48} /> : null}
        <div>
          <h3>{doctor.name} {!doctor.active && <span className="badge badge-cancelled">{t("staff.inactive")}</span>}</h3>
          <p className="muted">{doctor.specialty_name} · {doctor.clinic}, {doctor.city} · <Money amount={doctor.fee} /></p>
        </div>
      </div>
      <div className="actions">
        <button type="button" onClick={() => setEditing(true)}>{t("staff.edit")}</button>
        <button type="button" data-testid="doctor-toggle" disabled={toggle.isPending} onClick={() => toggle.mutate()}>
          {doctor.active ? t("staff.deactivate") : t("staff.activate")}
        </button>
        <Link href={`/staff/doctors/${doctor.id}/schedule`} className="button">{t("nav.schedule")}</Link>
        <input id={`photo-${doctor.id}`} className="sr-only file" type="file" accept="image/jpeg,image/png,image/webp"
          onChange={(e) => { const f = e.target.files?.[0]; if (f) photo.mutate(f); }} />
        <label className="button" htmlFor={`photo-${doctor.id}`}>{t("staff.photo")}</label>
      </div>
      <ErrorNote error={toggle.error ?? photo.error} />
    </li>
  );
}

export default function DoctorsPage() {
  const { t } = useTranslation();
  const catalog = useCatalog();
  const [city, setCity] = useState("Jakarta");
  const [adding, setAdding] = useState(false);
  const doctors = useQuery({
    queryKey: ["doctors", "manage", city],
    queryFn: () => api<Page<Doctor>>(`/doctors?include_inactive=true&page_size=100&city=${encodeURIComponent(city)}`),
  });
  return (
    <>
      <PageTitle>{t("staff.doctors")}</PageTitle>
      <div className="card row">
        <div className="field">
          <label htmlFor="manage-city">{t("staff.city")}</label>
          <select id="manage-city" value={city} onChange={(e) => setCity(e.target.value)}>
            {catalog.data?.cities.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
          </select>
        </div>
        {!adding && <button type="button" data-testid="doctor-add" onClick={() => setAdding(true)}>{t("staff.add")}</button>}
      </div>
      {adding && <DoctorForm doctor={null} onDone={() => setAdding(false)} />}
      {doctors.isPending ? <Loading /> : doctors.isError ? <ErrorNote error={doctors.error} /> : (
        <ul className="plain cards">{doctors.data.items.map((d) => <Row key={d.id} doctor={d} />)}</ul>
      )}
    </>
  );
}
