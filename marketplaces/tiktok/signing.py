"""TikTok Shop request and webhook signatures (contract §2 and §8.1).

Pure functions on bytes and strings, with no Django import: the sandbox shares this module (and
only this one) with the client. Both are pinned by the official vectors SV1 and WV1 in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

# Never part of the signed string (§2.1 step 1). `x-tts-access-token` is listed because one SDK
# drops it too, should it ever be sent as a query parameter.
_UNSIGNED_PARAMS = frozenset({"sign", "access_token", "x-tts-access-token"})


def sign_request(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes | None = None
) -> str:
    """Lowercase hex HMAC-SHA256 of secret + path + sorted key/value pairs + body + secret.

    `query` holds the decoded values that will be sent (a page_token with `+` or `/` is signed raw).
    `body` is the exact bytes on the wire; pass None for GET and for multipart uploads, which are
    not signed (§2.1 step 5).
    """
    pairs = "".join(f"{key}{query[key]}" for key in sorted(query) if key not in _UNSIGNED_PARAMS)
    message = path.encode() + pairs.encode()
    if body:
        message += body
    secret = app_secret.encode()
    return hmac.new(secret, secret + message + secret, hashlib.sha256).hexdigest()


def sign_webhook(app_key: str, app_secret: str, body: bytes) -> str:
    """The `Authorization` header of a webhook: hex HMAC-SHA256(secret, key + body)."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def verify_webhook(app_key: str, app_secret: str, body: bytes, signature: str) -> bool:
    """Constant-time check of a webhook's signature against the raw body as received."""
    expected = sign_webhook(app_key, app_secret, body)
    return hmac.compare_digest(expected, (signature or "").strip().lower())


def verify_request(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes | None, signature: str
) -> bool:
    """Constant-time check of a request's `sign` (used by the sandbox)."""
    return hmac.compare_digest(sign_request(app_secret, path, query, body), signature or "")
