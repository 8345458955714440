"""The sandbox's WhatsApp-like chat page (one self-contained HTML document)."""

CHAT_PAGE = r"""<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WhatsApp sandbox · Klinik</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
         background: #d1d7db; height: 100vh; display: flex; justify-content: center; }
  .phone { width: 100%; max-width: 480px; height: 100vh; display: flex; flex-direction: column;
           background: #efeae2; box-shadow: 0 0 12px rgba(0,0,0,.2); }
  header { background: #008069; color: #fff; padding: 10px 14px; display: flex; gap: 10px;
           align-items: center; }
  header .avatar { width: 38px; height: 38px; border-radius: 50%; background: #dfe5e7;
                   color: #008069; display: flex; align-items: center; justify-content: center;
                   font-weight: bold; }
  header .title { font-weight: 600; } header .sub { font-size: 12px; opacity: .85; }
  .who { background: #f0f2f5; padding: 8px 10px; display: flex; gap: 6px; flex-wrap: wrap;
         border-bottom: 1px solid #d1d7db; font-size: 13px; }
  .who input { padding: 6px 8px; border: 1px solid #ccc; border-radius: 6px; font-size: 13px; }
  .who button { background: #008069; color: #fff; border: 0; border-radius: 6px;
                padding: 6px 12px; cursor: pointer; }
  #log { flex: 1; overflow-y: auto; padding: 12px 10px; display: flex; flex-direction: column;
         gap: 6px; }
  .msg { max-width: 82%; padding: 6px 9px 18px; border-radius: 8px; position: relative;
         white-space: pre-wrap; word-wrap: break-word; font-size: 14.5px; line-height: 1.35;
         box-shadow: 0 1px .5px rgba(11,20,26,.13); }
  .msg.me { align-self: flex-end; background: #d9fdd3; }
  .msg.bot { align-self: flex-start; background: #fff; }
  .msg .meta { position: absolute; right: 8px; bottom: 3px; font-size: 11px; color: #667781; }
  .msg .tag { display: inline-block; font-size: 11px; color: #fff; background: #25d366;
              border-radius: 4px; padding: 0 5px; margin-bottom: 4px; }
  .msg.failed { border: 1px solid #e57373; }
  .choices { display: flex; flex-direction: column; gap: 4px; margin-top: 6px; }
  .choices button, .list-open { background: #fff; border: 0; border-top: 1px solid #e9edef;
           color: #027eb5; padding: 8px; font-size: 14px; cursor: pointer; width: 100%; }
  .rows { display: none; flex-direction: column; margin-top: 6px; border-top: 1px solid #e9edef; }
  .rows.open { display: flex; }
  .row { text-align: left; background: #fff; border: 0; border-bottom: 1px solid #f0f2f5;
         padding: 8px; cursor: pointer; }
  .row .desc { display: block; color: #667781; font-size: 12.5px; }
  footer { display: flex; gap: 8px; padding: 8px; background: #f0f2f5; }
  footer input { flex: 1; padding: 10px 12px; border-radius: 20px; border: 0; font-size: 15px; }
  footer button { background: #008069; color: #fff; border: 0; border-radius: 50%; width: 44px;
                  height: 44px; cursor: pointer; font-size: 18px; }
  .hint { text-align: center; font-size: 12px; color: #54656f; background: #ffeecd;
          border-radius: 6px; padding: 4px 8px; align-self: center; }
</style>
</head>
<body>
<div class="phone">
  <header><div class="avatar">K</div>
    <div><div class="title">Klinik Sehat (sandbox)</div>
      <div class="sub" id="status">WhatsApp Business · local Wati sandbox</div></div></header>
  <div class="who">
    <input id="phone" value="6281234567890" size="15" aria-label="Phone number (with country code)">
    <input id="name" value="Budi" size="10" aria-label="Your name">
    <button id="start">Chat</button>
  </div>
  <div class="who staff">
    <span id="operator">Bot</span>
    <input id="staffText" placeholder="Balas sebagai staf / reply as staff" size="22"
           aria-label="Staff reply">
    <button id="staffSend">Staf</button>
    <button id="solve">Selesai</button>
  </div>
  <div id="log"><div class="hint">Pilih nomor dan nama, lalu ketik pesan. /
    Choose a number and a name, then type.</div></div>
  <footer>
    <input id="input" placeholder="Ketik pesan" autocomplete="off" aria-label="Message">
    <button id="send" aria-label="Send">&#10148;</button>
  </footer>
</div>
<script>
let waId = null, last = 0, timer = null;
const log = document.getElementById("log");
const el = (tag, cls, text) => { const e = document.createElement(tag);
  if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };

function start() {
  waId = document.getElementById("phone").value.replace(/\D/g, "");
  last = 0; log.innerHTML = "";
  log.appendChild(el("div", "hint", "Chat sebagai +" + waId));
  if (timer) clearInterval(timer);
  timer = setInterval(poll, 400); poll();
}
async function post(body) {
  if (!waId) start();
  body.wa_id = waId; body.name = document.getElementById("name").value || "Pasien";
  const r = await fetch("/_sandbox/api/send", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  if (!r.ok) alert((await r.json()).error || "error");
  poll();
}
function sendText() {
  const input = document.getElementById("input"); const text = input.value.trim();
  if (!text) return; input.value = ""; post({kind: "text", text});
}
async function staff(path, body) {
  if (!waId) start();
  body.wa_id = waId;
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(body)});
  if (!r.ok) alert((await r.json()).error || "error");
  poll();
}
function staffSend() {
  const input = document.getElementById("staffText"); const text = input.value.trim();
  if (!text) return; input.value = ""; staff("/_sandbox/api/staff", {text});
}
function render(m) {
  if (m.direction === "system") return el("div", "hint system", m.text);
  const mine = m.direction === "in";
  const b = el("div", "msg " + (mine ? "me" : "bot") + (m.status === "failed" ? " failed" : ""));
  b.dataset.kind = m.kind;
  if (m.kind === "template") b.appendChild(el("div", "tag", "Template · " + m.template));
  if (m.operator) b.appendChild(el("div", "tag staff-tag", "Staf · " + m.operator));
  b.appendChild(el("span", "text", m.text || ""));
  if (m.kind === "buttons" || (m.kind === "template" && (m.quick_replies || []).length)) {
    const box = el("div", "choices");
    for (const t of (m.kind === "buttons" ? m.buttons : m.quick_replies)) {
      const btn = el("button", "choice", t);
      btn.onclick = () => post({kind: m.kind === "buttons" ? "button" : "quick", title: t});
      box.appendChild(btn);
    }
    b.appendChild(box);
  }
  if (m.kind === "list") {
    const open = el("button", "list-open", "\u2630 " + (m.button_text || "Pilih"));
    const rows = el("div", "rows");
    open.onclick = () => rows.classList.toggle("open");
    for (const r of m.rows || []) {
      const row = el("button", "row", r.title);
      if (r.description) row.appendChild(el("span", "desc", r.description));
      row.onclick = () => { rows.classList.remove("open");
        post({kind: "list", title: r.title, description: r.description}); };
      rows.appendChild(row);
    }
    b.appendChild(open); b.appendChild(rows);
  }
  const t = new Date(m.at);
  const ticks = m.status === "read" ? " \u2713\u2713" : m.status === "failed" ? " !" : " \u2713";
  const meta = el("span", "meta",
    t.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) + (mine ? "" : ticks));
  b.appendChild(meta);
  return b;
}
let polling = false;
async function poll() {
  if (!waId || polling) return;
  polling = true;
  try { await pollOnce(); } finally { polling = false; }
}
async function pollOnce() {
  const r = await fetch("/_sandbox/api/messages?wa_id=" + waId + "&after=" + last);
  if (!r.ok) return;
  const data = await r.json();
  for (const m of data.messages) {
    if (m.seq <= last) continue;  // already shown
    log.appendChild(render(m)); last = m.seq;
  }
  if (data.messages.length) log.scrollTop = log.scrollHeight;
  const o = await fetch("/_sandbox/api/operator?wa_id=" + waId);
  if (o.ok) document.getElementById("operator").textContent =
    (await o.json()).operator || "Bot";
}
document.getElementById("start").onclick = start;
document.getElementById("send").onclick = sendText;
document.getElementById("staffSend").onclick = staffSend;
document.getElementById("solve").onclick = () => staff("/_sandbox/api/solve", {});
document.getElementById("input").addEventListener("keydown", e => {
  if (e.key === "Enter") sendText(); });
</script>
</body>
</html>
"""
