"""Which webhook URLs may be called: http(s) only, and never a private, loopback, link-local or
otherwise non-public address unless WEBHOOKS_ALLOW_PRIVATE_URLS is on (tests and the demo).

Checked when a subscription is saved and again before every delivery, on every address the host
name resolves to then (a name that later points inside the network is refused at delivery).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURLError(ValueError):
    """The URL may not be called; the message says why, for the person who gave it."""


def _allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", False))


def check_shape(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError("Only http:// and https:// URLs can receive webhooks.")
    if not parts.hostname:
        raise UnsafeURLError("The URL has no host name.")
    if parts.username or parts.password:
        raise UnsafeURLError("Put no user name or password in the URL; verify the signature.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeURLError("The URL's port is not valid.") from error
    return parts.hostname, port


def check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global and not _allow_private():
        raise UnsafeURLError(
            f"The URL points to a private or local address ({ip}); webhooks go to public "
            "addresses only."
        )


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raises UnsafeURLError unless every address the host resolves to may be called."""
    host, port = check_shape(url)
    if not resolve:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURLError(f"The host name {host!r} does not resolve.") from error
    for info in infos:
        check_address(str(info[4][0]))
