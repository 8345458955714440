/* NLU inbox page: label what the assistant was unsure about, start a training job, watch it,
   read the gate's figures, promote or roll back. Uses the admin API (/admin/nlu/...) with
   the same sign-in (and session) as the analytics dashboard. No framework. */
(function () {
  "use strict";

  var TOKEN_KEY = "klinik.analytics.token";
  var REFRESH_KEY = "klinik.analytics.refresh";
  var $ = function (id) { return document.getElementById(id); };
  var vocabulary = { intents: [], entities: [], values: {} };
  var polling = null;

  function token() { return sessionStorage.getItem(TOKEN_KEY); }
  function remember(t) {
    sessionStorage.setItem(TOKEN_KEY, t.access_token);
    sessionStorage.setItem(REFRESH_KEY, t.refresh_token);
  }
  function forget() { sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(REFRESH_KEY); }

  async function renew() {
    var refresh = sessionStorage.getItem(REFRESH_KEY);
    if (!refresh) { return false; }
    var resp = await fetch("/auth/refresh", { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: refresh }) });
    if (!resp.ok) { return false; }
    remember(await resp.json());
    return true;
  }

  // The admin API with the access token; on 401 renew once and retry.
  async function call(method, url, body) {
    var send = function () {
      var init = { method: method, headers: { Authorization: "Bearer " + token() } };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(url, init);
    };
    var resp = await send();
    if (resp.status === 401 && await renew()) { resp = await send(); }
    if (resp.status === 401 || resp.status === 403) {
      showLogin(resp.status === 403 ? "This page is for admins." : "Please sign in again.");
      throw new Error("unauthorized");
    }
    var data = await resp.json().catch(function () { return {}; });
    return { ok: resp.ok, status: resp.status, data: data };
  }

  function say(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "status error" : "status";
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  // ---- sign-in -----------------------------------------------------------------------
  function showLogin(message) {
    forget();
    $("nlu-view").hidden = true;
    $("logout").hidden = true;
    $("login-view").hidden = false;
    $("login-error").hidden = !message;
    $("login-error").textContent = message || "";
  }

  async function login(event) {
    event.preventDefault();
    var resp = await fetch("/auth/login", { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: $("email").value, password: $("password").value }) });
    if (!resp.ok) { showLogin("Wrong email or password."); return; }
    remember(await resp.json());
    start();
  }

  // ---- inbox -------------------------------------------------------------------------
  function annotated(text, spans) {
    var out = "", pos = 0;
    spans.slice().sort(function (a, b) { return a.start - b.start; }).forEach(function (s) {
      out += text.slice(pos, s.start) + "[" + text.slice(s.start, s.end) + "](" + s.entity +
        (s.value ? ":" + s.value : "") + ")";
      pos = s.end;
    });
    return out + text.slice(pos);
  }

  // The selected characters of `msg` (its only child is the text), trimmed of spaces.
  function selectedSpan(msg) {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) { return null; }
    var range = sel.getRangeAt(0);
    var node = msg.firstChild;
    if (range.startContainer !== node || range.endContainer !== node) { return null; }
    var text = node.textContent, start = range.startOffset, end = range.endOffset;
    while (start < end && /\s/.test(text[start])) { start++; }
    while (end > start && /\s/.test(text[end - 1])) { end--; }
    return end > start ? { start: start, end: end } : null;
  }

  function groupItem(g) {
    var spans = [];
    var msg = el("p", { "class": "msg", text: g.text });
    var preview = el("p", { "class": "desc preview", text: "" });
    var chips = el("ul", { "class": "chips" });
    var intent = el("select", { "class": "intent", "aria-label": "intent" });
    intent.appendChild(el("option", { value: "", text: "choose the intent…" }));
    vocabulary.intents.forEach(function (i) { intent.appendChild(el("option", { value: i, text: i })); });
    var predicted = g.predicted_intent;
    if (g.label && g.label.intent) { predicted = g.label.intent; }
    if (vocabulary.intents.indexOf(predicted) >= 0) { intent.value = predicted; }
    var entity = el("select", { "class": "entity", "aria-label": "entity" });
    vocabulary.entities.forEach(function (e) { entity.appendChild(el("option", { value: e, text: e })); });
    // the canonical value (catalogue) the marked words mean; "as written" gives none
    var value = el("select", { "class": "value", "aria-label": "value" });
    function fillValues() {
      value.textContent = "";
      value.appendChild(el("option", { value: "", text: "value as written" }));
      (vocabulary.values[entity.value] || []).forEach(function (v) {
        value.appendChild(el("option", { value: v, text: v }));
      });
    }
    entity.addEventListener("change", fillValues);
    fillValues();
    var mark = el("button", { type: "button", "class": "mark", text: "Mark selection" });
    var save = el("button", { type: "button", "class": "save", text: "Save label" });
    var ignore = el("button", { type: "button", "class": "ignore", text: "Ignore" });
    var error = el("p", { "class": "error", role: "alert" });

    function redraw() {
      chips.textContent = "";
      spans.forEach(function (s, i) {
        var remove = el("button", { type: "button", text: "×", "aria-label": "remove" });
        remove.addEventListener("click", function () { spans.splice(i, 1); redraw(); });
        chips.appendChild(el("li", { "class": "chip" }, [
          el("span", { text: g.text.slice(s.start, s.end) + " → " + s.entity +
                             (s.value ? " (" + s.value + ")" : "") }), remove]));
      });
      preview.textContent = spans.length ? annotated(g.text, spans) : "";
    }
    mark.addEventListener("click", function () {
      var span = selectedSpan(msg);
      if (!span) { error.textContent = "Select words of the message first."; return; }
      if (spans.some(function (s) { return span.start < s.end && s.start < span.end; })) {
        error.textContent = "That overlaps a marked entity."; return;
      }
      error.textContent = "";
      var marked = { start: span.start, end: span.end, entity: entity.value };
      if (value.value && value.value !== g.text.slice(span.start, span.end)) {
        marked.value = value.value;
      }
      spans.push(marked);
      redraw();
    });
    async function send(body) {
      var r = await call("POST", "/admin/nlu/inbox/" + encodeURIComponent(g.id) + "/label", body);
      if (!r.ok) { error.textContent = r.data.message || ("failed (" + r.status + ")"); return; }
      say("Saved: " + (body.ignore ? "ignored" : body.intent) + " — " + g.text);
      loadInbox();
      loadModels();
    }
    save.addEventListener("click", function () {
      if (!intent.value) { error.textContent = "Choose an intent."; return; }
      send({ intent: intent.value, entities: spans });
    });
    ignore.addEventListener("click", function () { send({ ignore: true }); });

    var conf = g.confidence || {};
    var meta = g.count + " message(s), " + g.senders + " sender(s); predicted " +
      (g.predicted_intent || "–") + " " + (conf.min === null || conf.min === undefined ? "" :
      conf.min.toFixed(2) + (conf.max !== conf.min ? "–" + conf.max.toFixed(2) : "")) +
      "; " + Object.keys(g.reasons || {}).join(", ");
    var variants = (g.variants || []).length ? el("p", { "class": "desc",
      text: "also: " + g.variants.join(" · ") }) : null;
    var labelled = g.label ? el("p", { "class": "desc",
      text: g.label.ignore ? "ignored" : "labelled " + g.label.example }) : null;
    return el("li", { "class": "group", "data-id": g.id }, [
      msg, el("p", { "class": "desc", text: meta }), variants, labelled,
      el("div", { "class": "row" }, [intent, entity, value, mark, save, ignore]),
      chips, preview, error]);
  }

  async function loadInbox() {
    var r = await call("GET", "/admin/nlu/inbox?limit=100&state=" + $("state").value);
    if (!r.ok) { say(r.data.message || "inbox unavailable", true); return; }
    vocabulary = { intents: r.data.intents, entities: r.data.entities,
                   values: r.data.values || {} };
    var c = r.data.counts || {};
    $("counts").textContent = (c.open || 0) + " open, " + (c.labelled || 0) + " labelled, " +
      (c.ignored || 0) + " ignored";
    var list = $("groups");
    list.textContent = "";
    r.data.groups.forEach(function (g) { list.appendChild(groupItem(g)); });
    if (!r.data.groups.length) { list.appendChild(el("li", { text: "Nothing here." })); }
  }

  // ---- training job ------------------------------------------------------------------
  function fmt(x) { return x === null || x === undefined ? "–" : Number(x).toFixed(3); }

  function showJob(job) {
    $("job").hidden = false;
    $("job-id").textContent = job.id;
    $("job-state").textContent = job.state;
    $("job-phase").textContent = job.state === "running" ? "(" + (job.phase || "") + ")" :
      (job.error ? job.error.split("\n")[0] : "");
    $("job-logs").textContent = (job.logs || []).slice(-40).join("\n");
    var gate = job.gate;
    var table = $("gate");
    table.hidden = !gate;
    var reasons = $("gate-reasons");
    reasons.textContent = "";
    if (!gate) { return; }
    var b = gate.before || {}, a = gate.after || {};
    var rows = [["intent macro-F1", b.intent_macro_f1, a.intent_macro_f1],
                ["intent accuracy", b.intent_accuracy, a.intent_accuracy],
                ["entity F1", b.entity_f1, a.entity_f1]];
    if (gate.stories) {
      rows.push(["conversation suite task success", gate.stories.before, gate.stories.after]);
    }
    Object.keys(a.per_intent || {}).sort().forEach(function (name) {
      rows.push(["F1 " + name, ((b.per_intent || {})[name] || {}).f1, a.per_intent[name].f1]);
    });
    var body = table.querySelector("tbody");
    body.textContent = "";
    rows.forEach(function (row) {
      body.appendChild(el("tr", {}, [el("td", { text: row[0] }), el("td", { text: fmt(row[1]) }),
                                     el("td", { text: fmt(row[2]) })]));
    });
    reasons.appendChild(el("li", { "class": gate.passed ? "ok" : "error",
      text: gate.passed ? "Gate passed: the model can be promoted." : "Gate failed:" }));
    (gate.reasons || []).forEach(function (r) { reasons.appendChild(el("li", { text: r })); });
    var confusions = Object.entries(a.confusions || {}).sort(function (x, y) { return y[1] - x[1]; });
    confusions.slice(0, 5).forEach(function (c) {
      reasons.appendChild(el("li", { "class": "desc", text: "confusion " + c[0] + ": " + c[1] }));
    });
  }

  async function poll(jobId) {
    var r = await call("GET", "/admin/nlu/jobs/" + encodeURIComponent(jobId));
    if (!r.ok) { say(r.data.message || "job unavailable", true); return; }
    showJob(r.data);
    if (r.data.state === "succeeded" || r.data.state === "failed") {
      clearInterval(polling);
      polling = null;
      loadModels();
    }
  }

  async function retrain() {
    var r = await call("POST", "/admin/nlu/retrain");
    if (!r.ok) { say(r.data.message || "could not start", true); return; }
    say("Training started.");
    if (polling) { clearInterval(polling); }
    poll(r.data.id);
    polling = setInterval(function () { poll(r.data.id); }, 2000);
  }

  // ---- models ------------------------------------------------------------------------
  async function loadModels() {
    var r = await call("GET", "/admin/nlu/models");
    if (!r.ok) { return; }
    var body = $("models").querySelector("tbody");
    body.textContent = "";
    r.data.models.forEach(function (m) {
      var action = m.served ? el("strong", { text: "served" }) : el("button", {
        type: "button", "class": "promote", "data-id": m.id, text: "Promote" });
      if (!m.served && !m.gate.passed) { action.disabled = true; action.title = "gate failed"; }
      if (!m.served) {
        action.addEventListener("click", async function () {
          var p = await call("POST", "/admin/nlu/models/" + encodeURIComponent(m.id) + "/promote");
          say(p.ok ? "Promoted " + m.id + ": Rasa picks it up at its next pull." :
              (p.data.message || "refused"), !p.ok);
          loadModels();
        });
      }
      var f1 = m.gate.intent_macro_f1 || {};
      body.appendChild(el("tr", { "data-id": m.id }, [
        el("td", { text: m.id }), el("td", { text: String(m.created_at || "").slice(0, 16) }),
        el("td", { text: m.gate.passed ? "passed" : "failed" }),
        el("td", { text: fmt(f1.before) + " → " + fmt(f1.after) }), el("td", {}, [action])]));
    });
    var since = r.data.since_served || { labels: 0, examples: [] };
    $("changes").textContent = since.labels + " label(s) since the served model was trained" +
      (since.labels ? ":" : ".");
    var changes = $("changes-list");
    changes.textContent = "";
    since.examples.slice(0, 10).forEach(function (c) {
      changes.appendChild(el("li", { text: c.intent + ": " + c.example }));
    });
    var audit = $("audit");
    audit.textContent = "";
    r.data.audit.slice(0, 10).forEach(function (a) {
      audit.appendChild(el("li", { text: String(a.at).slice(0, 19) + " " + a.action + " " +
        a.model_id + " by " + a.by }));
    });
  }

  async function rollback() {
    var r = await call("POST", "/admin/nlu/rollback");
    say(r.ok ? "Rolled back: serving " + r.data.serving : (r.data.message || "refused"), !r.ok);
    loadModels();
  }

  async function start() {
    $("login-view").hidden = true;
    $("nlu-view").hidden = false;
    $("logout").hidden = false;
    try { await loadInbox(); await loadModels(); } catch (e) { /* sign-in shown */ }
  }

  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", function () { showLogin(); });
  $("state").addEventListener("change", loadInbox);
  $("retrain").addEventListener("click", retrain);
  $("rollback").addEventListener("click", rollback);
  if (token()) { start(); } else { showLogin(); }
}());
