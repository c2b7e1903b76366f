"""The private-address guard of the federation fetcher (SSRF).

A feed URL's host is resolved once; every address it resolves to must be public (or in
``ALLOWED_PRIVATE_NETWORKS``), and the fetcher connects to that validated address, never
to the name again (no second lookup an attacker's DNS could answer differently). Proxy
environment variables play no part: the fetcher opens its own sockets.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses the host resolves to (as strings)
Resolver = Callable[[str, int], Sequence[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class Refused(Exception):
    """The URL or address may not be fetched; the message says why (shown to admins)."""


@dataclass(frozen=True)
class Target:
    """A URL that passed the guard: where to connect and what to ask for."""

    scheme: str
    host: str  # the name, for the Host header and TLS
    port: int
    address: str  # the validated address to connect to
    path: str  # path and query


def networks(values: Iterable[str]) -> list[IPNetwork]:
    """``ALLOWED_PRIVATE_NETWORKS`` as networks (a bad entry is a configuration error)."""
    if isinstance(values, str):
        values = [part for part in values.split(",") if part.strip()]
    return [ipaddress.ip_network(str(value).strip(), strict=False) for value in values]


def unmapped(address: IPAddress) -> IPAddress:
    """An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def check_address(value: str | IPAddress, allowed: Sequence[IPNetwork] = ()) -> IPAddress:
    """The address, if a fetch may connect to it; else :class:`Refused`."""
    try:
        address = unmapped(ipaddress.ip_address(value))
    except ValueError as error:
        raise Refused(f"not an IP address: {value!r}") from error
    if any(address.version == net.version and address in net for net in allowed):
        return address
    if (address.is_loopback or address.is_private or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified
            or (address.version == 4 and address in _CGNAT) or not address.is_global):
        raise Refused(f"{address} is not a public address")
    if isinstance(address, ipaddress.IPv6Address) and (address.sixtofour or address.teredo):
        raise Refused(f"{address} is a tunnelled address")
    return address


def literal(host: str) -> IPAddress | None:
    """The address a host written as an address stands for, in any form the C library
    accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``[::1]``), or None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if bare and all(c in "0123456789abcdefxABCDEFX." for c in bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def resolve(host: str, port: int, allowed: Sequence[IPNetwork] = (),
            resolver: Resolver | None = None) -> IPAddress:
    """Resolve ``host`` once and check every address; the first one is the one to use."""
    address = literal(host)
    if address is not None:
        return check_address(address, allowed)
    try:
        found = list((resolver or system_resolver)(host, port))
    except OSError as error:
        raise Refused(f"cannot resolve {host}: {error}") from error
    if not found:
        raise Refused(f"{host} resolves to no address")
    checked = [check_address(value, allowed) for value in found]
    return checked[0]


def target(url: str, allowed: Sequence[IPNetwork] = (), allow_http: bool = False,
           resolver: Resolver | None = None) -> Target:
    """Check a URL (scheme, credentials, host) and resolve it to a :class:`Target`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Refused(f"not a valid URL: {error}") from error
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused(f"only http(s) URLs are fetched, not {scheme or 'none'!r}")
    if scheme == "http" and not allow_http:
        raise Refused("plain http is not allowed (FEDERATION_ALLOW_HTTP)")
    if parts.username or parts.password:
        raise Refused("URLs with credentials are not fetched")
    host = (parts.hostname or "").lower()
    if not host:
        raise Refused("the URL has no host")
    port = port or (443 if scheme == "https" else 80)
    address = resolve(host, port, allowed, resolver)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, str(address), path)
