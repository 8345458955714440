"""What notifications say: the free-form texts (inside the 24-hour window), e-mail subjects,
the greeting used when a template needs a name, and the reminder's quick replies (the
gateway maps a tapped reply back through the same table). Indonesian first, English."""

from __future__ import annotations

_TEXTS = {
    ("booking_confirmation", "id"):
        "Booking dikonfirmasi ✅\nKode: {ref}\n{doctor} ({specialty})\n{date}, {time}\n{clinic}",
    ("booking_confirmation", "en"):
        "Booking confirmed ✅\nRef: {ref}\n{doctor} ({specialty})\n{date}, {time}\n{clinic}",
    ("booking_cancelled", "id"):
        "Booking {ref} dengan {doctor} pada {date}, {time} sudah dibatalkan.",
    ("booking_cancelled", "en"):
        "Booking {ref} with {doctor} on {date}, {time} has been cancelled.",
    ("booking_rescheduled", "id"):
        "Jadwal booking {ref} dengan {doctor} dipindah ke {date}, {time}.",
    ("booking_rescheduled", "en"):
        "Booking {ref} with {doctor} moved to {date}, {time}.",
    ("doctor_new_booking", "id"):
        "Pasien baru: {patient}, {date}, {time} (kode {ref}).",
    ("doctor_new_booking", "en"):
        "New patient: {patient}, {date}, {time} (ref {ref}).",
    ("waitlist_offer", "id"):
        "Kabar baik! Ada jadwal lebih cepat dengan {doctor}: {date}, {time} di {clinic}. "
        "Slot ini kami tahan {minutes} menit untuk Anda. Balas: Ambil / Lewati.",
    ("waitlist_offer", "en"):
        "Good news! An earlier slot with {doctor} is free: {date}, {time} at {clinic}. "
        "We hold it for you for {minutes} minutes. Reply: Take it / Skip.",
    ("doctor_booking_cancelled", "id"):
        "Booking dibatalkan: {patient}, {date}, {time} (kode {ref}).",
    ("doctor_booking_cancelled", "en"):
        "Booking cancelled: {patient}, {date}, {time} (ref {ref}).",
    ("doctor_booking_rescheduled", "id"):
        "Booking dipindah: {patient} sekarang {date}, {time} (kode {ref}).",
    ("doctor_booking_rescheduled", "en"):
        "Booking moved: {patient} is now on {date}, {time} (ref {ref}).",
    ("doctor_no_show", "id"):
        "Tidak hadir dicatat: {patient}, {date}, {time} (kode {ref}).",
    ("doctor_no_show", "en"):
        "No-show recorded: {patient}, {date}, {time} (ref {ref}).",
    ("appointment_reminder", "id"):
        "Pengingat: besok Anda ada jadwal dengan {doctor} pada {date}, {time} di {clinic} "
        "(kode {ref}). Balas: Hadir / Ubah jadwal / Batal.",
    ("appointment_reminder", "en"):
        "Reminder: you see {doctor} on {date}, {time} at {clinic} (ref {ref}). "
        "Reply: Attend / Reschedule / Cancel.",
    ("schedule_changed", "id"):
        "Mohon maaf, jadwal {doctor} berubah dan booking {ref} pada {date}, {time} "
        "perlu dijadwalkan ulang. Balas pesan ini untuk memilih waktu baru.",
    ("whatsapp_verification", "id"):
        "Kode verifikasi Klinik Sehat: {code}. Berlaku 10 menit. Jangan berikan kode ini "
        "kepada siapa pun.",
    ("whatsapp_verification", "en"):
        "Klinik Sehat verification code: {code}. Valid for 10 minutes. Do not share it.",
    ("account_exists", "id"):
        "Halo {name}, ada yang mencoba mendaftar di Klinik Sehat dengan alamat email ini. "
        "Akun Anda sudah ada: masuk dengan email dan kata sandi Anda. Jika itu bukan Anda, "
        "abaikan pesan ini.",
    ("account_exists", "en"):
        "Hi {name}, someone tried to sign up at Klinik Sehat with this email address. You "
        "already have an account: sign in with your email and password. If it was not you, "
        "ignore this message.",
    ("data_export", "id"):
        "Halo {name}, Anda meminta salinan data Anda lewat WhatsApp. Unduh di sini (berlaku "
        "{hours} jam): {link}\nJika itu bukan Anda, abaikan email ini dan ganti kata sandi "
        "Anda.",
    ("data_export", "en"):
        "Hi {name}, you asked for a copy of your data on WhatsApp. Download it here (valid "
        "for {hours} hours): {link}\nIf it was not you, ignore this e-mail and change your "
        "password.",
    ("schedule_changed", "en"):
        "Sorry, {doctor}'s schedule changed and booking {ref} on {date}, {time} needs a new "
        "time. Reply to this message to pick one.",
}


def render(kind: str, lang: str, params: dict[str, str]) -> str:
    template = _TEXTS.get((kind, lang)) or _TEXTS.get((kind, "id")) or "{text}"
    return template.format_map({**{"text": ""}, **params})


SUBJECTS = {
    "id": {"booking_confirmation": "Booking dikonfirmasi {ref}",
           "booking_cancelled": "Booking {ref} dibatalkan",
           "booking_rescheduled": "Jadwal booking {ref} berubah",
           "doctor_new_booking": "Pasien baru {ref}",
           "doctor_booking_cancelled": "Booking {ref} dibatalkan",
           "doctor_booking_rescheduled": "Booking {ref} dipindah",
           "doctor_no_show": "Pasien tidak hadir {ref}",
           "appointment_reminder": "Pengingat jadwal {ref}",
           "schedule_changed": "Jadwal dokter berubah: booking {ref}",
           "account_exists": "Percobaan pendaftaran dengan email Anda",
           "data_export": "Salinan data Anda",
           "": "Pesan dari klinik"},
    "en": {"booking_confirmation": "Booking confirmed {ref}",
           "booking_cancelled": "Booking {ref} cancelled",
           "booking_rescheduled": "Booking {ref} rescheduled",
           "doctor_new_booking": "New patient {ref}",
           "doctor_booking_cancelled": "Booking {ref} cancelled",
           "doctor_booking_rescheduled": "Booking {ref} moved",
           "doctor_no_show": "No-show {ref}",
           "appointment_reminder": "Appointment reminder {ref}",
           "schedule_changed": "Schedule changed: booking {ref}",
           "account_exists": "A sign-up attempt with your e-mail address",
           "data_export": "A copy of your data",
           "": "A message from the clinic"},
}
GREETING_NAME = {"id": "Bapak/Ibu", "en": "there"}
REOPEN_MESSAGE_MAX = 500

# The quick replies of the appointment_reminder template, per language.
REMINDER_REPLIES = {"id": ("Hadir", "Ubah jadwal", "Batal"),
                    "en": ("Attend", "Reschedule", "Cancel")}
REOPEN_MESSAGE_MAX = 500  # characters of a staff message carried by the reopen template
