"""Encryption at rest and keyed hashing of addresses.

Message bodies, addresses and free-text fields are stored as Fernet tokens. Keys are a
list, newest first: the newest encrypts, every key decrypts, so a key can be rotated
without downtime. Addresses are looked up by an HMAC-SHA256 with a separate key, so
the database never holds a phone number in clear nor a hash that can be brute-forced
without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "secret-keys.json"


class DecryptionError(Exception):
    """A stored value cannot be decrypted with any configured key."""


class Cipher:
    """Encrypts text to bytes and back with a list of Fernet keys (newest first)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])

    def encrypt(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode("utf-8"))

    def encrypt_optional(self, text: str | None) -> bytes | None:
        return None if text is None else self.encrypt(text)

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise DecryptionError("stored value cannot be decrypted with the configured keys")

    def decrypt_optional(self, token: bytes | None) -> str | None:
        return None if token is None else self.decrypt(token)

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt a token with the newest key."""
        return self._fernet.rotate(bytes(token))


class AddressHasher:
    """Keyed hash of a channel address (phone number, chat id)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the address hash key must be at least 16 bytes")
        self._key = key

    def hash(self, channel: str, address: str) -> str:
        message = f"{channel}\x1f{address}".encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Keys:
    encryption_keys: list[str]
    address_hash_key: bytes

    def cipher(self) -> Cipher:
        return Cipher(self.encryption_keys)

    def hasher(self) -> AddressHasher:
        return AddressHasher(self.address_hash_key)


def _decode_hash_key(value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.encode("ascii") + b"=" * (-len(value) % 4))
    except (ValueError, UnicodeEncodeError):
        raise SettingsError("setting ADDRESS_HASH_KEY: must be URL-safe base64") from None
    if len(key) < 16:
        raise SettingsError("setting ADDRESS_HASH_KEY: must decode to at least 16 bytes")
    return key


def _check_fernet_keys(keys: list[str]) -> list[str]:
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise SettingsError(
                f"setting ENCRYPTION_KEYS: key #{index + 1} is not a valid Fernet key "
                "(32 URL-safe base64 bytes; make one with `run_bot.py keys generate`)"
            ) from None
    return keys


def generate_key_material() -> dict[str, object]:
    return {
        "encryption_keys": [Fernet.generate_key().decode("ascii")],
        "address_hash_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"),
    }


def load_keys(settings: Settings) -> Keys:
    """Keys from the environment; else from var/, generated there on first run."""
    env_keys = [k.strip() for k in settings.encryption_keys.split(",") if k.strip()]
    if env_keys or settings.address_hash_key:
        if not env_keys:
            raise SettingsError("setting ENCRYPTION_KEYS: missing while ADDRESS_HASH_KEY is set")
        if not settings.address_hash_key:
            raise SettingsError("setting ADDRESS_HASH_KEY: missing while ENCRYPTION_KEYS is set")
        return Keys(_check_fernet_keys(env_keys), _decode_hash_key(settings.address_hash_key))

    path = Path(settings.var_dir) / KEY_FILE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        material = generate_key_material()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(material, handle)
        logger.warning(
            "no ENCRYPTION_KEYS/ADDRESS_HASH_KEY in the environment: generated keys in %s "
            "(mode 0600). Keep this file safe and back it up; in production set the "
            "keys in the environment instead.",
            path,
        )
    try:
        material = json.loads(path.read_text(encoding="utf-8"))
        keys = [str(k) for k in material["encryption_keys"]]
        hash_key = str(material["address_hash_key"])
    except (OSError, ValueError, KeyError, TypeError):
        raise SettingsError(f"key file {path} is unreadable or malformed") from None
    return Keys(_check_fernet_keys(keys), _decode_hash_key(hash_key))


def mask_address(address: str) -> str:
    """What a counselor sees of her address: enough to recognise, not to dial."""
    prefix = ""
    if ":" in address:
        prefix, _, address = address.partition(":")
        prefix += ":"
    visible = 2 if len(address) > 6 else 0
    return prefix + "•" * max(len(address) - visible, 3) + (address[-visible:] if visible else "")
