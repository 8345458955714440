"""WhatsApp number normalisation (E.164 digits without '+', as Wati's waId)."""

from __future__ import annotations

import phonenumbers

from booking.errors import InvalidPhoneNumber

DEFAULT_REGION = "ID"


def normalise_whatsapp(raw: str, region: str = DEFAULT_REGION) -> str:
    """'081234567890' or '+62 812-3456-7890' -> '6281234567890'; invalid -> InvalidPhoneNumber."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("WhatsApp number is empty")
    # Wati's waId arrives as bare digits with country code: make it parseable.
    if text.isdigit() and not text.startswith("0"):
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


def mask_phone(number: str | None) -> str:
    """For logs: keep the country code and the last two digits only."""
    if not number:
        return "-"
    digits = "".join(ch for ch in number if ch.isdigit())
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]
