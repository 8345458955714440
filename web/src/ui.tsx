// Small shared pieces: catalogue lookups, money, errors, status, alternatives, WhatsApp link.
import { useEffect, useRef } from "react";
import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ApiError } from "./api";
import i18n from "./i18n";
import type { Alternative, Catalog, Doctor } from "./api";
import { formatDateTime } from "./time";
import type { Lang } from "./time";
import { norm } from "./validate";

export function useLang(): Lang {
  const { i18n } = useTranslation();
  return i18n.language === "en" ? "en" : "id";
}

export function useCatalog() {
  return useQuery({ queryKey: ["catalog"], queryFn: () => api<Catalog>("/catalog"), staleTime: Infinity });
}

export function useDoctor(id: string | undefined) {
  return useQuery({
    queryKey: ["doctor", id],
    queryFn: () => api<Doctor>(`/doctors/${encodeURIComponent(id!)}`),
    enabled: Boolean(id),
    staleTime: 5 * 60_000,
  });
}

/** A specialty as typed (name, code or one of the bot's synonyms) -> its code. */
export function specialtyCode(catalog: Catalog | undefined, text: string): string | null {
  const t = norm(text);
  if (!t || !catalog) return null;
  for (const s of catalog.specialties) {
    if ([s.code, s.name_id, s.name_en, ...s.synonyms].some((x) => norm(x) === t)) return s.code;
  }
  return null;
}

/** A city as typed (name or alias) -> its name. */
export function cityName(catalog: Catalog | undefined, text: string): string | null {
  const t = norm(text);
  if (!t || !catalog) return null;
  for (const c of catalog.cities) {
    if ([c.name, ...c.aliases].some((x) => norm(x) === t)) return c.name;
  }
  return null;
}

export function Money({ amount }: { amount: number }) {
  return <>{"Rp " + amount.toLocaleString("id-ID")}</>;
}

export function Loading() {
  const { t } = useTranslation();
  return <p className="muted" role="status">{t("loading")}</p>;
}

/** The API's refusals in the patient's language; its own words when there is no translation
 * (they are plain English sentences, e.g. the cut-off rule). */
export function errorText(error: unknown, t: (k: string, o?: Record<string, unknown>) => string): string {
  if (error instanceof ApiError) {
    const key = `apiError.${error.error}`;
    const minutes = Number(error.details.cutoff_minutes);
    if (i18n.exists(key) && (error.error !== "cutoff_passed" || minutes > 0)) {
      return t(key, { hours: Math.round(minutes / 60) });
    }
    return error.message || t("error.generic");
  }
  if (error instanceof TypeError) return t("error.offline");
  return t("error.generic");
}

export function ErrorNote({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  return <p className="error" role="alert">{errorText(error, t)}</p>;
}

export function Status({ status }: { status: string }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${status}`}>{t(`status.${status}`)}</span>;
}

/** Page title that takes the focus on navigation (screen readers hear where they are). */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return <h1 tabIndex={-1} ref={ref}>{children}</h1>;
}

export function Alternatives({ alternatives, zone, onPick }: {
  alternatives: Alternative[];
  zone: string;
  onPick(a: Alternative): void;
}) {
  const { t } = useTranslation();
  const lang = useLang();
  return (
    <section className="notice" aria-live="polite" data-testid="alternatives">
      <p>{alternatives.length ? t("confirm.taken") : t("confirm.noAlternatives")}</p>
      <ul className="plain">
        {alternatives.map((a) => (
          <li key={a.doctor_id + a.start}>
            <button type="button" className="slot" data-testid="alternative-slot" onClick={() => onPick(a)}>
              {a.doctor_name} · {formatDateTime(a.start, zone, lang)}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

const WHATSAPP_NUMBER = (import.meta.env.VITE_WHATSAPP_NUMBER as string | undefined) ?? "";

export function WhatsAppLink() {
  const { t } = useTranslation();
  const text = encodeURIComponent(t("chat.text"));
  const href = `https://wa.me/${WHATSAPP_NUMBER}?text=${text}`;
  return (
    <a className="wa" href={href} target="_blank" rel="noopener noreferrer" data-testid="whatsapp-link">
      {t("chat.whatsapp")}
    </a>
  );
}
