"""Values from outside (a marketplace, a buyer) made safe to put into a page's attributes."""

from __future__ import annotations

from urllib.parse import urlsplit


def http_url(value: object) -> str:
    """`value` if it is an absolute http(s) URL, else "": a `javascript:`, `data:` or
    protocol-relative address from a marketplace never becomes an href or a src."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url
