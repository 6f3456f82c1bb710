"""Where the transport's requests go, and whether Basic credentials may go there (DESIGN.md §6).

`route(base_url, with_credentials=)` checks the cluster URL once, when a transport is made,
and says how to reach it:

- `https://` goes wherever the URL says, through the proxy the environment names
  (`HTTPS_PROXY`/`NO_PROXY`, requests' rules): TLS protects the credentials end to end.
- `http://` with credentials is allowed only to loopback, and loopback is decided by the
  addresses the host name resolves to — every one of them must be loopback (127.0.0.0/8,
  `::1`) — never by the name (`x.localhost` is trusted only if it resolves to loopback).
  Such a request never goes through a proxy (`HTTP_PROXY` would otherwise receive the
  credentials in clear), and the connection itself is checked: a socket whose peer is not a
  loopback address is closed before a byte of the request is written (a name that changes
  its answer after the check cannot redirect the credentials). Without credentials, http to
  a loopback address also goes direct; to any other host it follows the environment.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from hpcspec.errors import HpcspecError
from hpcspec.hpcpack import errors


@dataclass(frozen=True)
class Route:
    """How to reach the cluster: the base URL and whether it is http to loopback."""

    base_url: str  # without a trailing slash
    host: str
    loopback_http: bool  # plain http to an address that resolves only to loopback

    def proxies(self, from_environment: Mapping[str, str]) -> dict[str, str]:
        """The proxies to use: none for loopback http, else what the environment says."""
        return {} if self.loopback_http else dict(from_environment)


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` resolves to, in the resolver's order; () when it does not resolve."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return ()
    addresses = (str(info[4][0]).split("%", 1)[0] for info in found)
    return tuple(dict.fromkeys(addresses))


def is_loopback_address(address: str) -> bool:
    """True for an IP address in 127.0.0.0/8 or ::1 (an IPv4-mapped one counts as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def check_text(base_url: str, origin: str = "") -> None:
    """Refuse a cluster URL that carries credentials (`user:password@`) or a control character
    or white space (which `urlsplit` would silently drop, and a terminal or CI log would take
    as a line of its own): before it is printed or used. `origin` says where it came from."""
    where = f" ({origin})" if origin else ""
    for position, char in enumerate(base_url, start=1):
        if char.isspace() or not char.isprintable():
            raise HpcspecError(
                f"the cluster URL{where} has a control character or white space at position "
                f"{position} ({ord(char):#04x})",
                code="invalid-cluster-url",
                hint="give the URL like https://headnode/hpc, with no spaces or line breaks",
            )
    netloc = urlsplit(base_url).netloc
    if "@" in netloc:
        raise HpcspecError(
            f"the cluster URL{where} must not carry a user name or password (it is not shown)",
            code="invalid-cluster-url",
            hint="use --username / HPCSPEC_USERNAME and HPCSPEC_PASSWORD or --password-stdin",
        )


def route(base_url: str, *, with_credentials: bool) -> Route:
    """Check the cluster URL and say how to reach it; raises before any request is sent."""
    check_text(base_url)
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HpcspecError(
            f"{base_url!r} is not an http(s) URL of an HPC Pack REST API",
            code="invalid-cluster-url",
            hint="give the URL like https://headnode/hpc",
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise HpcspecError(
            f"{base_url!r} has an invalid port",
            code="invalid-cluster-url",
            hint="give the URL like https://headnode:443/hpc",
        ) from None
    host = parts.hostname
    clean = base_url.rstrip("/")
    if parts.scheme == "https":
        return Route(clean, host, loopback_http=False)
    addresses = resolve(host, port)
    loopback = bool(addresses) and all(is_loopback_address(a) for a in addresses)
    if with_credentials and not loopback:
        raise errors.InsecureConnection(_refusal(host, addresses), hint=_HTTP_HINT)
    return Route(clean, host, loopback_http=loopback)


_HTTP_HINT = (
    "use https:// (HPC Pack serves the REST API over TLS); plain http is only for a cluster "
    "on this machine, such as hpcspec's emulator"
)


def _refusal(host: str, addresses: tuple[str, ...]) -> str:
    why = (
        "it does not resolve, so it cannot be shown to be loopback"
        if not addresses
        else f"it resolves to {', '.join(addresses)}, not only to loopback addresses"
    )
    return f"refusing to send Basic auth credentials over plain http to {host}: {why}"
