"""Marketplace tokens at rest: MultiFernet over settings.TOKEN_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts. To rotate: put a new key first, keep the old ones after
it, deploy, run `manage.py rotate_token_keys`, then drop the old keys. Fernet authenticates as well
as encrypts, so a tampered or foreign ciphertext fails loudly instead of yielding garbage.

Errors never carry the token or the ciphertext: only that decryption failed.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TokenDecryptionError(Exception):
    """Stored ciphertext that none of the configured keys can open (wrong key set, tampering)."""


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:  # not 32 url-safe base64-encoded bytes; the key is not echoed
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes), "
            "comma-separated, newest first."
        ) from exc


def _keys() -> MultiFernet:
    # Keyed on the current setting so tests (and a reloaded config) never use a stale key set.
    return _multifernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt_token(token: str) -> str:
    """Ciphertext of `token` under the first key; an empty token stays empty (nothing stored)."""
    if not token:
        return ""
    return _keys().encrypt(token.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _keys().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError(
            "A stored token could not be decrypted with any TOKEN_ENCRYPTION_KEYS key."
        ) from None


def rotate_ciphertext(ciphertext: str) -> str:
    """The same token re-encrypted under the first key (any configured key may have made it)."""
    if not ciphertext:
        return ""
    try:
        return _keys().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError(
            "A stored token could not be decrypted with any TOKEN_ENCRYPTION_KEYS key."
        ) from None
