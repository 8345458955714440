/* Klinik analytics dashboard: sign in with the API's JWT, fetch GET /analytics, draw it.
   No framework; Chart.js (from npm, served by the app) draws the charts. */
(function () {
  "use strict";

  var TOKEN_KEY = "klinik.analytics.token";
  var REFRESH_KEY = "klinik.analytics.refresh";
  var SOURCE_COLORS = { whatsapp: "#25a162", web: "#2f6fdb", mobile: "#f29e1f", admin: "#8a56c9",
                        unknown: "#999999" };
  var PALETTE = ["#0b7a5c", "#2f6fdb", "#f29e1f", "#8a56c9", "#d94862", "#3fb5c9", "#7d8b99",
                 "#b5c93f", "#c97d3f", "#4c5fd5"];
  var charts = {};
  var lastData = null;
  var $ = function (id) { return document.getElementById(id); };

  // ---- formatting (the test compares these strings with the API's numbers) -------------
  function pct(r) { return r === null || r === undefined ? "–" : (r * 100).toFixed(1) + "%"; }
  function num(n) { return n === null || n === undefined ? "–" : String(n); }
  function ms(n) { return n === null || n === undefined ? "–" : Math.round(n) + " ms"; }
  function hrs(n) { return n === null || n === undefined ? "–" : n.toFixed(1) + " h"; }

  function isoDate(d) {
    var m = String(d.getMonth() + 1).padStart(2, "0");
    return d.getFullYear() + "-" + m + "-" + String(d.getDate()).padStart(2, "0");
  }

  // ---- auth --------------------------------------------------------------------------
  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function remember(tokens) {
    sessionStorage.setItem(TOKEN_KEY, tokens.access_token);
    sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  }

  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
  }

  // Access tokens live minutes; the single-use refresh token buys a new pair, so an admin
  // who keeps the page open is not sent back to the sign-in form. One renewal at a time:
  // a refresh token used twice is refused by the API.
  var renewal = null;
  function renewTokens() {
    if (renewal) { return renewal; }
    var refresh = sessionStorage.getItem(REFRESH_KEY);
    if (!refresh) { return Promise.resolve(false); }
    renewal = fetch("/auth/refresh", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refresh })
    }).then(function (resp) {
      if (!resp.ok) { return false; }
      return resp.json().then(function (tokens) { remember(tokens); return true; });
    }).catch(function () { return false; }).finally(function () { renewal = null; });
    return renewal;
  }

  // GET with the access token; on 401 renew once and retry.
  async function authorizedGet(url) {
    var resp = await fetch(url, { headers: { Authorization: "Bearer " + token() } });
    if (resp.status === 401 && await renewTokens()) {
      resp = await fetch(url, { headers: { Authorization: "Bearer " + token() } });
    }
    return resp;
  }

  function logout() {
    var refresh = sessionStorage.getItem(REFRESH_KEY);
    if (refresh) {   // revoke it server-side; the page forgets both tokens either way
      fetch("/auth/logout", { method: "POST", headers: { "Content-Type": "application/json" },
                              body: JSON.stringify({ refresh_token: refresh }) })
        .catch(function () { /* offline: the token still expires on its own */ });
    }
    showLogin();
  }

  function showLogin(message) {
    forget();
    $("dashboard-view").hidden = true;
    $("logout").hidden = true;
    $("login-view").hidden = false;
    document.body.dataset.state = "login";
    var err = $("login-error");
    err.hidden = !message;
    err.textContent = message || "";
  }

  function showDashboard() {
    $("login-view").hidden = true;
    $("dashboard-view").hidden = false;
    $("logout").hidden = false;
  }

  async function login(event) {
    event.preventDefault();
    var body = JSON.stringify({ email: $("email").value.trim(), password: $("password").value });
    var resp;
    try {
      resp = await fetch("/auth/login", { method: "POST", body: body,
                                          headers: { "Content-Type": "application/json" } });
    } catch (e) {
      showLogin("Cannot reach the server.");
      return;
    }
    if (!resp.ok) {
      showLogin(resp.status === 429 ? "Too many attempts, wait a minute." :
                "Wrong email or password.");
      return;
    }
    var data = await resp.json();
    if (data.role && data.role !== "admin") {
      showLogin("This page is for clinic admins.");
      return;
    }
    remember(data);
    $("password").value = "";
    showDashboard();
    load();
  }

  // ---- data --------------------------------------------------------------------------
  function params() {
    var p = new URLSearchParams();
    p.set("from", $("f-from").value);
    p.set("to", $("f-to").value);
    p.set("tz", $("f-tz").value);
    [["city", "f-city"], ["specialty", "f-specialty"], ["doctor_id", "f-doctor"]].forEach(
      function (pair) { if ($(pair[1]).value) { p.set(pair[0], $(pair[1]).value); } });
    return p;
  }

  async function load(event) {
    if (event) { event.preventDefault(); }
    if (!token()) { showLogin(); return; }
    document.body.dataset.state = "loading";
    $("status").textContent = "Loading…";
    var resp;
    try {
      resp = await authorizedGet("/analytics?" + params().toString());
    } catch (e) {
      $("status").textContent = "Cannot reach the server.";
      document.body.dataset.state = "error";
      return;
    }
    if (resp.status === 401 || resp.status === 403) {
      showLogin(resp.status === 403 ? "This page is for clinic admins." :
                "Your session has ended, sign in again.");
      return;
    }
    var data = await resp.json();
    if (!resp.ok) {
      $("status").textContent = data.message || ("Error " + resp.status);
      document.body.dataset.state = "error";
      return;
    }
    lastData = data;
    render(data);
    $("status").textContent = "";
    document.body.dataset.state = "ready";
  }

  // ---- rendering -----------------------------------------------------------------------
  function fillOptions(data) {
    var opts = data.options || { cities: [], specialties: [], doctors: [] };
    var keep = function (sel, items, label) {
      var current = sel.value;
      sel.replaceChildren(new Option(label, ""));
      items.forEach(function (it) { sel.add(new Option(it[1], it[0])); });
      sel.value = current;
    };
    keep($("f-city"), opts.cities.map(function (c) { return [c, c]; }), "All cities");
    keep($("f-specialty"), opts.specialties.map(function (s) { return [s, s]; }),
         "All specialties");
    keep($("f-doctor"), opts.doctors.map(function (d) {
      return [d.id, d.name + " (" + d.city + ")"]; }), "All doctors");
  }

  function kpi(name, label, value, raw, hint) {
    var el = document.createElement("div");
    el.className = "kpi";
    el.dataset.metric = name;
    var l = document.createElement("div"); l.className = "label"; l.textContent = label;
    var v = document.createElement("div"); v.className = "value"; v.id = "kpi-" + name;
    v.textContent = value; v.dataset.value = JSON.stringify(raw === undefined ? null : raw);
    var h = document.createElement("div"); h.className = "hint"; h.textContent = hint || "";
    el.append(l, v, h);
    return el;
  }

  function renderKpis(m) {
    var box = $("kpis");
    box.replaceChildren(
      kpi("bookings_total", "New bookings", num(m.bookings_per_day.value.total),
          m.bookings_per_day.value.total, note(m.bookings_per_day)),
      kpi("cancellation_rate", m.cancellation_rate.title, pct(m.cancellation_rate.value.rate),
          m.cancellation_rate.value.rate, note(m.cancellation_rate)),
      kpi("reschedule_rate", m.reschedule_rate.title, pct(m.reschedule_rate.value.rate),
          m.reschedule_rate.value.rate, note(m.reschedule_rate)),
      kpi("no_show_rate", m.no_show_rate.title, pct(m.no_show_rate.value.rate),
          m.no_show_rate.value.rate, note(m.no_show_rate)),
      kpi("median_lead_time", m.median_lead_time.title, hrs(m.median_lead_time.value.hours),
          m.median_lead_time.value.hours, note(m.median_lead_time)),
      kpi("bot_p50", "Bot reply p50", ms(m.bot_response_time.value.p50_ms),
          m.bot_response_time.value.p50_ms, note(m.bot_response_time)),
      kpi("bot_p95", "Bot reply p95", ms(m.bot_response_time.value.p95_ms),
          m.bot_response_time.value.p95_ms, note(m.bot_response_time)),
      kpi("nlu_fallback_rate", m.nlu_fallback_rate.title, pct(m.nlu_fallback_rate.value.rate),
          m.nlu_fallback_rate.value.rate, note(m.nlu_fallback_rate)),
      kpi("conversion", m.conversion.title, pct(m.conversion.value.rate),
          m.conversion.value.rate, note(m.conversion))
    );
  }

  // Chat metrics are network-wide (messages carry no doctor): with a filter set, say so
  // rather than let a filtered-looking chart mislead.
  var UNFILTERED = " Covers all clinics: the filters do not apply.";
  var filtered = false;
  function note(def) {
    return def.description + (filtered && def.scope === "clinic" ? UNFILTERED : "");
  }

  function describe(m) {
    document.querySelectorAll("[data-metric]").forEach(function (card) {
      var def = m[card.dataset.metric];
      if (!def || card.classList.contains("kpi")) { return; }
      var h = card.querySelector("h2"); if (h) { h.textContent = def.title; }
      var d = card.querySelector(".desc"); if (d) { d.textContent = note(def); }
    });
  }

  function draw(id, config) {
    if (charts[id]) { charts[id].destroy(); }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false,
                                     animation: false,
                                     plugins: { legend: { position: "bottom" } } },
                                   config.options || {});
    charts[id] = new window.Chart($(id), config);
  }

  function sourceDatasets(series) {
    return Object.keys(series).map(function (s) {
      return { label: s, data: series[s], backgroundColor: SOURCE_COLORS[s] || "#999" };
    });
  }

  var counts = { plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } };
  function shortDay(d) { return d.slice(5); }  // "2026-12-07" -> "12-07": fits a phone

  var stacked = { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
                                                        ticks: { precision: 0 } } } };

  // Doctor photos are served by this app (/photos/...): same origin, allowed by the CSP.
  function avatar(url) {
    var img = document.createElement("img");
    img.className = "avatar"; img.alt = ""; img.loading = "lazy";
    img.width = 28; img.height = 28; img.src = url;
    return img;
  }

  function photoOf(doctorId) {
    var opts = (lastData && lastData.options) || { doctors: [] };
    var d = opts.doctors.find(function (x) { return x.id === doctorId; });
    var url = d && d.photo_url;
    return typeof url === "string" && url.indexOf("/photos/") === 0 ? url : null;
  }

  function table(id, headers, rows) {
    var t = $(id);
    var head = document.createElement("thead");
    var tr = document.createElement("tr");
    headers.forEach(function (h) {
      var th = document.createElement("th"); th.textContent = h; tr.append(th); });
    head.append(tr);
    var body = document.createElement("tbody");
    rows.forEach(function (r) {
      var row = document.createElement("tr");
      r.forEach(function (cell) {
        var td = document.createElement("td");
        if (cell && typeof cell === "object") {  // {text, photo}: a doctor with a picture
          if (cell.photo) { td.append(avatar(cell.photo)); }
          td.append(document.createTextNode(cell.text));
        } else { td.textContent = cell; }
        row.append(td); });
      body.append(row);
    });
    t.replaceChildren(head, body);
  }

  function render(data) {
    var m = data.metrics;
    var q = data.query || {};
    filtered = Boolean(q.city || q.specialty || q.doctor_id);
    fillOptions(data);
    describe(m);
    renderKpis(m);
    if (!window.Chart) {
      $("status").textContent = "Charts unavailable (Chart.js not installed); tables only.";
    } else {
      var day = m.bookings_per_day.value, week = m.bookings_per_week.value;
      draw("chart-bookings-day", { type: "bar", options: stacked,
        data: { labels: day.days.map(shortDay), datasets: sourceDatasets(day.series) } });
      draw("chart-bookings-week", { type: "bar", options: stacked,
        data: { labels: week.weeks, datasets: sourceDatasets(week.series) } });
      var msg = m.messages_per_day.value;
      draw("chart-messages", { type: "line", data: { labels: msg.days.map(shortDay), datasets: [
        { label: "in (patients)", data: msg["in"], borderColor: "#2f6fdb",
          backgroundColor: "#2f6fdb" },
        { label: "out (bot)", data: msg.out, borderColor: "#25a162",
          backgroundColor: "#25a162" }] },
        options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } } });
      var wd = m.busiest_weekdays.value;
      draw("chart-weekdays", { type: "bar", data: { labels: wd.map(function (w) {
        return w.name.slice(0, 3); }), datasets: [{ label: "appointments",
        data: wd.map(function (w) { return w.appointments; }), backgroundColor: "#0b7a5c" }] },
        options: counts });
      var hr = m.busiest_hours.value;
      draw("chart-hours", { type: "bar", data: { labels: hr.map(function (h) {
        return String(h.hour).padStart(2, "0"); }), datasets: [{ label: "appointments",
        data: hr.map(function (h) { return h.appointments; }), backgroundColor: "#2f6fdb" }] },
        options: counts });
      var rem = m.reminder_outcomes.value;
      var remKeys = Object.keys(rem).filter(function (k) { return k !== "total"; });
      draw("chart-reminders", { type: "doughnut", data: { labels: remKeys, datasets: [{
        data: remKeys.map(function (k) { return rem[k]; }), backgroundColor: PALETTE }] } });
      var intents = m.top_intents.value;
      draw("chart-intents", { type: "bar", data: { labels: intents.map(function (i) {
        return i.intent; }), datasets: [{ label: "messages", data: intents.map(function (i) {
        return i.count; }), backgroundColor: "#8a56c9" }] },
        options: { indexAxis: "y", plugins: { legend: { display: false } },
                   scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
      var spec = m.cancellation_rate.value.by_specialty;
      draw("chart-specialty", { type: "bar", data: { labels: spec.map(function (s) {
        return s.specialty; }), datasets: [{ label: "cancellation rate %",
        data: spec.map(function (s) { return s.cancellation_rate === null ? 0 :
          s.cancellation_rate * 100; }), backgroundColor: "#d94862" }] },
        options: { plugins: { legend: { display: false } },
                   scales: { y: { beginAtZero: true } } } });
    }
    table("table-intents", ["Intent", "Messages", "Share"], m.top_intents.value.map(
      function (i) { return [i.intent, num(i.count), pct(i.share)]; }));
    table("table-specialty", ["Specialty", "Appointments", "Cancelled", "Rate"],
      m.cancellation_rate.value.by_specialty.map(function (s) {
        return [s.specialty, num(s.appointments), num(s.cancelled), pct(s.cancellation_rate)];
      }));
    table("table-doctors", ["Doctor", "City", "Specialty", "Appointments", "Cancelled",
                            "Cancel %", "Rescheduled", "Resched. %", "Completed", "No-show",
                            "No-show %"],
      m.per_doctor.value.map(function (d) {
        return [{ text: d.name, photo: photoOf(d.doctor_id) }, d.city || "", d.specialty || "",
                num(d.appointments), num(d.cancelled),
                pct(d.cancellation_rate), num(d.rescheduled), pct(d.reschedule_rate),
                num(d.completed), num(d.no_show), pct(d.no_show_rate)];
      }));
    $("generated").textContent = "Generated " + data.generated_at +
      (data.cached ? " (cached)" : "") + " · times in " + data.query.tz;
  }

  // ---- start -----------------------------------------------------------------------------
  function init() {
    var today = new Date();
    var from = new Date(today.getTime() - 29 * 86400000);
    $("f-from").value = isoDate(from);
    $("f-to").value = isoDate(today);
    var qs = new URLSearchParams(window.location.search);
    ["from", "to", "tz"].forEach(function (k) { if (qs.get(k)) { $("f-" + k).value = qs.get(k); } });
    $("login-form").addEventListener("submit", login);
    $("filters").addEventListener("submit", load);
    $("logout").addEventListener("click", logout);
    if (token()) { showDashboard(); load(); } else { showLogin(); }
  }

  window.klinikDashboard = { data: function () { return lastData; } };
  init();
}());
