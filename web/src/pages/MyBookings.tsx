import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "wouter";
import { api } from "../api";
import type { Booking, Page } from "../api";
import { ErrorNote, Loading, PageTitle, Status, useDoctor, useLang } from "../ui";
import { formatDateTime } from "../time";
import { downloadIcs } from "./Done";

export function MyBookingsPage() {
  const { t } = useTranslation();
  const bookings = useQuery({
    queryKey: ["bookings", "mine"],
    queryFn: () => api<Page<Booking>>("/bookings?page_size=100"),
  });
  if (bookings.isPending) return <Loading />;
  if (bookings.isError) return <ErrorNote error={bookings.error} />;
  const now = Date.now();
  const items = [...bookings.data.items].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const upcoming = items.filter((b) => b.status === "confirmed" && Date.parse(b.end) > now);
  const past = items.filter((b) => !upcoming.includes(b)).reverse();
  return (
    <div data-testid="my-bookings">
      <PageTitle>{t("bookings.title")}</PageTitle>
      <h2>{t("bookings.upcoming")}</h2>
      {upcoming.length === 0 ? <p className="muted">{t("bookings.none")}</p> : (
        <ul className="plain cards">{upcoming.map((b) => <Item key={b.id} booking={b} upcoming />)}</ul>
      )}
      <h2>{t("bookings.past")}</h2>
      {past.length === 0 ? <p className="muted">{t("bookings.none")}</p> : (
        <ul className="plain cards">{past.map((b) => <Item key={b.id} booking={b} />)}</ul>
      )}
    </div>
  );
}

function Item({ booking, upcoming = false }: { booking: Booking; upcoming?: boolean }) {
  const { t } = useTranslation();
  const lang = useLang();
  const client = useQueryClient();
  const doctor = useDoctor(booking.doctor_id);
  const [asking, setAsking] = useState(false);
  const cancel = useMutation({
    mutationFn: () => api<Booking>(`/bookings/${booking.id}/cancel`, { method: "POST", body: { reason: "" } }),
    onSuccess: () => {
      setAsking(false);
      client.invalidateQueries({ queryKey: ["bookings"] });
      client.invalidateQueries({ queryKey: ["slots"] });
    },
  });
  const zone = doctor.data?.timezone ?? "Asia/Jakarta";
  return (
    <li className="card" data-testid="booking-item" data-ref={booking.ref} data-status={booking.status}>
      <p><strong>{doctor.data?.name ?? "…"}</strong> <Status status={booking.status} /></p>
      <p>{doctor.data ? formatDateTime(booking.start, zone, lang) : "…"}</p>
      <p className="muted">{doctor.data?.clinic}{doctor.data ? `, ${doctor.data.city}` : ""} · {t("bookings.ref")} <span className="mono">{booking.ref}</span></p>
      {upcoming && (
        <div className="actions">
          {!asking ? (
            <>
              <Link href={`/doctors/${booking.doctor_id}?reschedule=${booking.id}`} className="button"
                data-testid="reschedule-booking">{t("bookings.reschedule")}</Link>
              <button type="button" data-testid="cancel-booking" onClick={() => setAsking(true)}>{t("bookings.cancel")}</button>
              <button type="button" className="link" onClick={() => downloadIcs(booking)}>{t("done.calendar")}</button>
            </>
          ) : (
            <>
              <button type="button" className="danger" data-testid="cancel-confirm" disabled={cancel.isPending}
                onClick={() => cancel.mutate()}>{t("bookings.cancelConfirm")}</button>
              <button type="button" onClick={() => { setAsking(false); cancel.reset(); }}>{t("bookings.keep")}</button>
            </>
          )}
        </div>
      )}
      <ErrorNote error={cancel.error} />
    </li>
  );
}
