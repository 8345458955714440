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
    # data protection (bot/privacy.py)
    "erase_confirm": {
        "id": "Anda meminta penghapusan data pribadi Anda. Yang akan dihapus: nama, nomor "
              "WhatsApp, email, riwayat chat dan catatan yang Anda ketik. Yang tetap disimpan: "
              "catatan booking klinik tanpa identitas Anda (anonim); booking yang akan datang "
              "dibatalkan dan dokter diberi tahu. Ini tidak bisa dibatalkan. Lanjutkan?",
        "en": "You asked us to erase your personal data. What goes: your name, WhatsApp "
              "number, e-mail, chat history and notes you typed. What stays: the clinic's "
              "booking records without your identity (anonymous); upcoming bookings are "
              "cancelled and the doctor is told. This cannot be undone. Go ahead?"},
    "erase_kept": {
        "id": "Baik, tidak jadi. Data Anda tidak dihapus.",
        "en": "OK, nothing was erased. Your data stays as it was."},
    "erase_expired": {
        "id": "Pertanyaan penghapusan data sudah kedaluwarsa. Ketik \"hapus data saya\" "
              "lagi jika Anda masih ingin menghapusnya.",
        "en": "The erasure question has expired. Type \"delete my data\" again if you still "
              "want your data erased."},
    "erase_done": {
        "id": "Data pribadi Anda sudah dihapus{cancelled}. Terima kasih telah menggunakan "
              "layanan kami 🙏",
        "en": "Your personal data has been erased{cancelled}. Thank you for using our "
              "service 🙏"},
    "erase_cancelled": {
        "id": " dan {n} booking yang akan datang dibatalkan",
        "en": " and {n} upcoming booking(s) cancelled"},
    "access_summary": {
        "id": "Data Anda yang kami simpan:\n• Booking: {bookings} ({upcoming} akan datang{refs})"
              "\n• Pesan chat: {messages}{since}\n• Riwayat chat disimpan {days} hari, lalu "
              "dihapus otomatis.\nKetik \"hapus data saya\" untuk menghapus semuanya.",
        "en": "The data we hold about you:\n• Bookings: {bookings} ({upcoming} upcoming{refs})"
              "\n• Chat messages: {messages}{since}\n• Chat history is kept {days} days, then "
              "deleted automatically.\nType \"delete my data\" to erase it all."},
    "access_since": {"id": " sejak {date}", "en": " since {date}"},
    "access_emailed": {
        "id": "Salinan lengkap (JSON) kami kirim ke email akun Anda; tautannya berlaku {hours} "
              "jam.",
        "en": "A full copy (JSON) is on its way to your account's e-mail; the link is valid "
              "for {hours} hours."},
    "access_no_email": {
        "id": "Untuk salinan lengkap (JSON): akun web dengan email ({web}) menerimanya lewat "
              "email saat Anda mengetik \"data saya\", atau minta kepada staf klinik kami.",
        "en": "For a full copy (JSON): a web account with an e-mail ({web}) gets it by e-mail "
              "when you type \"my data\", or ask our clinic's staff."},
    "privacy_notice": {
        "id": "ℹ️ Privasi: kami menyimpan nama, nomor WhatsApp, chat dan booking Anda untuk "
              "mengatur janji dokter. Riwayat chat dihapus otomatis setelah {days} hari. "
              "Ketik \"data saya\" untuk melihat data Anda, atau \"hapus data saya\" untuk "
              "menghapusnya. Selengkapnya: {link}",
        "en": "ℹ️ Privacy: we keep your name, WhatsApp number, chats and bookings to arrange "
              "your doctor's appointments. Chat history is deleted automatically after {days} "
              "days. Type \"my data\" to see your data, or \"delete my data\" to erase it. "
              "More: {link}"},
}
# The buttons of the erasure question (the yes is read with booking/yesno.py too).
ERASE_BUTTONS = {"id": ("Ya, hapus", "Batal"), "en": ("Yes, erase", "Cancel")}


def say(key: str, lang: str, **params: str) -> str:
    texts = _TEXTS[key]
    return (texts.get(lang) or texts["id"]).format(**params)
