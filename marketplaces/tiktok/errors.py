"""Typed TikTok Shop errors (contract §3.1/3.2 and the common-errors codes in the samples).

Every error carries the platform's `code`, `message`, `request_id` and the HTTP status, so a log
line or a failed outbox row can be matched with TikTok's own records. `classify()` is the one
place that turns a response into a type; the client retries `RETRYABLE` types only.
"""

from __future__ import annotations

RATE_LIMITED = 36009002
INTERNAL_ERROR = 36009003
REQUEST_PROBLEM = 36009004  # reused for bad token, app_key, timestamp, shop_cipher (§3.2)
REQUEST_TIMEOUT = 36009007
INVALID_SIGN = 106001
MISSING_SHOP_CIPHER = 106013
TOKEN_EXPIRED = 105002
ACCESS_DENIED = 105005
INVALID_QUERY_OR_HEADER = 101000
INVALID_AUTH_CODE = 36004004
CS_INTERNAL_ERROR = 45101001
CS_RECORD_NOT_FOUND = 45101003
CS_DAILY_QUOTA = 45101004
CS_CRITERIA_NOT_MET = 45109003
ORDER_NOT_OWNED = 21008111
PRODUCT_NOT_FOUND = 12019150

# "Internal error / failed to get orders, retry" codes listed on the order-detail page.
_SERVER_CODES = frozenset(
    {INTERNAL_ERROR, REQUEST_TIMEOUT, CS_INTERNAL_ERROR, 10006402, 10002014, 10002015}
    | {10037002, 10037003, 10037004}
)
_NOT_FOUND_CODES = frozenset({CS_RECORD_NOT_FOUND, PRODUCT_NOT_FOUND})
_PERMISSION_CODES = frozenset({ACCESS_DENIED, ORDER_NOT_OWNED, CS_CRITERIA_NOT_MET})


class TikTokError(Exception):
    """Anything that went wrong talking to TikTok Shop."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status

    def __str__(self) -> str:
        parts = [f"code={self.code}"] if self.code is not None else []
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return f"{self.message} ({', '.join(parts)})" if parts else self.message


class TikTokApiError(TikTokError):
    """The platform answered with a non-zero code that has no more specific type."""


class InvalidCredentialsError(TikTokApiError):
    """app_key, access token or other credentials rejected (36009004 family, 101000, 105xxx)."""


class InvalidTokenError(InvalidCredentialsError):
    """The access token is not valid (revoked, deauthorized, malformed): reconnect the store."""


class TokenExpiredError(InvalidTokenError):
    """105002: the access token expired; refresh it and call again."""


class InvalidAuthCodeError(InvalidCredentialsError):
    """36004004 on token get: the authorization code is unknown, used or expired."""


class InvalidSignatureError(TikTokApiError):
    """106001: the `sign` did not match; a wrong app secret or a signing bug on our side."""


class NotFoundError(TikTokApiError):
    """The object does not exist (45101003, 12019150, HTTP 404)."""


class PermissionDeniedError(TikTokApiError):
    """Scope missing (105005), object of another seller (21008111), CS criteria not met."""


class QuotaExceededError(TikTokApiError):
    """45101004: a daily quota; retrying within seconds cannot help."""


class RateLimitedError(TikTokApiError):
    """36009002 / HTTP 429. Retried with backoff; `retry_after` is the server's hint in seconds."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        request_id: str = "",
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, request_id=request_id, http_status=http_status)
        self.retry_after = retry_after


class ServerError(TikTokApiError):
    """HTTP 5xx or an internal-error code (36009003 ...): transient, retried."""


class TransportError(ServerError):
    """No usable answer at all: connection refused or reset, timeout, a body that is not JSON."""


class OutcomeUnknownError(TikTokError):
    """A non-idempotent call (send message, create conversation) may or may not have happened.

    Raised instead of retrying after a timeout or a server error, so the caller reconciles (looks
    for the message in the conversation) rather than sending it twice. `cause` is the error seen.
    """

    def __init__(self, message: str, *, cause: TikTokError) -> None:
        super().__init__(
            message, code=cause.code, request_id=cause.request_id, http_status=cause.http_status
        )
        self.cause = cause


class PaginationError(TikTokApiError):
    """The platform returned the page token it was given as the next one (a loop)."""


RETRYABLE: tuple[type[TikTokError], ...] = (RateLimitedError, ServerError)


def classify(
    code: int | None,
    message: str,
    *,
    request_id: str = "",
    http_status: int | None = None,
    retry_after: float | None = None,
) -> TikTokApiError:
    """The typed error for a failed response (non-zero `code`, or an HTTP error status)."""

    def make(kind: type[TikTokApiError]) -> TikTokApiError:
        return kind(message, code=code, request_id=request_id, http_status=http_status)

    lowered = message.lower()
    if code == RATE_LIMITED or http_status == 429:
        return RateLimitedError(
            message,
            code=code,
            request_id=request_id,
            http_status=http_status,
            retry_after=retry_after,
        )
    if code in _SERVER_CODES or (http_status is not None and http_status >= 500):
        return make(ServerError)
    if code == INVALID_SIGN:
        return make(InvalidSignatureError)
    if code == TOKEN_EXPIRED:
        return make(TokenExpiredError)
    if code == INVALID_AUTH_CODE:
        return make(InvalidAuthCodeError)
    if code in _PERMISSION_CODES:
        return make(PermissionDeniedError)
    if code in _NOT_FOUND_CODES or http_status == 404:
        return make(NotFoundError)
    if code == CS_DAILY_QUOTA:
        return make(QuotaExceededError)
    mentions_token = "access_token" in lowered or "x-tts-access-token" in lowered
    if code in (REQUEST_PROBLEM, INVALID_QUERY_OR_HEADER) and mentions_token:
        # "Expired credentials" wording on a token message is treated as expiry, too.
        return make(TokenExpiredError if "expired" in lowered else InvalidTokenError)
    if code == REQUEST_PROBLEM and "app_key" in lowered:
        return make(InvalidCredentialsError)
    # EcomPHP treats the whole 105xxx range as token errors (§3.2).
    if code is not None and 105000 <= code < 106000:
        return make(InvalidTokenError)
    return make(TikTokApiError)
