// The REST API client: JSON, the access token as Bearer, and one renewal with the single-use
// refresh token on a 401 (like the dashboard: a refresh token used twice revokes the session,
// so concurrent 401s share one renewal).
const ACCESS_KEY = "klinik.web.access";
const REFRESH_KEY = "klinik.web.refresh";

export interface Tokens {
  access_token: string;
  refresh_token: string;
  role: "patient" | "doctor" | "admin";
  user_id: string;
}

export interface Alternative {
  doctor_id: string;
  doctor_name: string;
  start: string;
  end: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public error: string,
    message: string,
    public details: Record<string, unknown> = {},
    public alternatives: Alternative[] | null = null,
  ) {
    super(message);
  }
}

export const tokens = {
  access: () => sessionStorage.getItem(ACCESS_KEY),
  refresh: () => sessionStorage.getItem(REFRESH_KEY),
  save(t: Tokens) {
    sessionStorage.setItem(ACCESS_KEY, t.access_token);
    sessionStorage.setItem(REFRESH_KEY, t.refresh_token);
  },
  clear() {
    sessionStorage.removeItem(ACCESS_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
  },
};

let renewal: Promise<boolean> | null = null;
let onSignedOut: () => void = () => {};
export function whenSignedOut(callback: () => void) {
  onSignedOut = callback;
}

function renew(): Promise<boolean> {
  if (renewal) return renewal;
  const refresh = tokens.refresh();
  if (!refresh) return Promise.resolve(false);
  renewal = fetch("/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: refresh }),
  })
    .then(async (resp) => {
      if (!resp.ok) {
        tokens.clear();
        onSignedOut();
        return false;
      }
      tokens.save(await resp.json());
      return true;
    })
    .catch(() => false)
    .finally(() => {
      renewal = null;
    });
  return renewal;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: boolean; // return the Response (non-JSON bodies)
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  const access = tokens.access();
  if (access) headers.Authorization = "Bearer " + access;
  let body: BodyInit | undefined;
  if (opts.body instanceof Blob) {
    body = opts.body; // an upload (a doctor's photo): the bytes as they are
    headers["Content-Type"] = opts.body.type || "application/octet-stream";
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] = "application/json";
  }
  return fetch(path, { method: opts.method ?? "GET", headers, body });
}

// A 401 from these is the answer itself (wrong password, spent token), not an expired access.
const NO_RENEWAL = new Set(["/auth/login", "/auth/refresh", "/auth/logout", "/auth/register"]);

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  let resp = await send(path, opts);
  if (resp.status === 401 && tokens.refresh() && !NO_RENEWAL.has(path)) {
    if (await renew()) resp = await send(path, opts);
  }
  if (!resp.ok) {
    let body: Record<string, unknown> = {};
    try {
      body = await resp.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(
      resp.status,
      String(body.error ?? "http_error"),
      String(body.message ?? resp.statusText),
      (body.details as Record<string, unknown>) ?? {},
      (body.alternatives as Alternative[]) ?? null,
    );
  }
  if (opts.raw) return resp as unknown as T;
  if (resp.status === 204) return undefined as T;
  return (await resp.json()) as T;
}

/** A random Idempotency-Key: a retried confirmation returns the first booking. */
export function idempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- response shapes ----------------------------------------------------------------
export interface Doctor {
  id: string;
  name: string;
  specialty: string;
  specialty_name: string;
  city: string;
  clinic: string;
  address: string;
  timezone: string;
  fee: number;
  languages: string[];
  slot_minutes: number;
  active: boolean;
  photo_url: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export interface SlotsOut {
  doctor_id: string;
  timezone: string;
  slots: { start: string; end: string }[];
}

export interface Booking {
  id: string;
  ref: string;
  doctor_id: string;
  patient_id: string;
  start: string;
  end: string;
  status: "confirmed" | "cancelled" | "completed" | "no_show" | "rescheduled";
  source: string;
  cancel_reason: string | null;
  rescheduled_from: string | null;
  rescheduled_to: string | null;
  created_at: string;
}

export interface Me {
  id: string;
  name: string;
  email: string | null;
  whatsapp: string | null;
  whatsapp_verified: boolean;
  role: "patient" | "doctor" | "admin";
  doctor_id: string | null;
  language: string;
}

export interface Catalog {
  specialties: { code: string; name_id: string; name_en: string; synonyms: string[] }[];
  cities: { name: string; timezone: string; aliases: string[] }[];
}

export interface AgendaItem {
  id: string;
  ref: string;
  start: string;
  end: string;
  status: Booking["status"];
  patient_id: string;
  patient_name: string;
}

export interface Agenda {
  doctor_id: string;
  date: string;
  items: AgendaItem[];
}

export interface TimeRangeOut {
  start: string;
  end: string;
}

export interface Schedule {
  doctor_id?: string;
  timezone: string;
  slot_minutes: number;
  buffer_minutes: number;
  min_notice_minutes: number;
  horizon_days: number;
  weekly: (TimeRangeOut & { weekday: number })[];
  breaks: (TimeRangeOut & { weekdays: number[] })[];
  overrides: { date: string; ranges: TimeRangeOut[] }[];
  days_off: string[];
}
