import { describe, expect, it } from "vitest";
import {
  addDaysKey, formatDate, formatDateTime, formatTimeZoned, groupSlotsByDay, localDateKey,
  partOfDay, todayKey, weekKeys, zoneAbbr,
} from "./time";

describe("zones", () => {
  it("names the Indonesian zones", () => {
    expect(zoneAbbr("Asia/Jakarta")).toBe("WIB");
    expect(zoneAbbr("Asia/Pontianak")).toBe("WIB");
    expect(zoneAbbr("Asia/Makassar")).toBe("WITA");
    expect(zoneAbbr("Asia/Jayapura")).toBe("WIT");
    expect(zoneAbbr("Asia/Singapore")).toBe("WITA"); // +08:00, by offset
    expect(zoneAbbr("Europe/London", new Date("2026-07-01T00:00:00Z"))).toBe("UTC+1");
  });

  it("shows one instant in each clinic's clock", () => {
    const instant = "2026-12-07T02:30:00Z";
    expect(formatTimeZoned(instant, "Asia/Jakarta")).toBe("09:30 WIB");
    expect(formatTimeZoned(instant, "Asia/Makassar")).toBe("10:30 WITA");
    expect(formatTimeZoned(instant, "Asia/Jayapura")).toBe("11:30 WIT");
    // the offset the API sends does not matter: the zone decides
    expect(formatTimeZoned("2026-12-07T11:30:00+09:00", "Asia/Jakarta")).toBe("09:30 WIB");
  });

  it("writes dates in Indonesian and English", () => {
    expect(formatDate("2026-12-07T02:30:00Z", "Asia/Jakarta", "id")).toBe("Senin, 7 Desember 2026");
    expect(formatDate("2026-12-07T02:30:00Z", "Asia/Jakarta", "en")).toBe("Monday, 7 December 2026");
    expect(formatDateTime("2026-12-07T02:30:00Z", "Asia/Jayapura", "id"))
      .toBe("Senin, 7 Desember 2026, 11:30 WIT");
  });

  it("finds the local date across midnight", () => {
    // 23:30 in Jakarta on the 6th is already the 7th in Jayapura
    const instant = "2026-12-06T16:30:00Z";
    expect(localDateKey(instant, "Asia/Jakarta")).toBe("2026-12-06");
    expect(localDateKey(instant, "Asia/Jayapura")).toBe("2026-12-07");
    expect(todayKey("Asia/Jayapura", new Date(instant))).toBe("2026-12-07");
  });

  it("does calendar arithmetic on date keys", () => {
    expect(addDaysKey("2026-12-30", 3)).toBe("2027-01-02");
    expect(addDaysKey("2028-02-28", 1)).toBe("2028-02-29");
    expect(weekKeys("2026-12-07")).toEqual(["2026-12-07", "2026-12-08", "2026-12-09",
      "2026-12-10", "2026-12-11", "2026-12-12", "2026-12-13"]);
  });
});

describe("slots", () => {
  const zone = "Asia/Makassar"; // WITA, UTC+8
  const at = (utc: string) => ({ start: utc, end: utc });
  const slots = [
    at("2026-12-08T01:00:00Z"), // 09:00 on the 8th
    at("2026-12-07T08:00:00Z"), // 16:00 on the 7th
    at("2026-12-07T01:00:00Z"), // 09:00 on the 7th
    at("2026-12-07T04:00:00Z"), // 12:00 on the 7th
    at("2026-12-07T17:00:00Z"), // 01:00 on the 8th (local date differs from UTC date)
  ];

  it("parts of the day follow the bot's bounds", () => {
    expect(partOfDay("2026-12-07T01:00:00Z", zone)).toBe("pagi");
    expect(partOfDay("2026-12-07T02:59:00Z", zone)).toBe("pagi");
    expect(partOfDay("2026-12-07T03:00:00Z", zone)).toBe("siang");
    expect(partOfDay("2026-12-07T07:00:00Z", zone)).toBe("sore");
    expect(partOfDay("2026-12-07T10:00:00Z", zone)).toBe("malam");
  });

  it("groups by clinic-local day, in time order", () => {
    const groups = groupSlotsByDay(slots, zone);
    expect(groups.map((g) => g.date)).toEqual(["2026-12-07", "2026-12-08"]);
    expect(groups[0].slots.map((s) => s.start)).toEqual([
      "2026-12-07T01:00:00Z", "2026-12-07T04:00:00Z", "2026-12-07T08:00:00Z"]);
    expect(groups[1].slots.map((s) => s.start)).toEqual([
      "2026-12-07T17:00:00Z", "2026-12-08T01:00:00Z"]);
  });

  it("keeps one part of the day only", () => {
    const groups = groupSlotsByDay(slots, zone, "pagi");
    expect(groups.flatMap((g) => g.slots.map((s) => s.start))).toEqual([
      "2026-12-07T01:00:00Z", "2026-12-07T17:00:00Z", "2026-12-08T01:00:00Z"]);
    expect(groupSlotsByDay(slots, zone, "malam")).toEqual([]);
  });
});
