// Form validation (pure). Mirrors the API's rules so most mistakes are caught before a
// round trip; the API stays the authority (its 422 messages are shown too).
export type Errors<K extends string> = Partial<Record<K, string>>;

export const EMAIL = /^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;

/** Phone numbers as E.164 digits: 0812..., +62 812..., 812... -> 62812... (Indonesia by
 * default, like the API); other countries with their code. */
export function normaliseWhatsapp(raw: string): string | null {
  let digits = raw.replace(/[\s\-().]/g, "");
  if (digits.startsWith("+")) digits = digits.slice(1);
  if (!/^\d+$/.test(digits)) return null;
  if (digits.startsWith("0")) digits = "62" + digits.slice(1);
  else if (digits.startsWith("8")) digits = "62" + digits;
  if (digits.startsWith("62") && !digits.startsWith("628")) return null; // not a mobile
  if (digits.length < 10 || digits.length > 15) return null;
  return digits;
}

export interface SignUp {
  name: string;
  email: string;
  whatsapp: string;
  password: string;
}

/** Error keys are i18n keys (validation.*). */
export function validateSignUp(form: SignUp): Errors<keyof SignUp> {
  const errors: Errors<keyof SignUp> = {};
  if (form.name.trim().length < 2) errors.name = "validation.name";
  if (!EMAIL.test(form.email.trim())) errors.email = "validation.email";
  if (normaliseWhatsapp(form.whatsapp) === null) errors.whatsapp = "validation.whatsapp";
  if (form.password.length < 8) errors.password = "validation.password";
  return errors;
}

export function validateLogin(form: { email: string; password: string }): Errors<"email" | "password"> {
  const errors: Errors<"email" | "password"> = {};
  if (!EMAIL.test(form.email.trim())) errors.email = "validation.email";
  if (!form.password) errors.password = "validation.required";
  return errors;
}

export interface TimeRange {
  start: string; // "HH:MM"
  end: string;
}

/** A schedule row: both times given and the end after the start. */
export function validateRange(range: TimeRange): string | null {
  const ok = /^\d{2}:\d{2}(:\d{2})?$/;
  if (!ok.test(range.start) || !ok.test(range.end)) return "validation.time";
  if (range.end.slice(0, 5) <= range.start.slice(0, 5)) return "validation.range";
  return null;
}

/** Normalise a free-text catalogue entry (the bot's synonyms): lower case, single spaces. */
export function norm(text: string): string {
  return text.toLowerCase().replace(/\s+/g, " ").trim();
}
