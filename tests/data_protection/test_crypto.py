"""booking/crypto.py: AES-256-GCM values bound to their record, the keyring, blind indexes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from booking.crypto import (
    PREFIX,
    DecryptError,
    Keyring,
    KeyringError,
    key_id_of,
    new_key_b64,
    parse_data_keys,
)


def ring(*ids: str, index: str | None = None) -> tuple[Keyring, dict[str, str]]:
    keys = {i: new_key_b64() for i in ids}
    spec = ",".join(f"{i}:{k}" for i, k in keys.items())
    return Keyring.from_strings(spec, index or new_key_b64()), keys


def test_round_trip_of_strings_and_json_values() -> None:
    kr, _ = ring("k1")
    for value in ["Budi Santoso", "", "6281234567890", {"text": "halo", "n": [1, 2]},
                  ["a", "b"], {"at": datetime(2026, 12, 7, 1, 2, tzinfo=UTC)}]:
        sealed = kr.seal(value, "users", "name", "u1")
        assert sealed.startswith(PREFIX + "k1:")
        assert kr.open(sealed, "users", "name", "u1") == value


def test_each_value_gets_its_own_nonce() -> None:
    kr, _ = ring("k1")
    a, b = kr.seal("same", "users", "name", "u1"), kr.seal("same", "users", "name", "u1")
    assert a != b
    blob_a = base64.b64decode(a.split(":", 2)[2])
    assert len(blob_a) == 12 + len(b"ssame") + 16  # 96-bit nonce, payload, 128-bit tag


@pytest.mark.parametrize("where", [("users", "name", "u2"),        # another record
                                   ("users", "email", "u1"),       # another field
                                   ("chat_logs", "name", "u1")])   # another collection
def test_a_value_copied_elsewhere_does_not_decrypt(where: tuple[str, str, str]) -> None:
    kr, _ = ring("k1")
    sealed = kr.seal("Budi Santoso", "users", "name", "u1")
    with pytest.raises(DecryptError):
        kr.open(sealed, *where)


def test_tampering_and_unknown_keys_are_refused() -> None:
    kr, _ = ring("k1")
    sealed = kr.seal("Budi", "users", "name", "u1")
    blob = bytearray(base64.b64decode(sealed.split(":", 2)[2]))
    blob[-1] ^= 1
    with pytest.raises(DecryptError):
        kr.open(f"{PREFIX}k1:{base64.b64encode(bytes(blob)).decode()}", "users", "name", "u1")
    other, _ = ring("k9")
    with pytest.raises(DecryptError, match="no data key"):
        other.open(sealed, "users", "name", "u1")


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, keys = ring("k1")
    sealed_old = old.seal("Budi", "users", "name", "u1")
    new_b64 = new_key_b64()
    both = Keyring.from_strings(f"k2:{new_b64},k1:{keys['k1']}",
                                base64.b64encode(old.index_key).decode())
    assert both.primary == "k2"
    assert both.open(sealed_old, "users", "name", "u1") == "Budi"
    assert key_id_of(both.seal("Budi", "users", "name", "u1")) == "k2"
    assert both.blind_index("6281", "phone") == old.blind_index("6281", "phone")


def test_blind_index_normalises_and_separates_kinds() -> None:
    kr, _ = ring("k1")
    assert kr.blind_index(" Sari@Test.ID ", "email") == kr.blind_index("sari@test.id", "email")
    assert kr.blind_index("+62 812-3456", "phone") == kr.blind_index("628123456", "phone")
    assert kr.blind_index("628123456", "phone") != kr.blind_index("628123456", "email")
    other, _ = ring("k1")  # another index key: another index
    assert other.blind_index("628123456", "phone") != kr.blind_index("628123456", "phone")
    assert "628123456" not in kr.blind_index("628123456", "phone")


@pytest.mark.parametrize("spec", ["", "k1", "k1:notbase64!!", "k1:" + base64.b64encode(
    b"short").decode(), "bad id:" + new_key_b64(), f"k1:{new_key_b64()},k1:{new_key_b64()}"])
def test_malformed_keyrings_are_refused_without_echoing_keys(spec: str) -> None:
    with pytest.raises(KeyringError) as exc:
        parse_data_keys(spec)
    material = spec.partition(":")[2]
    assert not material or material.split(",")[0] not in str(exc.value)


def test_keyring_repr_shows_no_key_material() -> None:
    kr, keys = ring("k1")
    assert keys["k1"] not in repr(kr) and "k1" in repr(kr)
