// Indonesian first, English on request (remembered on this device).
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

const id = {
  app: { name: "Klinik", tagline: "Buat janji dokter", skip: "Lanjut ke isi" },
  nav: {
    search: "Cari dokter", bookings: "Booking saya", login: "Masuk", signup: "Daftar",
    logout: "Keluar", agenda: "Agenda", schedule: "Jadwal", staff: "Hari ini",
    language: "Bahasa", dashboard: "Dasbor analitik",
  },
  search: {
    title: "Cari dokter", specialty: "Spesialisasi", city: "Kota", date: "Tanggal (opsional)",
    part: "Waktu", anyPart: "Kapan saja", name: "Nama dokter (opsional)", submit: "Cari",
    results_one: "{{count}} dokter", results_other: "{{count}} dokter", none: "Tidak ada dokter yang cocok.",
    unknownSpecialty: "Spesialisasi tidak dikenal. Pilih dari daftar.",
    unknownCity: "Kota tidak dikenal. Pilih dari daftar.",
    nextSlots: "Jadwal kosong terdekat", noSlots: "Belum ada jadwal kosong minggu ini.",
    fee: "Biaya", languages: "Bahasa", seeWeek: "Lihat jadwal seminggu",
  },
  part: { pagi: "Pagi", siang: "Siang", sore: "Sore", malam: "Malam" },
  doctor: {
    week: "Jadwal kosong", prevWeek: "Minggu sebelumnya", nextWeek: "Minggu berikutnya",
    chooseDay: "Pilih hari", noSlotsDay: "Tidak ada jadwal kosong di hari ini.",
    holding: "Menahan jadwal…", rescheduling: "Pilih jadwal baru untuk booking {{ref}}.",
    loginToBook: "Masuk dulu untuk membuat janji.",
    free_one: "{{count}} kosong", free_other: "{{count}} kosong",
  },
  confirm: {
    title: "Periksa lalu konfirmasi", doctor: "Dokter", clinic: "Klinik", when: "Waktu",
    fee: "Biaya", address: "Alamat", held: "Jadwal ini kami tahan sampai {{time}}.",
    confirm: "Konfirmasi booking", reschedule: "Pindahkan ke jadwal ini", back: "Pilih jadwal lain",
    taken: "Maaf, jadwal itu baru saja diambil orang lain. Pilih salah satu jadwal berikut:",
    noAlternatives: "Tidak ada jadwal lain yang kosong dalam waktu dekat.",
  },
  done: {
    title: "Booking berhasil", ref: "Kode booking", calendar: "Tambahkan ke kalender",
    mine: "Lihat booking saya", whatsapp: "Konfirmasi juga kami kirim lewat WhatsApp.",
  },
  bookings: {
    title: "Booking saya", upcoming: "Akan datang", past: "Riwayat", none: "Belum ada booking.",
    cancel: "Batalkan", cancelConfirm: "Ya, batalkan", keep: "Tidak jadi", reschedule: "Ubah jadwal",
    cancelled: "Booking dibatalkan.", ref: "Kode",
  },
  status: {
    confirmed: "Terkonfirmasi", cancelled: "Dibatalkan", completed: "Selesai",
    no_show: "Tidak hadir", rescheduled: "Dipindah",
  },
  auth: {
    loginTitle: "Masuk", signupTitle: "Daftar akun pasien", email: "Email", password: "Kata sandi",
    name: "Nama lengkap", whatsapp: "Nomor WhatsApp", language: "Bahasa pesan",
    login: "Masuk", signup: "Daftar", noAccount: "Belum punya akun?", haveAccount: "Sudah punya akun?",
    wrong: "Email atau kata sandi salah.", verifyTitle: "Verifikasi nomor WhatsApp",
    verifyIntro: "Kami kirim kode 6 angka ke WhatsApp Anda.", send: "Kirim kode", code: "Kode",
    verify: "Verifikasi", verified: "Nomor WhatsApp terverifikasi.", later: "Nanti saja",
    sentTo: "Kode dikirim ke {{to}}.", tooMany: "Terlalu banyak percobaan. Coba lagi nanti.",
  },
  validation: {
    name: "Nama minimal 2 huruf.", email: "Alamat email tidak valid.",
    whatsapp: "Nomor WhatsApp tidak valid (contoh 0812 3456 7890).",
    password: "Kata sandi minimal 8 karakter.", required: "Wajib diisi.",
    time: "Isi jam mulai dan selesai.", range: "Jam selesai harus setelah jam mulai.",
  },
  agenda: {
    title: "Agenda", today: "Hari ini", tomorrow: "Besok", none: "Tidak ada pasien.",
    noShow: "Tandai tidak hadir", patient: "Pasien", feed: "Kalender (iCal)",
    feedMake: "Buat tautan kalender", feedHint: "Langganan tautan ini di Google Calendar atau kalender ponsel.",
    notLinked: "Akun ini belum terhubung ke data dokter.",
  },
  schedule: {
    title: "Jadwal praktik", weekly: "Jam praktik mingguan", breaks: "Istirahat", daysOff: "Hari libur",
    day: "Hari", from: "Mulai", to: "Selesai", add: "Tambah", remove: "Hapus", everyDay: "Setiap hari",
    save: "Simpan jadwal", saved: "Jadwal tersimpan.", addDayOff: "Tambah hari libur",
    stranded: "Perubahan ini mengenai booking berikut. Pasien akan diberi tahu jika Anda tetap menyimpan:",
    force: "Tetap simpan dan beri tahu pasien", notified: "{{count}} pasien diberi tahu.",
    slot: "Durasi per pasien (menit)",
  },
  weekday: ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
  staff: {
    title: "Booking hari ini per dokter", city: "Kota", date: "Tanggal", none: "Tidak ada booking.",
    doctors: "Kelola dokter", deactivate: "Nonaktifkan", activate: "Aktifkan", inbox: "Kotak masuk handoff",
    save: "Simpan", edit: "Ubah", photo: "Unggah foto", add: "Tambah dokter", inactive: "Nonaktif",
  },
  chat: { whatsapp: "Chat lewat WhatsApp", text: "Halo, saya mau buat janji dokter." },
  apiError: {
    cutoff_passed: "Booking ini tidak bisa diubah lagi: perubahan ditutup {{hours}} jam sebelum janji.",
    too_many_bookings: "Anda sudah punya terlalu banyak booking yang akan datang. Batalkan salah satu dulu.",
    patient_overlap: "Anda sudah punya booking lain di jam yang sama.",
    slot_unavailable: "Jadwal itu tidak tersedia lagi. Pilih jadwal lain.",
    invalid_transition: "Booking ini sudah tidak bisa diubah.",
    rate_limited: "Terlalu banyak percobaan. Coba lagi nanti.",
  },
  error: { generic: "Terjadi kesalahan. Coba lagi.", notFound: "Halaman tidak ditemukan.", offline: "Tidak bisa menghubungi server." },
  loading: "Memuat…",
};

