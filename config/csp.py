"""The Content-Security-Policy (django-csp), plus the marketplace's own origins read live.

The fixed part is CONTENT_SECURITY_POLICY in settings. The marketplace hosts come from the TIKTOK_*
settings at request time (they can point at a sandbox on any port): its consent page may receive
the redirect after the Stores page's connect form (browsers apply `form-action` to that redirect),
and an http API host (the sandbox) may serve images; https images are allowed anyway.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def marketplace_sources() -> dict[str, list[str]]:
    """What the policy adds for the configured marketplace: consent pages and an http image host."""
    consent = {
        origin
        for origin in map(
            _origin, (settings.TIKTOK_AUTHORIZE_URL_US, settings.TIKTOK_AUTHORIZE_URL_ROW)
        )
        if origin
    }
    api = _origin(settings.TIKTOK_API_BASE_URL)
    return {
        "form-action": sorted(consent),
        "img-src": [api] if api and api.startswith("http:") else [],
    }


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        update = {key: list(value) for key, value in (parts.update or {}).items()}
        for directive, sources in marketplace_sources().items():
            if sources:
                update[directive] = [*update.get(directive, []), *sources]
        parts.update = update
        return parts
