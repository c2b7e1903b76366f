"""The fetcher against real HTTP servers on 127.0.0.1, limits made short by
configuration (Limits); no mocked transport."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from lets_site.federation import fetch, netguard
from tests.federation.servers import (
    FeedServer,
    feed_server,
    redirect,
    self_signed,
    send,
    slow,
    static,
)

LOOPBACK = tuple(netguard.networks(["127.0.0.1/32"]))
LIMITS = fetch.Limits(connect_timeout=2, read_timeout=2, deadline=3, max_bytes=64 * 1024,
                      max_redirects=3, allow_http=True, allowed=LOOPBACK)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


def _error(url: str, limits: fetch.Limits = LIMITS, **kwargs: object) -> fetch.FetchError:
    with pytest.raises(fetch.FetchError) as caught:
        fetch.get(url, limits, **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_get_returns_body_and_validators(server: FeedServer) -> None:
    server.routes["/feed.json"] = static(b'{"ok": 1}', ETag='"v1"')
    answer = fetch.get(server.url("/feed.json"), LIMITS)
    assert (answer.status, answer.body, answer.headers["etag"]) == (200, b'{"ok": 1}', '"v1"')
    assert server.headers["/feed.json"]["host"] == f"127.0.0.1:{server.port}"


def test_conditional_get_sends_the_stored_validators(server: FeedServer) -> None:
    def handler(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, 304)
        else:
            send(h, 200, b"{}", headers={"ETag": '"v1"'})

    server.routes["/feed.json"] = handler
    answer = fetch.get(server.url("/feed.json"), LIMITS, etag='"v1"',
                       last_modified="Tue, 01 Dec 2026 10:00:00 GMT")
    assert answer.status == 304
    assert server.headers["/feed.json"]["if-modified-since"] == "Tue, 01 Dec 2026 10:00:00 GMT"
    assert fetch.get(server.url("/feed.json"), LIMITS).status == 200


def test_only_configured_private_networks_are_reached(server: FeedServer) -> None:
    server.routes["/feed.json"] = static(b"{}")
    error = _error(server.url("/feed.json"), fetch.Limits(allow_http=True))
    assert error.outcome == "refused"
    assert server.requests["/feed.json"] == 0


def test_plain_http_refused_unless_configured(server: FeedServer) -> None:
    server.routes["/feed.json"] = static(b"{}")
    error = _error(server.url("/feed.json"), fetch.Limits(allowed=LOOPBACK))
    assert error.outcome == "refused" and server.requests["/feed.json"] == 0


def test_proxy_environment_is_ignored(server: FeedServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")
    server.routes["/feed.json"] = static(b"{}")
    assert fetch.get(server.url("/feed.json"), LIMITS).status == 200


def test_huge_content_length_is_refused_before_reading(server: FeedServer) -> None:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(10 * 1024 ** 3))
        h.end_headers()
        h.wfile.write(b"{" * 1024)

    server.routes["/feed.json"] = handler
    assert _error(server.url("/feed.json")).outcome == "too_large"


def test_endless_chunked_body_stops_at_the_cap(server: FeedServer) -> None:
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        chunk = b"x" * 8192
        for _ in range(100000):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    server.routes["/feed.json"] = handler
    begun = time.monotonic()
    assert _error(server.url("/feed.json")).outcome == "too_large"
    assert time.monotonic() - begun < 2


def test_body_at_the_cap_is_accepted_one_byte_over_is_not(server: FeedServer) -> None:
    server.routes["/exact"] = static(b"x" * LIMITS.max_bytes)
    server.routes["/over"] = static(b"x" * (LIMITS.max_bytes + 1))
    assert len(fetch.get(server.url("/exact"), LIMITS).body) == LIMITS.max_bytes
    assert _error(server.url("/over")).outcome == "too_large"


def test_gzip_bomb_stops_at_the_cap_after_decompression(server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < LIMITS.max_bytes  # small on the wire
    server.routes["/feed.json"] = static(bomb, **{"Content-Encoding": "gzip"})
    begun = time.monotonic()
    assert _error(server.url("/feed.json")).outcome == "too_large"
    assert time.monotonic() - begun < 2


def test_gzip_body_is_decompressed(server: FeedServer) -> None:
    server.routes["/feed.json"] = static(gzip.compress(b'{"a": 1}'),
                                         **{"Content-Encoding": "gzip"})
    answer = fetch.get(server.url("/feed.json"), LIMITS)
    assert answer.body == b'{"a": 1}'
    assert server.headers["/feed.json"]["accept-encoding"] == "gzip"


def test_slow_headers_hit_the_deadline(server: FeedServer) -> None:
    server.routes["/feed.json"] = slow(3, static(b"{}"))
    limits = fetch.Limits(read_timeout=10, deadline=0.5, allow_http=True, allowed=LOOPBACK)
    begun = time.monotonic()
    assert _error(server.url("/feed.json"), limits).outcome == "deadline"
    assert time.monotonic() - begun < 1.5


@pytest.mark.parametrize("closing", [False, True], ids=["keep-alive", "closing"])
def test_one_byte_drip_hits_the_deadline(server: FeedServer, closing: bool) -> None:
    """Also on a connection the server closes after answering (read until it closes)."""
    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        if closing:
            h.send_header("Connection", "close")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.02)

    server.routes["/feed.json"] = drip
    # Each byte comes well within the read timeout: only the total deadline stops it.
    limits = fetch.Limits(read_timeout=5, deadline=0.6, allow_http=True, allowed=LOOPBACK)
    begun = time.monotonic()
    assert _error(server.url("/feed.json"), limits).outcome == "deadline"
    assert time.monotonic() - begun < 1.5


def test_header_drip_hits_the_deadline(server: FeedServer) -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(1000):
            h.wfile.write(b"X: y\r\n")
            h.wfile.flush()
            time.sleep(0.02)

    server.routes["/feed.json"] = drip
    limits = fetch.Limits(read_timeout=5, deadline=0.6, allow_http=True, allowed=LOOPBACK)
    begun = time.monotonic()
    assert _error(server.url("/feed.json"), limits).outcome in ("deadline", "network")
    assert time.monotonic() - begun < 1.5


def test_redirects_are_followed_up_to_the_limit(server: FeedServer) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/c", 307)
    server.routes["/c"] = redirect(server.url("/feed.json"))
    server.routes["/feed.json"] = static(b"{}")
    answer = fetch.get(server.url("/a"), LIMITS)
    assert (answer.status, answer.url, answer.moved_to) == (200, server.url("/feed.json"),
                                                            None)
    server.routes["/0"] = redirect("/a")  # four hops
    assert _error(server.url("/0")).outcome == "too_many_redirects"


def test_redirect_loop_stops(server: FeedServer) -> None:
    server.routes["/loop"] = redirect("/loop")
    assert _error(server.url("/loop")).outcome == "too_many_redirects"
    assert server.requests["/loop"] == LIMITS.max_redirects + 1


@pytest.mark.parametrize("location", ["http://127.0.0.2:{port}/feed.json",
                                      "http://[::1]:{port}/feed.json",
                                      "http://2130706434:{port}/feed.json",
                                      "http://localhost:{port}/feed.json"])
def test_redirect_to_an_address_not_allowed_is_refused(server: FeedServer,
                                                       location: str) -> None:
    server.routes["/feed.json"] = redirect(location.format(port=server.port))
    # localhost resolves through the injected resolver: no DNS in tests.
    error = _error(server.url("/feed.json"), resolver=lambda h, p: ["::1"])
    assert error.outcome == "refused"
    assert server.requests["/feed.json"] == 1


def test_permanent_redirect_is_reported(server: FeedServer) -> None:
    server.routes["/old.json"] = redirect("/new.json", 301)
    server.routes["/new.json"] = static(b"{}")
    answer = fetch.get(server.url("/old.json"), LIMITS)
    assert answer.moved_to == server.url("/new.json")


def test_https_to_http_downgrade_is_refused(server: FeedServer, tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    server.routes["/feed.json"] = static(b"{}")
    with feed_server(tls=server_tls) as secure:
        secure.routes["/feed.json"] = static(b'{"tls": 1}')
        secure.routes["/down"] = redirect(server.url("/feed.json"), 301)
        assert fetch.get(secure.url("/feed.json"), LIMITS,
                         ssl_context=client_tls).body == b'{"tls": 1}'
        with pytest.raises(fetch.FetchError) as caught:
            fetch.get(secure.url("/down"), LIMITS, ssl_context=client_tls)
    assert caught.value.outcome == "downgrade"
    assert server.requests["/feed.json"] == 0


def test_tls_certificate_is_verified(tmp_path: Path) -> None:
    server_tls, _client = self_signed(tmp_path)
    with feed_server(tls=server_tls) as secure:
        secure.routes["/feed.json"] = static(b"{}")
        error = _error(secure.url("/feed.json"))  # the default trust store
    assert error.outcome == "network" and "CERTIFICATE" in error.message.upper()


def test_retry_after_seconds_and_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert fetch.retry_after("120", now) == 120
    assert fetch.retry_after("Thu, 03 Dec 2026 12:10:00 GMT", now) == 600
    assert fetch.retry_after("soon", now) is None
    assert fetch.retry_after(None, now) is None


def test_error_statuses_come_back_with_retry_after(server: FeedServer) -> None:
    server.routes["/busy"] = static(b"", 429, **{"Retry-After": "90"})
    server.routes["/gone"] = static(b"", 410)
    busy = fetch.get(server.url("/busy"), LIMITS)
    assert (busy.status, busy.retry_after) == (429, 90)
    assert fetch.get(server.url("/gone"), LIMITS).status == 410
    assert fetch.get(server.url("/nothing-here"), LIMITS).status == 404


def test_body_of_a_server_that_closes_the_connection_is_read(server: FeedServer) -> None:
    # `Connection: close` (Werkzeug's server, any HTTP/1.0 server): http.client hands the
    # connection over to the response; the body must still be read, gzip or not.
    body = b'{"items": []}' * 400
    server.routes["/plain.json"] = static(body, Connection="close")
    server.routes["/gzip.json"] = static(gzip.compress(body), Connection="close",
                                         **{"Content-Encoding": "gzip"})
    assert fetch.get(server.url("/plain.json"), LIMITS).body == body
    answer = fetch.get(server.url("/gzip.json"), LIMITS)
    assert (answer.body, answer.wire_bytes) == (body, len(gzip.compress(body)))
