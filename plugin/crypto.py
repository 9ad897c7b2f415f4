"""Secrets at rest: Shopify access tokens are encrypted with a key derived
from AFTERCARE_SECRET_KEY (Fernet: AES-128-CBC + HMAC-SHA256).

Rotation: tokens are always encrypted under the current key, and decrypted
under the current or the previous one (AFTERCARE_SECRET_KEY_PREVIOUS), so a
new key can be put in place while tokens stored under the old one still work;
each is re-encrypted under the new key the next time it is stored.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
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


def decrypt(secret_keys: str | Sequence[str | None], ciphertext: bytes) -> str:
    """Decrypt with the current key or, during a rotation, the previous one
    (``secret_keys`` as (current, previous); None entries are skipped)."""
    keys = [secret_keys] if isinstance(secret_keys, str) else [k for k in secret_keys if k]
    try:
        return MultiFernet([_fernet(k) for k in keys]).decrypt(ciphertext).decode()
    except InvalidToken:
        raise DecryptionError(
            "stored secret cannot be decrypted with AFTERCARE_SECRET_KEY (or AFTERCARE_SECRET_KEY_PREVIOUS)"
        ) from None
