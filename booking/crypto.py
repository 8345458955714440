"""Field-level encryption of personal data (pure: no I/O, no driver).

- `Keyring`: AES-256-GCM data keys by id; the first (primary) encrypts, every key decrypts,
  so keys rotate without downtime (`python -m booking.keys rotate` re-encrypts the rest).
- `Keyring.seal` / `open`: one value (any JSON value) -> ``enc1:<key id>:<base64(nonce|ct)>``,
  a random 96-bit nonce per value and associated data ``collection|field|document id``: a
  ciphertext copied into another record, field or collection does not decrypt.
- `Keyring.blind_index`: HMAC-SHA256 of the normalised value under a separate key, stored
  beside the ciphertext so equality lookups (phone, e-mail) and unique indexes keep working
  without the plain value.

Keys come from `DATA_KEYS="<id>:<base64 of 32 bytes>,<id>:<...>"` and `DATA_INDEX_KEY`
(base64 of 32 bytes), or the `KLINIK_` variants. Without them a process gets a throw-away
keyring, generated once per process (the embedded default and the tests): data sealed
with it is unreadable after a restart, which is right for in-process stand-ins only;
production refuses to start without keys (app/settings.py).

The design leaves room for an envelope with Cloud KMS (docs/data-protection.md): the
configured data keys would be stored wrapped by a KMS key and unwrapped at start-up;
nothing below changes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1:"          # a sealed value (format version 1)
INDEX_PREFIX = "bi1:"     # a blind index value
NONCE_BYTES = 12          # 96 bits, the size AES-GCM is defined for
KEY_BYTES = 32            # AES-256
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_DATETIME_TAG = "$dt"


class KeyringError(ValueError):
    """A key specification is malformed (never carries key material in its message)."""


class DecryptError(ValueError):
    """A sealed value does not decrypt: unknown key, or it belongs to another record/field."""


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyringError("a key is not valid base64") from exc


def parse_data_keys(spec: str) -> list[tuple[str, bytes]]:
    """``id:base64,id:base64`` -> [(id, 32 bytes)], first = primary."""
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key_id, sep, material = part.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise KeyringError("DATA_KEYS entries look like <id>:<base64 of 32 bytes>; "
                            "ids are letters, digits, - or _")
        raw = _b64decode(material)
        if len(raw) != KEY_BYTES:
            raise KeyringError(f"data key {key_id!r} is not 32 bytes (AES-256)")
        if any(k == key_id for k, _ in keys):
            raise KeyringError(f"data key id {key_id!r} appears twice")
        keys.append((key_id, raw))
    if not keys:
        raise KeyringError("DATA_KEYS holds no key")
    return keys


def parse_index_key(spec: str) -> bytes:
    raw = _b64decode(spec)
    if len(raw) != KEY_BYTES:
        raise KeyringError("DATA_INDEX_KEY is not 32 bytes")
    return raw


def new_key_b64() -> str:
    """A fresh 32-byte key, base64 (what `python -m booking.keys new` prints)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _encode(value: Any) -> bytes:
    def default(v: Any) -> Any:
        if isinstance(v, datetime):
            return {_DATETIME_TAG: v.isoformat()}
        raise TypeError(f"cannot seal a {type(v).__name__}")

    if isinstance(value, str):
        return b"s" + value.encode()
    return b"j" + json.dumps(value, separators=(",", ":"), default=default,
                             ensure_ascii=False).encode()


def _decode(data: bytes) -> Any:
    def hook(obj: dict[str, Any]) -> Any:
        if len(obj) == 1 and _DATETIME_TAG in obj:
            parsed = datetime.fromisoformat(obj[_DATETIME_TAG])
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return obj

    kind, body = data[:1], data[1:]
    if kind == b"s":
        return body.decode()
    if kind == b"j":
        return json.loads(body, object_hook=hook)
    raise DecryptError("unknown payload encoding")


def associated_data(collection: str, field_name: str, doc_id: Any) -> bytes:
    return f"{collection}|{field_name}|{doc_id}".encode()


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str:
    return value[len(PREFIX):].split(":", 1)[0]


