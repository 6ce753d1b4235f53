"""The client's transport: the base class the API areas build on (see the package docstring).

It holds the app credentials and the pooled session, signs every attempt, retries, pages through
cursors (§3.4) and reads the envelope; the log filter keeps urllib3's request lines free of secrets.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Self, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from marketplaces.records import JSON, Page
from marketplaces.tiktok import mapping
from marketplaces.tiktok.config import TikTokConfig
from marketplaces.tiktok.errors import (
    RETRYABLE,
    OutcomeUnknownError,
    PaginationError,
    RateLimitedError,
    ServerError,
    TikTokApiError,
    TikTokError,
    TransportError,
    classify,
)
from marketplaces.tiktok.signing import sign_request

# The package's name (`marketplaces.tiktok.client`), as the log records were named before the split.
logger = logging.getLogger(__package__)

_SECRET_QUERY = re.compile(r"(app_secret|auth_code|refresh_token|access_token)=[^&\s\"']+")


class _RedactSecrets(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included; the token endpoints
    carry the app secret, the auth code and the refresh token there (§1.2/1.3)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET_QUERY.sub(r"\1=***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecrets())

T = TypeVar("T")
Timestamp = datetime | int

# A Retry-After longer than this is not slept through in a worker: the error is raised with its
# `retry_after` so the caller can reschedule.
RETRY_AFTER_LIMIT = 60.0


class _ConnectFailed(TransportError):
    """The connection never opened, so the request was certainly not received."""


def _seconds(value: Timestamp) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else int(value)


def _time_filters(**bounds: Timestamp | None) -> JSON:
    return {key: _seconds(value) for key, value in bounds.items() if value is not None}


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP-date; the computed backoff applies


def _lists(**values: Iterable[str]) -> JSON:
    """Body filters that are arrays; empty ones are left out."""
    lists = {key: [str(item) for item in items] for key, items in values.items()}
    return {key: items for key, items in lists.items() if items}


class Transport:
    """Signed calls, retries and pagination; `TikTokClient` adds one mixin per API area."""

    def __init__(
        self,
        config: TikTokConfig,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    @classmethod
    def from_settings(cls, **kwargs: Any) -> Self:
        return cls(TikTokConfig.from_settings(), **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- Transport ------------------------------------------------------------------------------

    def _pages(
        self,
        method: str,
        path: str,
        *,
        access_token: str,
        shop_cipher: str,
        items_key: str,
        to_record: Callable[[JSON], T],
        page_size: int,
        page_token: str | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
        extra_query: Mapping[str, str] | None = None,
        body: JSON | None = None,
    ) -> Iterator[Page[T]]:
        """Cursor pagination (§3.4): paging params in the query, filters in the JSON body."""
        query: dict[str, str] = {"page_size": str(page_size), **(extra_query or {})}
        if sort_field:
            query["sort_field"] = sort_field
        if sort_order:
            query["sort_order"] = sort_order
        token = page_token or None
        while True:
            page_query = {**query, "page_token": token} if token else query
            data = self._call(
                method,
                path,
                access_token=access_token,
                shop_cipher=shop_cipher,
                query=page_query,
                body=body if method != "GET" else None,
            )
            next_token = mapping.text(data.get("next_page_token"))
            yield Page(
                items=[to_record(item) for item in mapping.dicts(data.get(items_key))],
                next_page_token=next_token,
                total_count=mapping.integer(data.get("total_count")),
                page_token=token,
            )
            if not next_token:
                return
            if next_token == token:
                raise PaginationError(f"{path} returned the same page token again", http_status=200)
            token = next_token

    def _call(
        self,
        method: str,
        path: str,
        *,
        access_token: str,
        shop_cipher: str | None = None,
        query: Mapping[str, str] | None = None,
        body: JSON | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        idempotent: bool = True,
    ) -> JSON:
        """One signed Open API call with retries; returns the envelope's `data`."""
        payload = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            if body is not None
            else None
        )
        headers = {"x-tts-access-token": access_token}
        if files is None:
            headers["Content-Type"] = "application/json"

        def attempt() -> requests.Response:
            params = {"app_key": self.config.app_key, "timestamp": str(int(self._clock()))}
            if shop_cipher:
                params["shop_cipher"] = shop_cipher
            params.update(query or {})
            # Multipart bodies are not signed (§2.1 step 5); JSON bodies are, byte for byte.
            params["sign"] = sign_request(self.config.app_secret, path, params, payload)
            return self.session.request(
                method,
                self.config.api_base_url.rstrip("/") + path,
                params=params,
                data=payload,
                files=files,
                headers=headers,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )

        return self._with_retries(method, path, attempt, idempotent=idempotent)

    def _auth_call(self, path: str, params: Mapping[str, str]) -> JSON:
        """Token endpoints on the auth host: unsigned, app secret in the query (§1.2/1.3)."""
        query = {"app_key": self.config.app_key, "app_secret": self.config.app_secret, **params}

        def attempt() -> requests.Response:
            return self.session.get(
                self.config.auth_base_url.rstrip("/") + path,
                params=query,
                timeout=(self.config.connect_timeout, self.config.read_timeout),
            )

        return self._with_retries("GET", path, attempt, idempotent=True)

    def _with_retries(
        self,
        method: str,
        path: str,
        attempt: Callable[[], requests.Response],
        *,
        idempotent: bool,
    ) -> JSON:
        attempts = self.config.max_retries + 1
        for number in range(attempts):
            try:
                return self._parse(self._send(method, path, attempt))
            except TikTokError as error:
                retryable = isinstance(error, RETRYABLE) and (
                    idempotent or isinstance(error, RateLimitedError | _ConnectFailed)
                )
                delay = self._backoff(number, error)
                if retryable and number + 1 < attempts and delay is not None:
                    logger.warning(
                        "TikTok %s %s failed (%s); retry %d/%d in %.2fs",
                        method,
                        path,
                        error,
                        number + 1,
                        attempts - 1,
                        delay,
                    )
                    self._sleep(delay)
                    continue
                logger.warning(
                    "TikTok %s %s failed (%s) after %d attempt(s)", method, path, error, number + 1
                )
                if (
                    not idempotent
                    and isinstance(error, ServerError)
                    and not (isinstance(error, _ConnectFailed))
                ):
                    raise OutcomeUnknownError(
                        f"{method} {path}: the platform may or may not have done it", cause=error
                    ) from error
                raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def _backoff(self, number: int, error: TikTokError) -> float | None:
        """Jittered exponential delay (§3.3); None when Retry-After is too long to wait here."""
        ceiling = min(self.config.backoff_cap, self.config.backoff_base * 2.0**number)
        delay = ceiling / 2 + self._jitter() * ceiling / 2
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            if error.retry_after > RETRY_AFTER_LIMIT:
                return None
            delay = max(delay, error.retry_after)
        return delay

    def _send(
        self, method: str, path: str, attempt: Callable[[], requests.Response]
    ) -> requests.Response:
        """Run one attempt; network failures become TransportError without the URL (secrets)."""
        try:
            return attempt()
        except requests.exceptions.ConnectTimeout:
            error: TransportError = _ConnectFailed(f"{method} {path}: connect timeout")
        except requests.exceptions.ReadTimeout:
            error = TransportError(f"{method} {path}: read timeout")
        except requests.exceptions.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, NewConnectionError):
                error = _ConnectFailed(f"{method} {path}: connection refused")
            else:
                error = TransportError(f"{method} {path}: connection error")
        except requests.exceptions.RequestException as exc:
            error = TransportError(f"{method} {path}: {type(exc).__name__}")
        raise error

    @staticmethod
    def _parse(response: requests.Response) -> JSON:
        status = response.status_code
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            if status >= 400:  # a proxy's error page: typed by the status alone
                raise classify(
                    None,
                    f"HTTP {status} without a JSON body",
                    http_status=status,
                    retry_after=_retry_after(response),
                )
            # A 2xx that is not an envelope: nothing can be read from it, so it is transient.
            raise TransportError(
                f"HTTP {status}: the body is not a JSON object", http_status=status
            )
        code = mapping.integer(envelope.get("code"))
        request_id = mapping.text(envelope.get("request_id"))
        if code == 0 and status < 400:
            data = envelope.get("data")
            return data if isinstance(data, dict) else {}
        message = mapping.text(envelope.get("message")) or f"HTTP {status}"
        if code is None and status < 400:
            raise TikTokApiError(
                f"Response without a code: {message}", request_id=request_id, http_status=status
            )
        raise classify(
            code,
            message,
            request_id=request_id,
            http_status=status,
            retry_after=_retry_after(response),
        )
