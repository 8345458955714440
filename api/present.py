"""Domain objects -> response models. Times are shown with the clinic's UTC offset."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from api import schemas as s
from booking.catalog import specialty_label
from booking.models import Booking, Doctor, User
from booking.service import SlotTaken
from booking.slots import Interval

UTC_ZONE = ZoneInfo("UTC")


def doctor_out(doctor: Doctor) -> s.DoctorOut:
    return s.DoctorOut(id=doctor.id, name=doctor.name, specialty=doctor.specialty,
                       specialty_name=specialty_label(doctor.specialty, "id"), city=doctor.city,
                       clinic=doctor.clinic, address=doctor.address, timezone=doctor.timezone,
                       fee=doctor.fee, languages=list(doctor.languages),
                       slot_minutes=doctor.slot_minutes, active=doctor.active,
                       photo_url=doctor.photo_url)


def slot_out(slot: Interval, tz: ZoneInfo) -> s.SlotOut:
    return s.SlotOut(start=slot.start.astimezone(tz), end=slot.end.astimezone(tz))


def booking_out(booking: Booking, tz: ZoneInfo | None) -> s.BookingOut:
    zone = tz or UTC_ZONE
    return s.BookingOut(id=booking.id, ref=booking.ref, doctor_id=booking.doctor_id,
                        patient_id=booking.patient_id, start=booking.start.astimezone(zone),
                        end=booking.end.astimezone(zone), status=booking.status,
                        source=booking.source, cancel_reason=booking.cancel_reason,
                        rescheduled_from=booking.rescheduled_from,
                        rescheduled_to=booking.rescheduled_to,
                        created_at=booking.created_at)


def user_out(user: User) -> s.UserOut:
    return s.UserOut(id=user.id, name=user.name, email=user.email,
                     whatsapp=user.whatsapp or user.whatsapp_pending,
                     whatsapp_verified=user.whatsapp is not None, role=user.role,
                     doctor_id=user.doctor_id, language=user.language,
                     created_at=user.created_at)


def schedule_out(doctor: Doctor) -> s.ScheduleOut:
    data = doctor.schedule().model_dump(mode="json")
    return s.ScheduleOut.model_validate({"doctor_id": doctor.id, **data})


def slot_taken_out(result: SlotTaken) -> s.SlotTakenOut:
    messages = {"taken": "that slot was just taken", "held": "someone is confirming that slot",
                "busy": "that slot is being booked right now"}
    return s.SlotTakenOut(
        error="slot_taken", message=messages.get(result.reason, messages["taken"]),
        details={"reason": result.reason, "doctor_id": result.doctor_id,
                 "start": result.start.isoformat()},
        alternatives=[s.AlternativeOut(doctor_id=d.id, doctor_name=d.name,
                                       start=slot.start.astimezone(d.tz),
                                       end=slot.end.astimezone(d.tz))
                      for d, slot in result.alternatives])
