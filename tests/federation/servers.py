"""Real HTTP servers on 127.0.0.1 for the fetcher's tests (no mocked transport).

``FeedServer`` runs a threading HTTP server; each path answers through a handler
function given the request handler (``h``), so a test writes exactly the bytes, delays,
redirects and headers it needs. It counts requests and the most requests it served at
once, per path and in all.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]


class FeedServer:
    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: Counter[str] = Counter()
        self.headers: dict[str, dict[str, str]] = {}
        self.active = 0
        self.peak = 0
        self.active_by_path: Counter[str] = Counter()
        self.peak_by_path: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def answering(self) -> None:
                """The answer's first byte is about to go: the request no longer counts
                as active (counted after the last byte, a client that read the answer
                and sent its next request could be counted twice)."""
                with server._lock:
                    if not self._done:
                        self._done = True
                        server.active -= 1
                        server.active_by_path[self._path] -= 1

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                self._path, self._done = path, False
                with server._lock:
                    server.requests[path] += 1
                    server.headers[path] = {k.lower(): v for k, v in self.headers.items()}
                    server.active += 1
                    server.peak = max(server.peak, server.active)
                    server.active_by_path[path] += 1
                    server.peak_by_path[path] = max(server.peak_by_path[path],
                                                    server.active_by_path[path])
                try:
                    handler = server.routes.get(path)
                    if handler is None:
                        send(self, 404, b"not here", "text/plain")
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    self.answering()

        self.httpd = ThreadingHTTPServer((host, 0), RequestHandler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def feed_server(tls: ssl.SSLContext | None = None) -> Iterator[FeedServer]:
    server = FeedServer(tls=tls).start()
    try:
        yield server
    finally:
        server.stop()


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"",
         content_type: str = "application/feed+json",
         headers: dict[str, str] | None = None) -> None:
    answering = getattr(h, "answering", None)
    if answering is not None:
        answering()
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        h.send_header(key, value)
    h.end_headers()
    h.wfile.write(body)


def static(body: bytes, status: int = 200, **headers: str) -> Handler:
    return lambda h: send(h, status, body, headers=dict(headers))


def slow(seconds: float, then: Handler) -> Handler:
    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        then(h)

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    return lambda h: send(h, status, b"", "text/plain", {"Location": location})


def feed_body(feed: dict[str, Any]) -> bytes:
    return json.dumps(feed).encode()


def self_signed(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A certificate for 127.0.0.1, made with the ``cryptography`` package (a dependency of
    the feed's signing): the server's context and a client context that trusts it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    cert, key = folder / "cert.pem", folder / "key.pem"
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client
