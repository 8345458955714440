import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "wouter";
import { api } from "../api";
import type { Booking } from "../api";
import { ErrorNote, Loading, PageTitle, useDoctor, useLang } from "../ui";
import { formatDateTime } from "../time";

/** Fetch the .ics with the access token and hand it to the browser as a download. */
export async function downloadIcs(booking: Booking) {
  const resp = await api<Response>(`/bookings/${booking.id}/calendar.ics`, { raw: true });
  const url = URL.createObjectURL(await resp.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = `${booking.ref}.ics`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function DonePage() {
  const { id } = useParams<{ id: string }>();
  const { t } = useTranslation();
  const lang = useLang();
  const booking = useQuery({ queryKey: ["booking", id], queryFn: () => api<Booking>(`/bookings/${id}`) });
  const doctor = useDoctor(booking.data?.doctor_id);
  if (booking.isPending || doctor.isPending) return <Loading />;
  if (booking.isError) return <ErrorNote error={booking.error} />;
  if (doctor.isError) return <ErrorNote error={doctor.error} />;
  const b = booking.data;
  const d = doctor.data;
  return (
    <>
      <PageTitle>{t("done.title")}</PageTitle>
      <div className="card">
        <p className="label">{t("done.ref")}</p>
        <p className="ref" data-testid="booking-ref">{b.ref}</p>
        <p>{d.name} · {d.clinic}, {d.city}</p>
        <p>{formatDateTime(b.start, d.timezone, lang)}</p>
        <p className="muted">{t("done.whatsapp")}</p>
      </div>
      <div className="actions">
        <button type="button" data-testid="add-to-calendar" onClick={() => downloadIcs(b)}>{t("done.calendar")}</button>
        <Link href="/bookings" className="button">{t("done.mine")}</Link>
      </div>
    </>
  );
}
