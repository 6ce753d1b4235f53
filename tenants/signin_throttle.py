"""Sign-in throttling, per account and per client address, kept in the cache (Redis in production).

Failed sign-ins are counted per e-mail (whether or not an account has it, so the lockout says
nothing about which addresses have accounts) and per client address, over SIGNIN_LOCKOUT_SECONDS.
At SIGNIN_MAX_FAILURES_PER_ACCOUNT failures for one e-mail, signing in to it is paused for
SIGNIN_LOCKOUT_SECONDS from anywhere; at SIGNIN_MAX_FAILURES_PER_ADDRESS failures from one address
(higher: an office shares one), signing in from it is paused. While paused the password is not
even checked, and the page says until when. A successful sign-in clears its account's count.

Why not django-axes: it compares one failure limit with both counts (an office behind one address
would be locked out by the account limit), and its backend refuses every `authenticate()` made
without a request. This is the whole job in about a hundred lines.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

ACCOUNT, ADDRESS = "account", "address"


def _now() -> datetime:
    return timezone.now()


@dataclass(frozen=True)
class Lockout:
    scope: str  # ACCOUNT or ADDRESS
    until: datetime

    @property
    def seconds_left(self) -> int:
        return max(1, math.ceil((self.until - _now()).total_seconds()))

    @property
    def message(self) -> str:
        minutes = math.ceil(self.seconds_left / 60)
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        at = timezone.localtime(self.until, timezone.get_fixed_timezone(0)).strftime("%H:%M UTC")
        if self.scope == ACCOUNT:
            return (
                "Too many failed sign-ins to this account. To protect it, signing in is paused "
                f"for {wait}: try again after {at}. If you have forgotten your password, reset it."
            )
        return (
            "Too many failed sign-ins from your network. Signing in from it is paused for "
            f"{wait}: try again after {at}."
        )


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with SIGNIN_TRUSTED_PROXIES = n proxies in front
    (a TLS terminator, a load balancer), the n-th X-Forwarded-For entry from the right, the one
    the outermost trusted proxy saw (entries further left are whatever the client claims)."""
    proxies = settings.SIGNIN_TRUSTED_PROXIES
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _subjects(request: HttpRequest, email: str) -> list[tuple[str, str, int]]:
    """(scope, hashed key part, failure limit) for the account and the address."""

    def digest(value: str) -> str:
        return hashlib.sha256(value.encode()).hexdigest()[:32]

    return [
        (ACCOUNT, digest(email.strip().lower()), settings.SIGNIN_MAX_FAILURES_PER_ACCOUNT),
        (ADDRESS, digest(client_address(request)), settings.SIGNIN_MAX_FAILURES_PER_ADDRESS),
    ]


def lockout_of(request: HttpRequest, email: str) -> Lockout | None:
    """The pause in force for this e-mail or this client, if any (the account's first)."""
    now = _now()
    for scope, subject, _limit in _subjects(request, email):
        until = cache.get(f"signin:lock:{scope}:{subject}")
        if until is not None and until > now.timestamp():
            return Lockout(scope, datetime.fromtimestamp(until, tz=now.tzinfo))
    return None


def record_failure(request: HttpRequest, email: str) -> Lockout | None:
    """Count one failed sign-in; the pause it starts, if it reached a limit."""
    seconds = settings.SIGNIN_LOCKOUT_SECONDS
    started: Lockout | None = None
    for scope, subject, limit in _subjects(request, email):
        key = f"signin:failures:{scope}:{subject}"
        cache.add(key, 0, timeout=seconds)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=seconds)
            failures = 1
        if failures >= limit:
            until = _now() + timedelta(seconds=seconds)
            cache.set(f"signin:lock:{scope}:{subject}", until.timestamp(), timeout=seconds)
            cache.delete(key)  # after the pause, counting starts again
            started = started or Lockout(scope, until)
    return started


def record_success(request: HttpRequest, email: str) -> None:
    """A right password clears the account's failures (not the address's: one valid account
    must not reset the count of guesses made from there at others)."""
    scope, subject, _limit = _subjects(request, email)[0]
    cache.delete(f"signin:failures:{scope}:{subject}")


def throttled_status(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps a sign-in view: a refused sign-in during a pause answers 429 with Retry-After (the
    form, with its message, is the page)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        lockout = getattr(request, "signin_lockout", None)
        if lockout is not None:
            response.status_code = 429
            response["Retry-After"] = str(lockout.seconds_left)
        return response

    return wrapped
