import { useState } from "react";
import type { FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useSearch } from "wouter";
import { api, ApiError } from "../api";
import type { Me } from "../api";
import { useSession } from "../auth";
import { ErrorNote, PageTitle, errorText } from "../ui";
import { normaliseWhatsapp, validateLogin, validateSignUp } from "../validate";
import type { Errors } from "../validate";

function home(me: Me): string {
  if (me.role === "doctor") return "/doctor";
  if (me.role === "admin") return "/staff";
  return "/";
}

/** Only paths inside the app: `next` comes from the URL and must not lead elsewhere. */
function safeNext(next: string | null): string | null {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : null;
}

function Field({ id, label, error, ...input }: {
  id: string; label: string; error?: string } & React.InputHTMLAttributes<HTMLInputElement>) {
  const { t } = useTranslation();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined} {...input} />
      {error && <p id={`${id}-error`} className="error">{t(error)}</p>}
    </div>
  );
}

export function LoginPage() {
  const { t } = useTranslation();
  const { signIn } = useSession();
  const [, navigate] = useLocation();
  const next = safeNext(new URLSearchParams(useSearch()).get("next"));
  const [form, setForm] = useState({ email: "", password: "" });
  const [errors, setErrors] = useState<Errors<"email" | "password">>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validateLogin(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setFailure(null);
    try {
      const me = await signIn(form.email.trim(), form.password);
      navigate(me.role === "patient" && next ? next : home(me));
    } catch (error) {
      setFailure(error instanceof ApiError && error.status === 401 ? t("auth.wrong") : errorText(error, t));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle>{t("auth.loginTitle")}</PageTitle>
      <form className="card" onSubmit={submit} noValidate>
        <Field id="email" label={t("auth.email")} type="email" autoComplete="email" data-testid="login-email"
          value={form.email} error={errors.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        <Field id="password" label={t("auth.password")} type="password" autoComplete="current-password"
          data-testid="login-password" value={form.password} error={errors.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })} />
        {failure && <p className="error" role="alert" data-testid="login-error">{failure}</p>}
        <button type="submit" className="primary" data-testid="login-submit" disabled={busy}>{t("auth.login")}</button>
      </form>
      <p>{t("auth.noAccount")} <Link href="/signup">{t("nav.signup")}</Link></p>
    </>
  );
}

export function SignUpPage() {
  const { t, i18n } = useTranslation();
  const { signIn } = useSession();
  const [, navigate] = useLocation();
  const [form, setForm] = useState({ name: "", email: "", whatsapp: "", password: "" });
  const [errors, setErrors] = useState<Errors<keyof typeof form>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const found = validateSignUp(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setFailure(null);
    try {
      await api("/auth/register", {
        method: "POST",
        body: { name: form.name.trim(), email: form.email.trim(), whatsapp: normaliseWhatsapp(form.whatsapp),
          password: form.password, language: i18n.language === "en" ? "en" : "id" },
      });
      // The API answers alike for new and known addresses; signing in tells them apart.
      await signIn(form.email.trim(), form.password);
      navigate("/verify");
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <PageTitle>{t("auth.signupTitle")}</PageTitle>
      <form className="card" onSubmit={submit} noValidate>
        <Field id="name" label={t("auth.name")} autoComplete="name" value={form.name} error={errors.name} onChange={set("name")} />
        <Field id="su-email" label={t("auth.email")} type="email" autoComplete="email" value={form.email}
          error={errors.email} onChange={set("email")} />
        <Field id="whatsapp" label={t("auth.whatsapp")} type="tel" autoComplete="tel" inputMode="tel"
          placeholder="0812 3456 7890" value={form.whatsapp} error={errors.whatsapp} onChange={set("whatsapp")} />
        <Field id="su-password" label={t("auth.password")} type="password" autoComplete="new-password"
          value={form.password} error={errors.password} onChange={set("password")} />
        <ErrorNote error={failure} />
        <button type="submit" className="primary" disabled={busy}>{t("auth.signup")}</button>
      </form>
      <p>{t("auth.haveAccount")} <Link href="/login">{t("nav.login")}</Link></p>
    </>
  );
}

export function VerifyPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const client = useQueryClient();
  const [code, setCode] = useState("");
  const send = useMutation({
    mutationFn: () => api<{ to: string; expires_in: number }>("/auth/whatsapp/verify", { method: "POST", body: {} }),
  });
  const confirm = useMutation({
    mutationFn: () => api("/auth/whatsapp/confirm", { method: "POST", body: { code: code.trim() } }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["me"] }),
  });
  if (me?.whatsapp_verified || confirm.isSuccess) {
    return (
      <>
        <PageTitle>{t("auth.verifyTitle")}</PageTitle>
        <p role="status">{t("auth.verified")}</p>
        <Link href="/" className="button">{t("nav.search")}</Link>
      </>
    );
  }
  return (
    <>
      <PageTitle>{t("auth.verifyTitle")}</PageTitle>
      <div className="card">
        <p>{t("auth.verifyIntro")}</p>
        <button type="button" onClick={() => send.mutate()} disabled={send.isPending}>{t("auth.send")}</button>
        {send.data && <p role="status">{t("auth.sentTo", { to: send.data.to })}</p>}
        <ErrorNote error={send.error} />
        <form onSubmit={(e) => { e.preventDefault(); confirm.mutate(); }}>
          <Field id="code" label={t("auth.code")} inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}"
            maxLength={6} value={code} onChange={(e) => setCode(e.target.value)} />
          <ErrorNote error={confirm.error} />
          <button type="submit" className="primary" disabled={confirm.isPending}>{t("auth.verify")}</button>
        </form>
      </div>
      <Link href="/">{t("auth.later")}</Link>
    </>
  );
}
