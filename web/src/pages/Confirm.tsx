import { useMemo, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useLocation, useParams, useSearch } from "wouter";
import { api, ApiError, idempotencyKey } from "../api";
import type { Alternative, Booking } from "../api";
import { Alternatives, ErrorNote, Loading, Money, PageTitle, useDoctor, useLang } from "../ui";
import { formatDateTime, formatTimeZoned } from "../time";
import { useHold } from "./hold";

export function ConfirmPage() {
  const { id } = useParams<{ id: string }>();
  const { t } = useTranslation();
  const lang = useLang();
  const params = new URLSearchParams(useSearch());
  const start = params.get("start") ?? "";
  const until = params.get("until");
  const reschedule = params.get("reschedule");
  const [, navigate] = useLocation();
  const client = useQueryClient();
  const doctor = useDoctor(id);
  const hold = useHold(doctor.data);
  const key = useMemo(() => idempotencyKey(), [start]); // eslint-disable-line react-hooks/exhaustive-deps
  const [alternatives, setAlternatives] = useState<Alternative[] | null>(null);
  const book = useMutation({
    mutationFn: () => reschedule
      ? api<Booking>(`/bookings/${reschedule}/reschedule`, { method: "POST", body: { start } })
      : api<Booking>("/bookings", {
        method: "POST", body: { doctor_id: id, start, source: "web" },
        headers: { "Idempotency-Key": key },
      }),
    onMutate: () => setAlternatives(null),
    onSuccess: (booking) => {
      client.invalidateQueries({ queryKey: ["bookings"] });
      client.invalidateQueries({ queryKey: ["slots"] });
      client.setQueryData(["booking", booking.id], booking);
      navigate(`/bookings/${booking.id}/done`);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.alternatives) setAlternatives(error.alternatives);
    },
  });
  const back = async () => {
    await api("/holds/release", { method: "POST", body: { doctor_id: id, start } }).catch(() => {});
    navigate(`/doctors/${id}${reschedule ? `?reschedule=${reschedule}` : ""}`);
  };
  if (doctor.isPending) return <Loading />;
  if (doctor.isError) return <ErrorNote error={doctor.error} />;
  const d = doctor.data;
  const zone = d.timezone;
  return (
    <>
      <PageTitle>{t("confirm.title")}</PageTitle>
      <dl className="card facts">
        <dt>{t("confirm.doctor")}</dt><dd>{d.name} ({d.specialty_name})</dd>
        <dt>{t("confirm.clinic")}</dt><dd>{d.clinic}, {d.city}</dd>
        {d.address && <><dt>{t("confirm.address")}</dt><dd>{d.address}</dd></>}
        <dt>{t("confirm.when")}</dt><dd data-testid="confirm-when">{formatDateTime(start, zone, lang)}</dd>
        <dt>{t("confirm.fee")}</dt><dd><Money amount={d.fee} /></dd>
      </dl>
      {until && <p className="muted">{t("confirm.held", { time: formatTimeZoned(until, zone) })}</p>}
      {alternatives ? (
        <Alternatives alternatives={alternatives} zone={zone} onPick={(a) => hold.mutate(a.start, a.doctor_id)} />
      ) : book.isError ? <ErrorNote error={book.error} /> : null}
      {hold.view}
      <div className="actions">
        {!alternatives && (
          <button type="button" className="primary" data-testid="confirm-booking"
            disabled={book.isPending} onClick={() => book.mutate()}>
            {reschedule ? t("confirm.reschedule") : t("confirm.confirm")}
          </button>
        )}
        <button type="button" onClick={back}>{t("confirm.back")}</button>
      </div>
    </>
  );
}
