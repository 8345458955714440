"""The message templates the sandbox treats as approved (as a Wati account would list them).

Parameters are named ({{name}}) as Wati's custom_params; English variants end in "_en".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PARAM = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    body: str
    language: str = "id"
    category: str = "UTILITY"
    quick_replies: tuple[str, ...] = ()
    params: tuple[str, ...] = field(default=())

    def required(self) -> list[str]:
        return list(dict.fromkeys(_PARAM.findall(self.body)))

    def render(self, values: dict[str, str]) -> str:
        return _PARAM.sub(lambda m: values.get(m.group(1), m.group(0)), self.body)


_ID = [
    Template("booking_confirmation",
             "Halo {{name}}, booking Anda dikonfirmasi ✅\nKode: {{ref}}\n{{doctor}} "
             "({{specialty}})\n{{date}}, {{time}}\n{{clinic}}"),
    Template("appointment_reminder",
             "Halo {{name}}, pengingat: Anda ada jadwal dengan {{doctor}} pada {{date}}, "
             "{{time}} di {{clinic}} (kode {{ref}}). Apakah Anda akan hadir?",
             quick_replies=("Hadir", "Ubah jadwal", "Batal")),
    Template("booking_cancelled",
             "Halo {{name}}, booking {{ref}} dengan {{doctor}} pada {{date}}, {{time}} "
             "sudah dibatalkan."),
    Template("booking_rescheduled",
             "Halo {{name}}, jadwal booking {{ref}} dengan {{doctor}} dipindah ke {{date}}, "
             "{{time}}."),
    Template("doctor_new_booking",
             "Pasien baru: {{patient}}, {{date}}, {{time}} (kode {{ref}})."),
    Template("schedule_changed",
             "Halo {{name}}, mohon maaf, jadwal {{doctor}} berubah dan booking {{ref}} pada "
             "{{date}}, {{time}} perlu dijadwalkan ulang. Balas pesan ini untuk memilih "
             "waktu baru."),
    Template("whatsapp_verification",
             "Kode verifikasi Klinik Sehat: {{code}}. Berlaku 10 menit. Jangan berikan kode "
             "ini kepada siapa pun.", category="AUTHENTICATION"),
    Template("reopen_conversation",
             "Halo {{name}}, ada pesan untuk Anda dari klinik: {{message}}\nBalas pesan ini "
             "untuk melanjutkan percakapan."),
]
_EN = [
    Template("booking_confirmation_en",
             "Hi {{name}}, your booking is confirmed ✅\nRef: {{ref}}\n{{doctor}} "
             "({{specialty}})\n{{date}}, {{time}}\n{{clinic}}", language="en"),
    Template("appointment_reminder_en",
             "Hi {{name}}, reminder: you see {{doctor}} on {{date}}, {{time}} at {{clinic}} "
             "(ref {{ref}}). Will you attend?", language="en",
             quick_replies=("Attend", "Reschedule", "Cancel")),
    Template("booking_cancelled_en",
             "Hi {{name}}, booking {{ref}} with {{doctor}} on {{date}}, {{time}} has been "
             "cancelled.", language="en"),
    Template("booking_rescheduled_en",
             "Hi {{name}}, booking {{ref}} with {{doctor}} moved to {{date}}, {{time}}.",
             language="en"),
    Template("doctor_new_booking_en",
             "New patient: {{patient}}, {{date}}, {{time}} (ref {{ref}}).", language="en"),
    Template("schedule_changed_en",
             "Hi {{name}}, sorry: {{doctor}}'s schedule changed and booking {{ref}} on {{date}}, "
             "{{time}} needs a new time. Reply to this message to pick one.", language="en"),
    Template("whatsapp_verification_en",
             "Klinik Sehat verification code: {{code}}. Valid for 10 minutes. Do not share "
             "it.", language="en", category="AUTHENTICATION"),
    Template("reopen_conversation_en",
             "Hi {{name}}, the clinic has a message for you: {{message}}\nReply to continue "
             "the conversation.", language="en"),
]

TEMPLATES: dict[str, Template] = {t.name: t for t in _ID + _EN}