type Dict = typeof id;

const en: Dict = {
  app: { name: "Klinik", tagline: "Book a doctor", skip: "Skip to content" },
  nav: {
    search: "Find a doctor", bookings: "My bookings", login: "Sign in", signup: "Sign up",
    logout: "Sign out", agenda: "Agenda", schedule: "Schedule", staff: "Today",
    language: "Language", dashboard: "Analytics dashboard",
  },
  search: {
    title: "Find a doctor", specialty: "Specialty", city: "City", date: "Date (optional)",
    part: "Time of day", anyPart: "Any time", name: "Doctor's name (optional)", submit: "Search",
    results_one: "{{count}} doctor", results_other: "{{count}} doctors", none: "No doctor matches.",
    unknownSpecialty: "Unknown specialty. Pick one from the list.",
    unknownCity: "Unknown city. Pick one from the list.",
    nextSlots: "Next free slots", noSlots: "No free slot this week yet.",
    fee: "Fee", languages: "Languages", seeWeek: "See the week",
  },
  part: { pagi: "Morning", siang: "Midday", sore: "Afternoon", malam: "Evening" },
  doctor: {
    week: "Free slots", prevWeek: "Previous week", nextWeek: "Next week",
    chooseDay: "Choose a day", noSlotsDay: "No free slot on this day.",
    holding: "Holding the slot…", rescheduling: "Choose a new time for booking {{ref}}.",
    loginToBook: "Sign in first to book.",
    free_one: "{{count}} free", free_other: "{{count}} free",
  },
  confirm: {
    title: "Check, then confirm", doctor: "Doctor", clinic: "Clinic", when: "When",
    fee: "Fee", address: "Address", held: "We hold this slot for you until {{time}}.",
    confirm: "Confirm booking", reschedule: "Move to this time", back: "Choose another time",
    taken: "Sorry, someone just took that slot. Choose one of these instead:",
    noAlternatives: "No other free slot soon.",
  },
  done: {
    title: "Booked", ref: "Booking code", calendar: "Add to calendar",
    mine: "See my bookings", whatsapp: "We also send the confirmation on WhatsApp.",
  },
  bookings: {
    title: "My bookings", upcoming: "Upcoming", past: "Past", none: "No bookings yet.",
    cancel: "Cancel", cancelConfirm: "Yes, cancel", keep: "Keep it", reschedule: "Reschedule",
    cancelled: "Booking cancelled.", ref: "Code",
  },
  status: {
    confirmed: "Confirmed", cancelled: "Cancelled", completed: "Completed",
    no_show: "No-show", rescheduled: "Moved",
  },
  auth: {
    loginTitle: "Sign in", signupTitle: "Create a patient account", email: "Email", password: "Password",
    name: "Full name", whatsapp: "WhatsApp number", language: "Message language",
    login: "Sign in", signup: "Sign up", noAccount: "No account yet?", haveAccount: "Already have an account?",
    wrong: "Wrong email or password.", verifyTitle: "Verify your WhatsApp number",
    verifyIntro: "We send a 6-digit code to your WhatsApp.", send: "Send code", code: "Code",
    verify: "Verify", verified: "WhatsApp number verified.", later: "Later",
    sentTo: "Code sent to {{to}}.", tooMany: "Too many attempts. Try again later.",
  },
  validation: {
    name: "At least 2 letters.", email: "Not a valid email address.",
    whatsapp: "Not a valid WhatsApp number (e.g. 0812 3456 7890).",
    password: "At least 8 characters.", required: "Required.",
    time: "Give a start and an end time.", range: "The end must be after the start.",
  },
  agenda: {
    title: "Agenda", today: "Today", tomorrow: "Tomorrow", none: "No patients.",
    noShow: "Mark no-show", patient: "Patient", feed: "Calendar (iCal)",
    feedMake: "Create a calendar link", feedHint: "Subscribe to this link in Google Calendar or your phone's calendar.",
    notLinked: "This account is not linked to a doctor.",
  },
  schedule: {
    title: "Practice schedule", weekly: "Weekly hours", breaks: "Breaks", daysOff: "Days off",
    day: "Day", from: "From", to: "To", add: "Add", remove: "Remove", everyDay: "Every day",
    save: "Save schedule", saved: "Schedule saved.", addDayOff: "Add a day off",
    stranded: "This change affects the bookings below. Their patients are told if you save anyway:",
    force: "Save anyway and tell the patients", notified: "{{count}} patients told.",
    slot: "Minutes per patient",
  },
  weekday: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
  staff: {
    title: "Today's bookings per doctor", city: "City", date: "Date", none: "No bookings.",
    doctors: "Manage doctors", deactivate: "Deactivate", activate: "Activate", inbox: "Handoff inbox",
    save: "Save", edit: "Edit", photo: "Upload photo", add: "Add a doctor", inactive: "Inactive",
  },
  chat: { whatsapp: "Chat on WhatsApp", text: "Hello, I would like to book a doctor." },
  apiError: {
    cutoff_passed: "This booking can no longer be changed: changes close {{hours}} hours before the appointment.",
    too_many_bookings: "You already have too many upcoming bookings. Cancel one first.",
    patient_overlap: "You already have another booking at that time.",
    slot_unavailable: "That time is no longer available. Choose another.",
    invalid_transition: "This booking can no longer be changed.",
    rate_limited: "Too many attempts. Try again later.",
  },
  error: { generic: "Something went wrong. Try again.", notFound: "Page not found.", offline: "Cannot reach the server." },
  loading: "Loading…",
};

const LANG_KEY = "klinik.web.lang";
const saved = localStorage.getItem(LANG_KEY);

i18n.use(initReactI18next).init({
  resources: { id: { translation: id }, en: { translation: en } },
  lng: saved === "en" ? "en" : "id",
  fallbackLng: "id",
  interpolation: { escapeValue: false }, // React escapes
  returnObjects: true,
});

i18n.on("languageChanged", (lng) => {
  localStorage.setItem(LANG_KEY, lng);
  document.documentElement.lang = lng;
});
document.documentElement.lang = i18n.language;

export default i18n;
