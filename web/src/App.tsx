import { lazy, Suspense } from "react";
import { Link, Redirect, Route, Switch, useLocation, useSearch } from "wouter";
import { useTranslation } from "react-i18next";
import { useSession } from "./auth";
import { Loading, PageTitle, WhatsAppLink } from "./ui";
import { SearchPage } from "./pages/Search";
import { DoctorPage } from "./pages/Doctor";
import { ConfirmPage } from "./pages/Confirm";
import { DonePage } from "./pages/Done";
import { MyBookingsPage } from "./pages/MyBookings";
import { LoginPage, SignUpPage, VerifyPage } from "./pages/Account";

// Staff pages are loaded when opened: patients on phones never download them.
const AgendaPage = lazy(() => import("./pages/Agenda"));
const SchedulePage = lazy(() => import("./pages/Schedule"));
const StaffPage = lazy(() => import("./pages/Staff"));
const DoctorsPage = lazy(() => import("./pages/Doctors"));

function Header() {
  const { t, i18n } = useTranslation();
  const { me, signOut } = useSession();
  const [, navigate] = useLocation();
  const other = i18n.language === "en" ? "id" : "en";
  return (
    <header className="top">
      <a className="skip" href="#main">{t("app.skip")}</a>
      <Link href="/" className="brand">{t("app.name")}</Link>
      <nav aria-label="Menu">
        <ul className="menu">
          {(!me || me.role === "patient") && <li><Link href="/">{t("nav.search")}</Link></li>}
          {me?.role === "patient" && <li><Link href="/bookings">{t("nav.bookings")}</Link></li>}
          {me?.role === "doctor" && <li><Link href="/doctor">{t("nav.agenda")}</Link></li>}
          {me?.role === "doctor" && <li><Link href="/doctor/schedule">{t("nav.schedule")}</Link></li>}
          {me?.role === "admin" && <li><Link href="/staff">{t("nav.staff")}</Link></li>}
          {me?.role === "admin" && <li><Link href="/staff/doctors">{t("staff.doctors")}</Link></li>}
          {me?.role === "admin" && <li><a href="/dashboard">{t("nav.dashboard")}</a></li>}
          {!me && <li><Link href="/login">{t("nav.login")}</Link></li>}
          {me && (
            <li>
              <button type="button" className="link" data-testid="logout"
                onClick={async () => { await signOut(); navigate("/"); }}>
                {t("nav.logout")}
              </button>
            </li>
          )}
          <li>
            <button type="button" className="link" lang={other} data-testid="language-switch"
              onClick={() => i18n.changeLanguage(other)}>
              {other === "en" ? "English" : "Bahasa Indonesia"}
            </button>
          </li>
        </ul>
      </nav>
    </header>
  );
}

function NotFound() {
  const { t } = useTranslation();
  return <PageTitle>{t("error.notFound")}</PageTitle>;
}

/** Routes for one role; others are sent to sign in. */
function Only({ role, children }: { role: string; children: React.ReactNode }) {
  const { me, loading } = useSession();
  const [location] = useLocation();
  const search = useSearch();
  if (loading) return <Loading />;
  if (!me || me.role !== role) {
    return <Redirect to={`/login?next=${encodeURIComponent(location + (search ? `?${search}` : ""))}`} />;
  }
  return <>{children}</>;
}

export function App() {
  return (
    <>
      <Header />
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Switch>
            <Route path="/" component={SearchPage} />
            <Route path="/login" component={LoginPage} />
            <Route path="/signup" component={SignUpPage} />
            <Route path="/verify"><Only role="patient"><VerifyPage /></Only></Route>
            <Route path="/doctors/:id" component={DoctorPage} />
            <Route path="/doctors/:id/confirm"><Only role="patient"><ConfirmPage /></Only></Route>
            <Route path="/bookings"><Only role="patient"><MyBookingsPage /></Only></Route>
            <Route path="/bookings/:id/done"><Only role="patient"><DonePage /></Only></Route>
            <Route path="/doctor"><Only role="doctor"><AgendaPage /></Only></Route>
            <Route path="/doctor/schedule"><Only role="doctor"><SchedulePage /></Only></Route>
            <Route path="/staff"><Only role="admin"><StaffPage /></Only></Route>
            <Route path="/staff/doctors"><Only role="admin"><DoctorsPage /></Only></Route>
            <Route path="/staff/doctors/:id/schedule">
              {(params) => <Only role="admin"><SchedulePage doctorId={params.id} /></Only>}
            </Route>
            <Route component={NotFound} />
          </Switch>
        </Suspense>
      </main>
      <footer className="foot"><WhatsAppLink /></footer>
    </>
  );
}
