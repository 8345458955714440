"""Short human booking references, easy to read aloud and type on a phone."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L, 5/S, 2/Z, 8/B: the pairs people confuse when reading aloud or typing.
REF_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
REF_LENGTH = 6  # 25**6 = 244M codes: collisions are rare and retried on insert
REF_PATTERN = re.compile(rf"^[{REF_ALPHABET}]{{3}}-?[{REF_ALPHABET}]{{3}}$")


def new_ref() -> str:
    body = "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))
    return f"{body[:3]}-{body[3:]}"


def normalise_ref(text: str) -> str | None:
    """Accept 'k7m4qx', 'K7M 4QX', 'K7M-4QX'; return canonical 'K7M-4QX' or None."""
    cleaned = re.sub(r"[\s\-_.]", "", (text or "").upper())
    if len(cleaned) != REF_LENGTH or any(ch not in REF_ALPHABET for ch in cleaned):
        return None
    return f"{cleaned[:3]}-{cleaned[3:]}"
