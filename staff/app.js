// The staff inbox: conversations handed from the bot to a person (GET /handoffs ...).
(function () {
  "use strict";
  var TOKEN_KEY = "klinik.staff.token";
  var current = null;
  var $ = function (id) { return document.getElementById(id); };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  async function api(method, url, body) {
    var opts = { method: method, headers: { Authorization: "Bearer " + token() } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    var resp = await fetch(url, opts);
    if (resp.status === 401) { showLogin("Sesi berakhir, silakan masuk lagi."); throw new Error("401"); }
    return resp;
  }

  function showLogin(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    $("login-view").hidden = false;
    $("inbox-view").hidden = true;
    $("logout").hidden = true;
    document.body.dataset.state = "login";
    $("login-error").hidden = !message;
    $("login-error").textContent = message || "";
  }

  async function login(event) {
    event.preventDefault();
    var resp = await fetch("/auth/login", { method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: $("email").value, password: $("password").value }) });
    if (!resp.ok) { showLogin("Email atau kata sandi salah."); return; }
    var tokens = await resp.json();
    if (tokens.role !== "staff" && tokens.role !== "admin") {
      showLogin("Akun ini bukan akun staf."); return;
    }
    sessionStorage.setItem(TOKEN_KEY, tokens.access_token);
    start();
  }

  function badge(minutes) {
    var b = document.createElement("span");
    b.className = "badge" + (minutes >= 30 ? " late" : minutes >= 10 ? " warn" : "");
    b.textContent = minutes < 60 ? minutes + " mnt" : Math.floor(minutes / 60) + " jam";
    return b;
  }

  async function refresh() {
    var resp = await api("GET", "/handoffs?status=open");
    if (!resp.ok) { return; }
    var items = (await resp.json()).items;
    $("count").textContent = String(items.length);
    var list = $("handoffs");
    list.textContent = "";
    items.forEach(function (h) {
      var li = document.createElement("li");
      li.dataset.id = h.id;
      if (current === h.id) { li.className = "selected"; }
      li.appendChild(badge(h.waiting_minutes));
      var name = document.createElement("div");
      name.className = "name";
      name.textContent = (h.name || "Pasien") + " · " + h.number;
      li.appendChild(name);
      var last = h.last_messages.length ? h.last_messages[h.last_messages.length - 1].text : "";
      var meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = h.reason + (h.answered ? " · dijawab" : "") + " — " + last;
      li.appendChild(meta);
      li.onclick = function () { open(h.id); };
      list.appendChild(li);
    });
  }

  async function open(id) {
    current = id;
    var resp = await api("GET", "/handoffs/" + id);
    if (!resp.ok) { return; }
    var data = await resp.json();
    var h = data.handoff;
    $("conversation").hidden = false;
    $("who").textContent = (h.name || "Pasien") + " · " + h.number;
    $("meta").textContent = "Alasan: " + h.reason + " · menunggu " + h.waiting_minutes +
      " mnt" + (h.taken_by ? " · ditangani " + h.taken_by : "");
    var ol = $("transcript");
    ol.textContent = "";
    data.transcript.forEach(function (m) {
      var li = document.createElement("li");
      li.className = m.direction === "in" ? "in" : (m.by ? "staff" : "out");
      li.textContent = m.text;
      ol.appendChild(li);
    });
    ol.scrollTop = ol.scrollHeight;
    document.body.dataset.state = "conversation";
    refresh();
  }

  async function send(event) {
    event.preventDefault();
    if (!current) { return; }
    var text = $("reply").value.trim();
    if (!text) { return; }
    var resp = await api("POST", "/handoffs/" + current + "/reply", { text: text });
    $("status").textContent = resp.ok ? "Terkirim." : "Gagal mengirim.";
    if (resp.ok) { $("reply").value = ""; open(current); }
  }

  async function take() {
    if (!current) { return; }
    var resp = await api("POST", "/handoffs/" + current + "/take");
    $("status").textContent = resp.ok ? "Anda menangani percakapan ini." : "Gagal.";
    open(current);
  }

  async function resolve() {
    if (!current) { return; }
    var resp = await api("POST", "/handoffs/" + current + "/resolve", {});
    $("status").textContent = resp.ok ? "Selesai: percakapan kembali ke bot." : "Gagal.";
    if (resp.ok) { current = null; $("conversation").hidden = true; refresh(); }
  }

  function start() {
    $("login-view").hidden = true;
    $("inbox-view").hidden = false;
    $("logout").hidden = false;
    document.body.dataset.state = "ready";
    refresh();
    setInterval(function () { if (token()) { refresh(); } }, 5000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("login-form").addEventListener("submit", login);
    $("reply-form").addEventListener("submit", send);
    $("take").addEventListener("click", take);
    $("resolve").addEventListener("click", resolve);
    $("logout").addEventListener("click", function () { showLogin(""); });
    if (token()) { start(); } else { showLogin(""); }
  });
})();
