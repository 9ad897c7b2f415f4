"""Secrets at rest: Shopify access tokens are encrypted with a key derived
from AFTERCARE_SECRET_KEY (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class DecryptionError(Exception):
    """The ciphertext was not made with this secret key (or was altered)."""


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aftercare token encryption").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret_key: str, plaintext: str) -> bytes:
    return _fernet(secret_key).encrypt(plaintext.encode())


def decrypt(secret_key: str, ciphertext: bytes) -> str:
    try:
        return _fernet(secret_key).decrypt(ciphertext).decode()
    except InvalidToken:
        raise DecryptionError("stored secret cannot be decrypted with AFTERCARE_SECRET_KEY") from None
