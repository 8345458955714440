"""Who is writing: the WhatsApp sender (tracker.sender_id = waId) as a registered patient."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker

from booking.errors import InvalidPhoneNumber
from booking.models import User
from booking.phone import normalise_whatsapp
from booking.service import BookingService

log = logging.getLogger(__name__)


def wa_id(tracker: Tracker) -> str | None:
    """The sender's WhatsApp number (E.164 digits), or None for a non-phone sender id."""
    try:
        return normalise_whatsapp(tracker.sender_id or "")
    except InvalidPhoneNumber:
        return None


def sender_name(tracker: Tracker) -> str:
    """The WhatsApp profile name the gateway passes as metadata.senderName, if any."""
    meta: Any = (tracker.latest_message or {}).get("metadata") or {}
    name = meta.get("senderName") if isinstance(meta, dict) else None
    if not name:
        for event in reversed(tracker.events):
            if event.get("event") in ("user", "session_started"):
                meta = event.get("metadata") or {}
                name = meta.get("senderName") if isinstance(meta, dict) else None
                if name:
                    break
    return clean_name(name or "")


def clean_name(raw: str) -> str:
    """A plausible person name from free text ('nama saya budi santoso' -> 'Budi Santoso')."""
    text = re.sub(r"^(nama\s+(saya|sy|aku|ku)\s*(adalah|:)?|saya|aku|my name is|i am|i'm|"
                  r"it's|this is|namanya|nama)\s+", "", (raw or "").strip(), flags=re.I)
    text = re.sub(r"[^\w .'-]", " ", text, flags=re.UNICODE)
    text = " ".join(text.split())[:60]
    if len(text) < 2 or not re.search(r"[^\W\d_]", text) or re.search(r"\d", text):
        return ""
    return " ".join(w if w.isupper() and len(w) > 1 else w.capitalize() for w in text.split())


async def ensure_patient(service: BookingService, tracker: Tracker, language: str
                         ) -> User | None:
    """Register a first-time WhatsApp sender (number + WhatsApp name); None if not a phone."""
    number = wa_id(tracker)
    if number is None:
        return None
    user: User | None = await service.store.users.find(whatsapp=number)
    name = sender_name(tracker)
    if user is None:
        user = await service.store.users.upsert_whatsapp_patient(number, name, language)
        log.info("registered WhatsApp patient %s", user.id)
    elif not user.name and name:
        user = await set_name(service, user, name)
    return user


async def set_name(service: BookingService, user: User, name: str) -> User:
    updated = user.model_copy(update={"name": name})
    result: User = await service.store.users.update(updated)
    return result
