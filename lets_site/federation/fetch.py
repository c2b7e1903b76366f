"""Fetching one feed over HTTP(S), with every limit an untrusted server calls for.

No web request ever runs this: ``lets-site federation fetch`` (cron or a systemd timer)
does. Each request goes to the address :mod:`netguard` validated, through a connection of
our own (``http.client``, no proxy). Limits (all in :class:`Limits`, from the
``FEDERATION_*`` settings): connect and read timeouts, a total deadline per feed enforced
by a watchdog that closes the socket (so a server dripping one byte at a time cannot hold
a worker), a body cap counted after decompression, a bounded number of redirects each
checked again, no https->http downgrade.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lets_site.federation import netguard

USER_AGENT = "lets-site-federation/1 (+https://jsonfeed.org/version/1.1)"
REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 30.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    allow_http: bool = False
    allowed: tuple[netguard.IPNetwork, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            connect_timeout=float(config["FEDERATION_CONNECT_TIMEOUT"]),
            read_timeout=float(config["FEDERATION_READ_TIMEOUT"]),
            deadline=float(config["FEDERATION_DEADLINE"]),
            max_bytes=int(config["FEDERATION_MAX_BYTES"]),
            max_redirects=int(config["FEDERATION_MAX_REDIRECTS"]),
            allow_http=bool(config["FEDERATION_ALLOW_HTTP"]),
            allowed=tuple(netguard.networks(config["ALLOWED_PRIVATE_NETWORKS"] or ())),
        )


class FetchError(Exception):
    """The fetch failed; ``outcome`` is a short key (``deadline``, ``too_large`` ...)."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass
