"""The public privacy page (/privacy), linked from the WhatsApp first-contact notice: what
is kept, for how long, and the patient's rights, in Indonesian and English. Static HTML
built from the retention settings (no script, no personal data)."""

from __future__ import annotations

import html

from aiohttp import web

from app.keys import SETTINGS
from app.settings import Settings

PATH = "/privacy"

_SECTIONS = {
    "id": ("Privasi data pasien", [
        "Kami menyimpan nama, nomor WhatsApp, email (jika ada), isi chat dan booking Anda "
        "untuk mengatur janji dokter dan mengirim konfirmasi serta pengingat.",
        "Data pribadi disimpan terenkripsi (AES-256). Riwayat chat dihapus otomatis setelah "
        "{chat} hari, data webhook setelah {inbox} hari, isi pesan keluar setelah {outbox} "
        "hari, transkrip percakapan dengan staf setelah {handoff} hari.",
        "Catatan booking adalah rekam klinik dan tetap disimpan; setelah penghapusan data, "
        "catatan itu tidak lagi memuat identitas Anda.",
        "Hak Anda (UU No. 27/2022): ketik \"data saya\" di WhatsApp untuk ringkasan data Anda "
        "(dan tautan unduhan lengkap ke email akun Anda), atau \"hapus data saya\" untuk "
        "menghapusnya; booking yang akan datang dibatalkan dan dokter diberi tahu. Lewat API: "
        "GET /me/data dan DELETE /me."]),
    "en": ("Patient data privacy", [
        "We keep your name, WhatsApp number, e-mail (if any), chat messages and bookings to "
        "arrange your doctor's appointments and to send confirmations and reminders.",
        "Personal data is stored encrypted (AES-256). Chat history is deleted automatically "
        "after {chat} days, webhook data after {inbox} days, outgoing message texts after "
        "{outbox} days, transcripts of conversations with staff after {handoff} days.",
        "Booking records are the clinic's records and stay; after an erasure they no longer "
        "hold your identity.",
        "Your rights (Indonesian law No. 27/2022): type \"my data\" on WhatsApp for a summary "
        "(and a full download link sent to your account's e-mail), or \"delete my data\" to "
        "erase it; upcoming bookings are cancelled and the doctor is told. Over the API: "
        "GET /me/data and DELETE /me."]),
}


def _days(n: int) -> str:
    return str(n) if n else "∞"


def render_page(settings: Settings) -> str:
    values = {"chat": _days(settings.chat_retention_days),
              "inbox": _days(settings.inbox_retention_days),
              "outbox": _days(settings.outbox_body_retention_days),
              "handoff": _days(settings.handoff_retention_days)}
    parts = []
    for lang, (title, paragraphs) in _SECTIONS.items():
        body = "".join(f"<p>{html.escape(p.format(**values))}</p>" for p in paragraphs)
        parts.append(f'<section lang="{lang}"><h1>{html.escape(title)}</h1>{body}</section>')
    return ('<!doctype html><html lang="id"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Privasi / Privacy</title></head><body>" + "<hr>".join(parts)
            + "</body></html>")


async def page(request: web.Request) -> web.Response:
    return web.Response(text=render_page(request.app[SETTINGS]), content_type="text/html",
                        headers={"Cache-Control": "public, max-age=3600"})


def setup(app: web.Application) -> None:
    app.router.add_get(PATH, page)
