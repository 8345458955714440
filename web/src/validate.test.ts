import { describe, expect, it } from "vitest";
import { normaliseWhatsapp, validateLogin, validateRange, validateSignUp } from "./validate";

describe("whatsapp numbers", () => {
  it("normalises the ways Indonesians write them", () => {
    expect(normaliseWhatsapp("0812-3456-7890")).toBe("6281234567890");
    expect(normaliseWhatsapp("+62 812 3456 7890")).toBe("6281234567890");
    expect(normaliseWhatsapp("81234567890")).toBe("6281234567890");
    expect(normaliseWhatsapp("6281234567890")).toBe("6281234567890");
  });
  it("refuses what is not a mobile number", () => {
    expect(normaliseWhatsapp("021-555-1234")).toBeNull(); // a Jakarta landline
    expect(normaliseWhatsapp("0812")).toBeNull();
    expect(normaliseWhatsapp("0812abc45678")).toBeNull();
  });
});

describe("forms", () => {
  const good = { name: "Rina", email: "rina@example.id", whatsapp: "081234567890", password: "rahasia123" };
  it("accepts a complete sign-up", () => {
    expect(validateSignUp(good)).toEqual({});
  });
  it("names each wrong field", () => {
    expect(validateSignUp({ name: " R ", email: "rina@", whatsapp: "12", password: "short" })).toEqual({
      name: "validation.name", email: "validation.email", whatsapp: "validation.whatsapp",
      password: "validation.password",
    });
    expect(validateLogin({ email: "x@y.id", password: "" })).toEqual({ password: "validation.required" });
  });
  it("checks schedule ranges", () => {
    expect(validateRange({ start: "08:00", end: "12:00" })).toBeNull();
    expect(validateRange({ start: "12:00", end: "08:00" })).toBe("validation.range");
    expect(validateRange({ start: "", end: "08:00" })).toBe("validation.time");
  });
});
