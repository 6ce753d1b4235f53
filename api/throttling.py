"""Rate limits per API key: a fixed one-minute window counted in the cache (Redis in production,
shared by every web process). Approximate at the window's edges, which is fine for fairness (it
is not a security boundary). Over the limit: 429 with `Retry-After` (seconds to the next window).

The limit is API_RATE_LIMIT_PER_MINUTE (default 600); a test or a deployment can change it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from tenants.principals import is_key

if TYPE_CHECKING:
    from rest_framework.views import APIView

WINDOW_SECONDS = 60


def limit_per_minute() -> int:
    return int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600))


class KeyRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view: APIView) -> bool:
        member = request.auth
        if not is_key(member):
            return True  # unauthenticated requests stop at authentication
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        self.wait_seconds = (window + 1) * WINDOW_SECONDS - now
        key = f"api:rate:{member.api_key.prefix}:{window}"
        # add() only creates the counter (with its expiry); incr() is atomic on Redis.
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
        return count <= limit_per_minute()

    def wait(self) -> float | None:
        return getattr(self, "wait_seconds", None)