@dataclass(frozen=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]
    index_key: bytes
    ephemeral: bool = False
    _aead: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for key_id, raw in self.keys:
            self._aead[key_id] = AESGCM(raw)

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(ids={self.key_ids}, ephemeral={self.ephemeral})"

    @property
    def primary(self) -> str:
        return self.keys[0][0]

    @property
    def key_ids(self) -> list[str]:
        return [k for k, _ in self.keys]

    @classmethod
    def from_strings(cls, data_keys: str, index_key: str) -> Keyring:
        return cls(tuple(parse_data_keys(data_keys)), parse_index_key(index_key))

    @classmethod
    def generate(cls, key_id: str = "tmp") -> Keyring:
        """A throw-away keyring (embedded default, tests)."""
        return cls(((key_id, secrets.token_bytes(KEY_BYTES)),), secrets.token_bytes(KEY_BYTES),
                   ephemeral=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Keyring | None:
        """From DATA_KEYS / DATA_INDEX_KEY (KLINIK_ prefix wins); None when unset."""
        env = os.environ if env is None else env
        keys = env.get("KLINIK_DATA_KEYS") or env.get("DATA_KEYS")
        index = env.get("KLINIK_DATA_INDEX_KEY") or env.get("DATA_INDEX_KEY")
        if not keys and not index:
            return None
        if not keys or not index:
            raise KeyringError("DATA_KEYS and DATA_INDEX_KEY are set together")
        return cls.from_strings(keys, index)

    def export(self) -> str:
        """``DATA_KEYS;DATA_INDEX_KEY`` of this keyring (for the ephemeral hand-down only)."""
        keys = ",".join(f"{k}:{base64.b64encode(raw).decode()}" for k, raw in self.keys)
        return f"{keys};{base64.b64encode(self.index_key).decode()}"

    # ---- values ------------------------------------------------------------------------
    def seal(self, value: Any, collection: str, field_name: str, doc_id: Any) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        ct = self._aead[self.primary].encrypt(
            nonce, _encode(value), associated_data(collection, field_name, doc_id))
        return f"{PREFIX}{self.primary}:{base64.b64encode(nonce + ct).decode()}"

    def open(self, sealed: str, collection: str, field_name: str, doc_id: Any) -> Any:
        try:
            key_id, body = sealed[len(PREFIX):].split(":", 1)
            blob = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise DecryptError("malformed sealed value") from exc
        aead = self._aead.get(key_id)
        if aead is None:
            raise DecryptError(f"no data key {key_id!r} in the keyring")
        try:
            plain = aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:],
                                 associated_data(collection, field_name, doc_id))
        except InvalidTag as exc:
            raise DecryptError(
                f"{collection}.{field_name} of {doc_id} does not decrypt") from exc
        return _decode(plain)

    def blind_index(self, value: Any, kind: str = "") -> str:
        """HMAC-SHA256 of the normalised value; `kind` separates namespaces (phone, email)."""
        norm = normalise(value, kind)
        mac = hmac.digest(self.index_key, f"{kind}|{norm}".encode(), "sha256")
        return INDEX_PREFIX + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def normalise(value: Any, kind: str) -> str:
    text = str(value).strip()
    if kind == "email":
        return text.lower()
    if kind == "phone":
        return re.sub(r"\D", "", text)
    return text


# A throw-away keyring is handed down to child processes of the same run (the test
# suite's worker processes, `make run`'s children) through this variable, which production
# settings never read: production needs DATA_KEYS and DATA_INDEX_KEY themselves.
EPHEMERAL_ENV = "KLINIK_EPHEMERAL_DATA_KEYS"

_process_keyring: Keyring | None = None
_lock = threading.Lock()


def _ephemeral_from_env() -> Keyring | None:
    spec = os.environ.get(EPHEMERAL_ENV)
    if not spec:
        return None
    keys, _, index = spec.partition(";")
    ring = Keyring.from_strings(keys, index)
    return Keyring(ring.keys, ring.index_key, ephemeral=True)


def process_keyring() -> Keyring:
    """The keyring of this process: the configured keys, else one throw-away keyring that
    every store of the process (and its children) shares."""
    global _process_keyring
    with _lock:
        if _process_keyring is None:
            ring = Keyring.from_env() or _ephemeral_from_env()
            if ring is None:
                ring = Keyring.generate()
                os.environ[EPHEMERAL_ENV] = ring.export()
            _process_keyring = ring
        return _process_keyring


def set_process_keyring(keyring: Keyring) -> None:
    """Installed at start-up from the settings (app/context.py)."""
    global _process_keyring
    with _lock:
        _process_keyring = keyring