class Response:
    status: int
    url: str  # the URL that answered (after redirects)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    wire_bytes: int = 0  # bytes received (before decompression)
    moved_to: str | None = None  # where the first permanent redirect pointed
    retry_after: float | None = None  # seconds, for 429/503


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Connection(http.client.HTTPConnection):
    """An HTTP connection to an address chosen beforehand (the Host header keeps the name)."""

    def __init__(self, target: netguard.Target, timeout: float, ctx: ssl.SSLContext | None):
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target
        self._ctx = ctx
        self.responses: list[http.client.HTTPResponse] = []
        # The socket, kept after http.client lets go of it: for a response that closes
        # the connection (``Connection: close``, HTTP/1.0) http.client calls close() and
        # hands the socket to the response, whose body is still to be read under our
        # timeouts and the watchdog.
        self.raw_sock: socket.socket | None = None

    def response_class(self, sock: Any, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
        # Kept so that a response whose headers failed to parse is closed too.
        response = http.client.HTTPResponse(sock, *args, **kwargs)
        self.responses.append(response)
        return response

    def shut(self) -> None:
        """Close the connection and every response read from it (the fetch is over)."""
        for response in self.responses:
            response.close()
        self.responses.clear()
        self.close()
        if self.raw_sock is not None:
            self.raw_sock.close()

    def connect(self) -> None:
        sock = socket.create_connection((self._target.address, self._target.port),
                                        timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._ctx is not None:
            sock = self._ctx.wrap_socket(sock, server_hostname=self._target.host)
        self.sock = self.raw_sock = sock


class _Watchdog:
    """Closes the connection's socket when the feed's deadline passes."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._conn: _Connection | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, conn: _Connection | None) -> None:
        with self._lock:
            self._conn = conn
            if self.fired and conn is not None:
                conn.shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            conn = self._conn
            if conn is not None and conn.raw_sock is not None:
                with contextlib.suppress(OSError):
                    conn.raw_sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _read_body(resp: http.client.HTTPResponse, limits: Limits, started: float,
               watchdog: _Watchdog, sock: Any) -> tuple[bytes, int]:
    encoding = (resp.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):
        inflater: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    elif encoding == "identity":
        inflater = None
    else:
        raise FetchError("bad_encoding", f"unsupported Content-Encoding {encoding!r}")
    length = resp.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > limits.max_bytes:
        raise FetchError("too_large", f"Content-Length {int(length)} is over the "
                                      f"{limits.max_bytes}-byte limit")
    out = bytearray()
    wire = 0
    while True:
        remaining = limits.deadline - (time.monotonic() - started)
        if remaining <= 0 or watchdog.fired:
            raise FetchError("deadline", f"no complete answer within {limits.deadline:g} s")
        if sock is not None:
            sock.settimeout(min(limits.read_timeout, remaining))
        chunk = resp.read1(65536)
        if not chunk:
            if watchdog.fired:
                raise FetchError("deadline",
                                 f"no complete answer within {limits.deadline:g} s")
            break
        wire += len(chunk)
        if inflater is None:
            out += chunk
        else:
            room = limits.max_bytes + 1 - len(out)
            # Never inflate more than one byte past the cap (a gzip bomb stops here).
            out += inflater.decompress(chunk, room)
        if len(out) > limits.max_bytes:
            raise FetchError("too_large", f"the body is over the {limits.max_bytes}-byte "
                                          "limit (after decompression)")
    if inflater is not None:
        out += inflater.flush(limits.max_bytes + 1 - len(out))
        if len(out) > limits.max_bytes:
            raise FetchError("too_large", f"the body is over the {limits.max_bytes}-byte "
                                          "limit (after decompression)")
    return bytes(out), wire


_default_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def _tls() -> ssl.SSLContext:
    """The system's trust store, loaded once (loading it costs ~0.1 s of CPU)."""
    global _default_tls
    with _tls_lock:
        if _default_tls is None:
            _default_tls = ssl.create_default_context()
        return _default_tls


def follow(current: str, location: str) -> str:
    """Where a redirect from ``current`` to ``location`` goes; never https -> http."""
    following = urljoin(current, location.strip())
    if urlsplit(current).scheme == "https" and urlsplit(following).scheme != "https":
        raise FetchError("downgrade", f"refused a redirect from https to {following}")
    return following


def get(url: str, limits: Limits, etag: str | None = None,
        last_modified: str | None = None,
        resolver: netguard.Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None) -> Response:
    """GET ``url`` within ``limits``: the final response (200, 304, 4xx, 5xx ...) or a
    :class:`FetchError`. Redirects are followed here (each one checked again); the first
    permanent one is reported in ``moved_to``."""
    started = time.monotonic()
    watchdog = _Watchdog(limits.deadline)
    moved_to: str | None = None
    current = url
    try:
        for hop in range(limits.max_redirects + 1):
            try:
                target = netguard.target(current, limits.allowed, limits.allow_http, resolver)
            except netguard.Refused as error:
                raise FetchError("refused", str(error)) from error
            remaining = limits.deadline - (time.monotonic() - started)
            if remaining <= 0:
                raise FetchError("deadline", f"no complete answer within {limits.deadline:g} s")
            conn = _Connection(target, min(limits.connect_timeout, remaining),
                               (ssl_context or _tls()) if target.scheme == "https" else None)
            watchdog.watch(conn)
            try:
                headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip",
                           "Accept": "application/feed+json, application/json;q=0.9"}
                if etag and hop == 0:
                    headers["If-None-Match"] = etag
                if last_modified and hop == 0:
                    headers["If-Modified-Since"] = last_modified
                try:
                    conn.request("GET", target.path, headers=headers)
                    if conn.raw_sock is not None:
                        conn.raw_sock.settimeout(min(limits.read_timeout, max(
                            0.001, limits.deadline - (time.monotonic() - started))))
                    resp = conn.getresponse()
                except (OSError, http.client.HTTPException) as error:
                    late = time.monotonic() - started >= limits.deadline
                    if watchdog.fired or (isinstance(error, TimeoutError) and late):
                        raise FetchError("deadline", f"no complete answer within "
                                                     f"{limits.deadline:g} s") from error
                    kind = "timeout" if isinstance(error, TimeoutError) else "network"
                    raise FetchError(kind, f"{type(error).__name__}: {error}") from error
                status = resp.status
                if status in REDIRECTS:
                    location = resp.getheader("Location")
                    if not location:
                        raise FetchError("bad_redirect", f"{status} without a Location")
                    following = follow(current, location)
                    if status in PERMANENT and moved_to is None and hop == 0:
                        moved_to = following
                    current = following
                    continue
                try:
                    if status == 200:
                        body, wire = _read_body(resp, limits, started, watchdog,
                                                conn.raw_sock)
                    else:
                        body, wire = b"", 0
                except (OSError, http.client.HTTPException) as error:
                    if watchdog.fired or time.monotonic() - started >= limits.deadline:
                        raise FetchError("deadline", f"no complete answer within "
                                                     f"{limits.deadline:g} s") from error
                    kind = "timeout" if isinstance(error, TimeoutError) else "network"
                    raise FetchError(kind, f"{type(error).__name__}: {error}") from error
                return Response(
                    status=status, url=current,
                    headers={k.lower(): v for k, v in resp.getheaders()},
                    body=body, wire_bytes=wire, moved_to=moved_to,
                    retry_after=retry_after(resp.getheader("Retry-After")))
            finally:
                watchdog.watch(None)
                conn.shut()
        raise FetchError("too_many_redirects",
                         f"more than {limits.max_redirects} redirects")
    finally:
        watchdog.cancel()
