// Times in the clinic's zone (pure: no I/O, no React). The API sends instants with the
// clinic's UTC offset; every time shown goes through here with the doctor's IANA zone.
import { format } from "date-fns";
import { tz } from "@date-fns/tz";
import { id as idLocale } from "date-fns/locale/id";
import { enUS } from "date-fns/locale/en-US";

export type Lang = "id" | "en";
export type PartOfDay = "pagi" | "siang" | "sore" | "malam";
export const PARTS_OF_DAY: PartOfDay[] = ["pagi", "siang", "sore", "malam"];

const ZONE_ABBR: Record<string, string> = {
  "Asia/Jakarta": "WIB",
  "Asia/Pontianak": "WIB",
  "Asia/Makassar": "WITA",
  "Asia/Jayapura": "WIT",
};
const OFFSET_ABBR: Record<number, string> = { 420: "WIB", 480: "WITA", 540: "WIT" };

/** WIB / WITA / WIT for Indonesian zones; "UTC+h" otherwise. */
export function zoneAbbr(zone: string, at: Date = new Date()): string {
  if (ZONE_ABBR[zone]) return ZONE_ABBR[zone];
  const offset = tzOffsetMinutes(zone, at);
  if (OFFSET_ABBR[offset]) return OFFSET_ABBR[offset];
  const h = offset / 60;
  return `UTC${h >= 0 ? "+" : ""}${h}`;
}

/** Minutes east of UTC of `zone` at the instant `at`. */
export function tzOffsetMinutes(zone: string, at: Date): number {
  const local = format(at, "yyyy-MM-dd'T'HH:mm", { in: tz(zone) });
  const asUtc = Date.parse(local + ":00Z");
  return Math.round((asUtc - Math.floor(at.getTime() / 60000) * 60000) / 60000);
}

const locales = { id: idLocale, en: enUS };

function when(iso: string | Date): Date {
  return typeof iso === "string" ? new Date(iso) : iso;
}

/** "09:30" in the zone. */
export function formatTime(iso: string | Date, zone: string): string {
  return format(when(iso), "HH:mm", { in: tz(zone) });
}

/** "09:30 WIB" */
export function formatTimeZoned(iso: string | Date, zone: string): string {
  return `${formatTime(iso, zone)} ${zoneAbbr(zone, when(iso))}`;
}

/** "Senin, 7 Desember 2026" / "Monday, 7 December 2026" */
export function formatDate(iso: string | Date, zone: string, lang: Lang): string {
  return format(when(iso), "EEEE, d MMMM yyyy", { in: tz(zone), locale: locales[lang] });
}

/** "Sen 7 Des" — a day-picker label. */
export function formatDayShort(key: string, lang: Lang): string {
  // A date key is a calendar date: format it at noon UTC, in UTC, so no zone shifts it.
  return format(new Date(key + "T12:00:00Z"), "EEE d MMM", { in: tz("UTC"), locale: locales[lang] });
}

/** "Senin, 7 Desember 2026, 09:30 WIB" */
export function formatDateTime(iso: string | Date, zone: string, lang: Lang): string {
  return `${formatDate(iso, zone, lang)}, ${formatTimeZoned(iso, zone)}`;
}

/** The clinic-local calendar date ("2026-12-07") of an instant. */
export function localDateKey(iso: string | Date, zone: string): string {
  return format(when(iso), "yyyy-MM-dd", { in: tz(zone) });
}

/** Today's date in the zone. */
export function todayKey(zone: string, now: Date = new Date()): string {
  return localDateKey(now, zone);
}

/** Calendar arithmetic on date keys (no zone involved). */
export function addDaysKey(key: string, days: number): string {
  const d = new Date(key + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** pagi < 11:00 ≤ siang < 15:00 ≤ sore < 18:00 ≤ malam, by the clinic's clock. */
export function partOfDay(iso: string | Date, zone: string): PartOfDay {
  const hour = Number(format(when(iso), "H", { in: tz(zone) }));
  if (hour < 11) return "pagi";
  if (hour < 15) return "siang";
  if (hour < 18) return "sore";
  return "malam";
}

export interface Slot {
  start: string;
  end: string;
}

export interface DayGroup {
  date: string;
  slots: Slot[];
}

/** Slots grouped by clinic-local date, in time order; optionally one part of the day only. */
export function groupSlotsByDay(slots: Slot[], zone: string, part?: PartOfDay | ""): DayGroup[] {
  const byDay = new Map<string, Slot[]>();
  const sorted = [...slots].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  for (const slot of sorted) {
    if (part && partOfDay(slot.start, zone) !== part) continue;
    const key = localDateKey(slot.start, zone);
    const list = byDay.get(key);
    if (list) list.push(slot);
    else byDay.set(key, [slot]);
  }
  return [...byDay.entries()].map(([date, daySlots]) => ({ date, slots: daySlots }));
}

/** The 7 date keys of the week starting at `first`. */
export function weekKeys(first: string): string[] {
  return Array.from({ length: 7 }, (_, i) => addDaysKey(first, i));
}
