from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import (
    KEY_FILE_NAME,
    AddressHasher,
    Cipher,
    DecryptionError,
    generate_key_material,
    load_keys,
    mask_address,
)
from bot.settings import Settings, SettingsError


def test_round_trip_and_no_clear_text() -> None:
    cipher = Cipher([Fernet.generate_key().decode()])
    token = cipher.encrypt("rajli kaydrbni")
    assert b"rajli" not in token
    assert cipher.decrypt(token) == "rajli kaydrbni"
    assert cipher.decrypt_optional(None) is None


def test_old_keys_still_decrypt_and_rotation_uses_the_newest() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Cipher([old]).encrypt("salam")
    both = Cipher([new, old])
    assert both.decrypt(token) == "salam"
    rotated = both.rotate(token)
    assert Cipher([new]).decrypt(rotated) == "salam"
    with pytest.raises(DecryptionError):
        Cipher([old]).decrypt(rotated)


def test_keyed_hash_depends_on_key_and_channel() -> None:
    a, b = AddressHasher(b"k" * 32), AddressHasher(b"j" * 32)
    assert a.hash("sms", "+212600000000") == a.hash("sms", "+212600000000")
    assert a.hash("sms", "+212600000000") != b.hash("sms", "+212600000000")
    assert a.hash("sms", "+212600000000") != a.hash("whatsapp", "+212600000000")
    assert "212600000000" not in a.hash("sms", "+212600000000")


def test_keys_are_generated_once_with_0600(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(var_dir=tmp_path, encryption_keys="", address_hash_key="")
    keys = load_keys(settings)
    path = tmp_path / KEY_FILE_NAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "generated keys" in caplog.text
    again = load_keys(settings)
    assert again.encryption_keys == keys.encryption_keys
    assert again.address_hash_key == keys.address_hash_key


def test_keys_from_the_environment() -> None:
    material = generate_key_material()
    settings = Settings(encryption_keys=material["encryption_keys"][0],  # type: ignore[index]
                        address_hash_key=material["address_hash_key"])
    keys = load_keys(settings)
    assert keys.encryption_keys == material["encryption_keys"]


@pytest.mark.parametrize(("keys", "hash_key", "message"), [
    ("not-a-key", "x" * 43, "setting ENCRYPTION_KEYS: key #1 is not a valid Fernet key"),
    ("", "x" * 43, "setting ENCRYPTION_KEYS: missing while ADDRESS_HASH_KEY is set"),
    (Fernet.generate_key().decode(), "", "setting ADDRESS_HASH_KEY: missing"),
    (Fernet.generate_key().decode(), "c2hvcnQ", "setting ADDRESS_HASH_KEY: must decode"),
])
def test_bad_keys_name_the_setting(keys: str, hash_key: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_keys(Settings(encryption_keys=keys, address_hash_key=hash_key))


def test_mask_address() -> None:
    assert mask_address("+212612345678") == "•" * 11 + "78"
    assert "612345" not in mask_address("whatsapp:+212612345678")
    assert mask_address("whatsapp:+212612345678").startswith("whatsapp:")
    assert mask_address("1234") == "••••"
