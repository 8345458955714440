import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api } from "../api";
import type { Doctor, Page } from "../api";
import { ErrorNote, Loading, PageTitle, useCatalog } from "../ui";
import { todayKey } from "../time";
import { DayAgenda } from "./Agenda";

/** Admins: the day's bookings of every doctor in one city, with no-show marking. */
export default function StaffPage() {
  const { t } = useTranslation();
  const catalog = useCatalog();
  const [city, setCity] = useState("Jakarta");
  const zone = catalog.data?.cities.find((c) => c.name === city)?.timezone ?? "Asia/Jakarta";
  const [picked, setDate] = useState<string | null>(null);
  const date = picked ?? todayKey(zone);   // today in the city's own zone
  const doctors = useQuery({
    queryKey: ["doctors", "staff", city],
    queryFn: () => api<Page<Doctor>>(`/doctors?city=${encodeURIComponent(city)}&page_size=100`),
  });
  return (
    <>
      <PageTitle>{t("staff.title")}</PageTitle>
      <div className="card row">
        <div className="field">
          <label htmlFor="staff-city">{t("staff.city")}</label>
          <select id="staff-city" value={city} onChange={(e) => setCity(e.target.value)}>
            {catalog.data?.cities.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="staff-date">{t("staff.date")}</label>
          <input id="staff-date" type="date" value={date} onChange={(e) => setDate(e.target.value)} />
        </div>
      </div>
      {doctors.isPending ? <Loading /> : doctors.isError ? <ErrorNote error={doctors.error} /> : (
        doctors.data.items.map((d) => (
          <div key={d.id} data-testid="staff-doctor">
            <DayAgenda doctorId={d.id} date={date} zone={d.timezone || zone} title={`${d.name} · ${d.specialty_name} · ${d.clinic}`} />
          </div>
        ))
      )}
    </>
  );
}
