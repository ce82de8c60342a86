"""Encryption at rest for personal data (PIPL Art. 51; Resident ID Card Law Art. 19).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the keys in
``settings.FIELD_ENCRYPTION_KEYS`` (first encrypts, all decrypt: rotation without downtime), and
indexed by a keyed hash so that "is this ID number already on the roll?" needs no decryption.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in settings.FIELD_ENCRYPTION_KEYS])


@cache
def _hash_key() -> bytes:
    return hashlib.sha256(b"linli-lookup:" + settings.FIELD_ENCRYPTION_KEYS[0].strip().encode()).digest()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a key was removed before re-encryption: say so, never guess
        raise RuntimeError("personal data cannot be decrypted with the configured LINLI_FIELD_KEYS") from exc


def encrypt_bytes(data: bytes) -> bytes:
    """A Fernet token of ``data`` (e.g. an uploaded roster waiting for confirmation)."""
    return _fernet().encrypt(data) if data else b""


def decrypt_bytes(token: bytes) -> bytes:
    """The bytes of a token from ``encrypt_bytes``; raises ``InvalidToken`` if it was altered."""
    return _fernet().decrypt(bytes(token)) if token else b""


def lookup_hash(value: str) -> str:
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest() if value else ""
