"""What the gateway itself says (Indonesian first, English when the patient writes English)."""

from __future__ import annotations

_TEXTS = {
    "text_only": {
        "id": "Maaf, saat ini kami hanya bisa membaca pesan teks 🙏 Silakan ketik pesan Anda.",
        "en": "Sorry, we can only read text messages for now 🙏 Please type your message."},
    "busy": {
        "id": "Maaf, sistem kami sedang sibuk. Silakan coba lagi beberapa saat lagi 🙏",
        "en": "Sorry, our system is busy right now. Please try again in a moment 🙏"},
    "attendance_noted": {
        "id": "Terima kasih! Kehadiran Anda untuk booking {ref} sudah kami catat. Sampai jumpa 👋",
        "en": "Thank you! Your attendance for booking {ref} is noted. See you 👋"},
    "booking_inactive": {
        "id": "Booking {ref} sudah tidak aktif. Ketik \"booking\" untuk membuat jadwal baru.",
        "en": "Booking {ref} is no longer active. Type \"book\" to make a new appointment."},
    "waitlist_booked": {
        "id": "Berhasil! Jadwal Anda dengan {doctor}: {date}, {time} (kode {ref}).",
        "en": "Done! Your appointment with {doctor}: {date}, {time} (ref {ref})."},
    "waitlist_moved": {
        "id": "Berhasil! Booking Anda dipindah ke jadwal lebih cepat: {doctor}, {date}, {time} "
              "(kode {ref}).",
        "en": "Done! Your booking moved to the earlier slot: {doctor}, {date}, {time} "
              "(ref {ref})."},
    "waitlist_expired": {
        "id": "Maaf, penawaran jadwal ini sudah berakhir. Anda tetap di daftar tunggu.",
        "en": "Sorry, this offer has ended. You are still on the waitlist."},
    "waitlist_lost": {
        "id": "Maaf, jadwal ini baru saja terisi. Anda tetap di daftar tunggu.",
        "en": "Sorry, this slot was just taken. You are still on the waitlist."},
    "waitlist_skipped": {
        "id": "Baik, jadwal ini kami tawarkan ke pasien lain. Anda tetap di daftar tunggu.",
        "en": "OK, we'll offer this slot to someone else. You are still on the waitlist."},
}


def say(key: str, lang: str, **params: str) -> str:
    texts = _TEXTS[key]
    return (texts.get(lang) or texts["id"]).format(**params)
