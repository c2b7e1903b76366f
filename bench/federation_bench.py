"""The federation's sweep benchmark (not a test): many group feeds served from 127.0.0.1,
fetched and merged by ``lets-site federation fetch``'s sweep, next to its floor.

    .venv/bin/python -m bench federation                    # 1,000 feeds of 200 items
    .venv/bin/python -m bench federation --feeds 100 --items 50 --workers 8
    .venv/bin/python -m bench federation --feeds 10000 --processes 4 \
        --database-url 'postgresql://.../db?options=-csearch_path%3Dbench'   # 4 workers
    .venv/bin/python -m bench federation plans              # the agenda's query plans

1. A feed server (a process of its own, ``ThreadingHTTPServer`` on 127.0.0.1) serves
   ``--feeds`` complete group feeds of ``--items`` items each (about one in ten an event,
   the rest offers and wants), gzip-compressed (made before the first request), with
   strong ETags and 304s. Each feed
   has a host name of its own (``g0001.feeds.bench``, resolved to 127.0.0.1 by the
   sweep's injectable resolver), as each group has its own site: the per-host limit
   plays no part. The mix, by feed number modulo 100: 0-91 healthy, 92-95 slow (1 s
   before the answer), 96-97 answer 500, 98 answers JSON that is not a feed, 99 never
   answers (the read timeout, 10 s, ends it).
2. A fresh instance (SQLite in a temporary folder, or ``--database-url``) follows them all.
3. The first sweep, then the next one (the clock moved past the 30-minute interval: the
   healthy feeds answer 304, the failing ones are due again after their backoff, except
   those that timed out: their first wait is an hour), each
   in a process of its own that reports its time, outcomes and peak memory (RSS); with
   ``--processes N``, N such processes at once (``lets-site federation fetch`` on N
   workers, PostgreSQL: they share the queue through the feeds' row leases), each
   reporting its own figures. After each sweep the feed server and the fetch log say
   whether any feed was fetched twice.
4. The floor: the same number of plain GETs (no parsing, no database) with a pool of the
   same size (all processes' threads), first unconditional, then with the ETags (304s).
   Then the database's size (PostgreSQL: the schema's tables with indexes and TOAST).
5. The common agenda (``/agenda/``, in-process, test client) over the merged events:
   the first page and a far page, median of 10, and the page's compressed size.

It prints one Markdown table like the runner's, with the load average beside each figure
(the machine may be shared).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throw-away instance
DOMAIN = "feeds.bench"
NAMESPACE = uuid.UUID("3b1d7a52-0000-4000-8000-000000000000")
SLOW_SECONDS = 1.0
HANG_SECONDS = 15.0  # longer than the fetcher's read timeout (10 s)
WORDS = ("fiets", "tuin", "soep", "boek", "hulp", "rit", "les", "naaiwerk", "computer",
         "verhuis", "schilder", "brood", "kleding", "zetel", "kast", "hond", "kat", "gitaar")


def kind(n: int) -> str:
    rest = n % 100
    if rest < 92:
        return "healthy"
    if rest < 96:
        return "slow"
    if rest < 98:
        return "error"
    return "bad_json" if rest == 98 else "hang"


def host(n: int) -> str:
    return f"g{n:04d}.{DOMAIN}"


def slug(n: int) -> str:
    return f"g{n:04d}"


def resolver(name: str, port: int) -> Sequence[str]:
    """Every bench feed's host is this machine."""
    if name.endswith("." + DOMAIN):
        return ["127.0.0.1"]
    raise OSError(f"not a bench host: {name}")


# --- The feed server ---------------------------------------------------------------------


def feed_body(n: int, items: int, port: int) -> bytes:
    """Feed ``n``: a complete LETS feed 1 of ``items`` items, about one in ten an event in
    the coming weeks (January and February: one UTC offset, +01:00)."""
    rng = random.Random(n)
    base = f"http://{host(n)}:{port}"
    out = []
    for k in range(items):
        words = " ".join(rng.choice(WORDS) for _ in range(40))
        item: dict[str, Any] = {
            "id": f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{n}-{k}')}",
            "url": f"{base}/offers/{k}",
            "title": f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {k}",
            "content_text": words,
            "date_published": "2026-11-01T10:00:00Z",
            "date_modified": "2026-11-02T10:00:00Z",
        }
        if k % 10 == 0 or k == items - 1:
            day = datetime(2027, 1, 4) + timedelta(days=(n + k) % 50, hours=10 + k % 9)
            item["url"] = f"{base}/events/{k}"
            item["_lets"] = {"type": "event", "revision": 1, "status": "scheduled",
                             "timezone": "Europe/Brussels",
                             "start": day.strftime("%Y-%m-%dT%H:%M:00+01:00"),
                             "end": (day + timedelta(hours=2)).strftime(
                                 "%Y-%m-%dT%H:%M:00+01:00")}
        else:
            item["_lets"] = {"type": "offer" if k % 3 else "want", "revision": 1,
                             "category": "garden", "mode": "in_person",
                             "price": {"amount": 1, "unit": "uur"},
                             "member": {"display_name": f"Lid {k}"}}
        out.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1", "title": f"LETS {slug(n)}",
        "home_page_url": base + "/", "feed_url": base + "/feed.json", "language": "nl-BE",
        "items": out,
        "_lets": {"about": base + "/docs/feed", "profile": "1.0",
                  "generated_at": "2026-12-01T10:00:00Z", "complete": True,
                  "tombstone_days": 30,
                  "group": {"slug": slug(n), "name": f"LETS {slug(n)}", "url": base + "/",
                            "timezone": "Europe/Brussels",
                            "area": {"locality": slug(n), "region": "Vlaanderen",
                                     "country": "BE"},
                            "unit": {"code": "uur", "name": "uren"}}},
    }
    return json.dumps(feed, ensure_ascii=False).encode()


def _gzipped(n: int, items: int, port: int) -> bytes:
    return gzip.compress(feed_body(n, items, port), 6)


def serve(port: int, feeds: int, items: int, bodies: Path | None = None) -> None:
    """The feed server (run as its own process by :func:`main`). With ``bodies``, the
    gzipped bodies are kept in that folder (they depend on the port) for the next run."""
    cache: dict[int, bytes] = {}
    requests: dict[int, int] = {}  # GETs of each feed that got as far as its answer
    lock = threading.Lock()

    def body(n: int) -> bytes:
        with lock:
            found = cache.get(n)
        if found is None:
            found = _gzipped(n, items, port)
            with lock:
                cache[n] = found
        return found

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/_requests":  # GETs per feed since the last ask (then reset)
                with lock:
                    counts = dict(requests)
                    requests.clear()
                return self._send(200, json.dumps(counts).encode(), "application/json")
            name = (self.headers.get("Host") or "").split(":")[0]
            try:
                n = int(name.split(".")[0][1:])
            except ValueError:
                n = -1
            if not 0 <= n < feeds or self.path != "/feed.json":
                return self._send(404, b"no such feed", "text/plain")
            what = kind(n)
            if what == "hang":
                time.sleep(HANG_SECONDS)
                self.close_connection = True
                return None
            if what == "slow":
                time.sleep(SLOW_SECONDS)
            if what == "error":
                return self._send(500, b"Internal Server Error", "text/plain")
            if what == "bad_json":
                return self._send(200, b'{"version": "https://jsonfeed.org/version/1.1", '
                                       b'"items": [', "application/feed+json")
            with lock:
                requests[n] = requests.get(n, 0) + 1
            etag = f'"feed-{n}-v1"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, b"", None, {"ETag": etag})
            return self._send(200, body(n), "application/feed+json",
                              {"ETag": etag, "Content-Encoding": "gzip"})

        def _send(self, status: int, data: bytes, content_type: str | None,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up (the fetcher's timeouts) is expected here

    # Every body made before the first request, as a group's site has its feed ready:
    # the sweep is measured, not the making of 1,000 feeds on the same two cores. On all
    # cores at once (the same bytes): 10,000 feeds take 15-30 ms each to make.
    wanted = [n for n in range(feeds) if kind(n) in ("healthy", "slow")]
    kept = {n: bodies / f"{port}-{items}-{n}.gz" for n in wanted} if bodies else {}
    for n, path in kept.items():
        if path.exists():
            cache[n] = path.read_bytes()
    wanted = [n for n in wanted if n not in cache]
    if len(wanted) > 200:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
            made = pool.starmap(_gzipped, [(n, items, port) for n in wanted], chunksize=50)
        cache.update(zip(wanted, made, strict=True))
    for n in wanted:
        body(n)
    if bodies:
        for n in wanted:
            kept[n].write_bytes(cache[n])
    server = Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    print("ready", flush=True)
    server.serve_forever()


# --- The instance and the sweeps ---------------------------------------------------------


def _app(instance: Path, database_url: str | None) -> Any:
    os.environ["LETS_INSTANCE"] = str(instance)
    from lets_site import create_app

    return create_app({"SECRET_KEY": SECRET, "SECURE_COOKIES": False,
                       "DATABASE_URL": database_url, "MAIL_SEND_MODE": "cron",
                       "ALLOWED_PRIVATE_NETWORKS": ["127.0.0.0/8"],
                       "FEDERATION_ALLOW_HTTP": True, "PAGE_CACHE_SECONDS": 0})


def seed(instance: Path, database_url: str | None, feeds: int, port: int) -> None:
    from flask_migrate import upgrade

    from lets_site.database import utcnow, write_transaction
    from lets_site.extensions import db
    from lets_site.federation.models import Feed, Health, Status

    app = _app(instance, database_url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        with write_transaction():
            # As services.add_feed makes them, in bulk (its checks and audit rows are not
            # what is measured here).
            db.session.add_all(
                Feed(slug=slug(n), feed_url=f"http://{host(n)}:{port}/feed.json",
                     status=Status.ACTIVE, health=Health.NEW, reason="", group_name="",
                     group_info="{}", errors=0, next_fetch_at=utcnow())
                for n in range(feeds))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def sweep(instance: Path, database_url: str | None, offset: float, workers: int) -> None:
    """One sweep with the clock moved by ``offset`` seconds; prints a JSON line."""
    from lets_site.federation import sweep as federation_sweep

    app = _app(instance, database_url)
    start = resource.getrusage(resource.RUSAGE_SELF)
    rss_before = _peak_rss_mb()
    cpu_before = start.ru_utime + start.ru_stime

    def clock() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=offset)

    report = federation_sweep.run(app, workers=workers, clock=clock, resolver=resolver)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": report.seconds, "outcomes": dict(report.outcomes),
                      "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
                      "rss_before_mb": rss_before,
                      "peak_rss_mb": _peak_rss_mb()}))


def _peak_rss_mb() -> float:
    """This process's peak RSS. Linux keeps ``ru_maxrss`` across ``exec``, so a sweep
    process started by a bigger parent would report the parent's size: the kernel's
    high-water mark of this image (``VmHWM``) where there is one."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(args: list[str]) -> dict[str, Any]:
    return _children(args, 1)[0]


def _children(args: list[str], processes: int) -> list[dict[str, Any]]:
    """``processes`` sweep processes started at once; their reports, with ``wall_s``
    (from starting the first to the end of the last, start-up included)."""
    begun = time.monotonic()
    started = [subprocess.Popen([sys.executable, "-m", "bench.federation_bench", *args],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(processes)]
    reports = []
    for child in started:
        out, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(err[-4000:])
        reports.append(dict(json.loads(out.strip().splitlines()[-1])))
    wall = time.monotonic() - begun
    for report in reports:
        report["wall_s"] = wall
    return reports


def _sum_outcomes(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report of several processes' sweeps: outcomes added up, the longest time."""
    total: dict[str, int] = {}
    for report in reports:
        for key, n in report["outcomes"].items():
            total[key] = total.get(key, 0) + n
    return {"outcomes": total, "seconds": max(r["seconds"] for r in reports),
            "cpu_s": sum(r["cpu_s"] for r in reports),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in reports),
            "rss_before_mb": max(r["rss_before_mb"] for r in reports),
            "wall_s": reports[0]["wall_s"]}


def _requests(port: int) -> dict[int, int]:
    """The feed server's GETs per feed since the last ask."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/_requests")
        return {int(k): v for k, v in json.loads(conn.getresponse().read()).items()}
    finally:
        conn.close()


def twice(instance: Path, database_url: str | None, since: datetime) -> int:
    """Feeds with more than one fetch logged from ``since`` on (the sweep's clock)."""
    from sqlalchemy import func, select

    from lets_site.extensions import db
    from lets_site.federation.models import FetchLog

    app = _app(instance, database_url)
    with app.app_context():
        per_feed = select(FetchLog.feed_id).where(FetchLog.started_at >= since) \
            .group_by(FetchLog.feed_id).having(func.count() > 1).subquery()
        found = int(db.session.scalar(select(func.count()).select_from(per_feed)) or 0)
        db.session.remove()
        db.engine.dispose()
    return found


def database_size(instance: Path, database_url: str | None) -> dict[str, int]:
    """Bytes on disk: the whole database (SQLite's file, or the schema's tables on
    PostgreSQL, indexes and TOAST included) and the merged items' table alone."""
    from sqlalchemy import text

    from lets_site.extensions import db

    app = _app(instance, database_url)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            path = Path(str(db.engine.url.database))
            total = path.stat().st_size
            item = total
        else:
            total = int(db.session.scalar(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN "
                "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = "
                "current_schema() AND c.relkind IN ('r', 'm')")) or 0)
            item = int(db.session.scalar(text(
                "SELECT pg_total_relation_size('federation_item')")) or 0)
        db.session.remove()
        db.engine.dispose()
    return {"total": total, "federation_item": item}


# --- The floor: plain GETs with the same pool ---------------------------------------------


def floor(port: int, feeds: int, workers: int, conditional: bool) -> float:
    def one(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Host": f"{host(n)}:{port}", "Accept-Encoding": "gzip"}
        if conditional:
            headers["If-None-Match"] = f'"feed-{n}-v1"'
        try:
            conn.request("GET", "/feed.json", headers=headers)
            conn.getresponse().read()
        except OSError:
            pass
        finally:
            conn.close()

    begun = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(feeds)))
    return time.monotonic() - begun


# --- The agenda page ----------------------------------------------------------------------


def agenda(instance: Path, database_url: str | None) -> dict[str, Any]:
    from sqlalchemy import func, select

    from lets_site.extensions import db
    from lets_site.federation.models import FeedItem

    app = _app(instance, database_url)
    client = app.test_client()
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(FeedItem).where(
            FeedItem.type == "event", FeedItem.deleted.is_(False)))
        items = db.session.scalar(select(func.count()).select_from(FeedItem))
    out: dict[str, Any] = {"events": events, "items": items}
    pages = max(1, (events or 0) // 50)
    for name, path in (("first", "/agenda/"), ("far", f"/agenda/?page={pages // 2}")):
        client.get(path)
        times = []
        for _ in range(10):
            begun = time.perf_counter()
            answer = client.get(path, headers={"Accept-Encoding": "gzip"})
            times.append((time.perf_counter() - begun) * 1000)
            assert answer.status_code == 200, answer.status_code
        raw = answer.get_data()
        size = len(raw) if answer.headers.get("Content-Encoding") == "gzip" else \
            len(gzip.compress(raw, 6))
        out[name] = {"path": path, "median_ms": statistics.median(times),
                     "max_ms": max(times), "gzip_bytes": size}
    return out


# --- The run ------------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: argparse.Namespace) -> None:
    port = args.port or _free_port()
    kept = ["--bodies", str(args.bodies)] if args.bodies else []
    begun = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.federation_bench", "serve", "--port", str(port),
         "--feeds", str(args.feeds), "--items", str(args.items), *kept],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    rows: list[tuple[str, str, str]] = []

    def note(what: str, figure: str) -> None:
        rows.append((what, figure, _load()))
        print(f"  {what}: {figure}  (load {_load()})", file=sys.stderr, flush=True)

    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        print(f"  feed server ready in {time.monotonic() - begun:.1f} s", file=sys.stderr,
              flush=True)
        with tempfile.TemporaryDirectory(prefix="lets-federation-bench-") as folder:
            instance = Path(folder)
            begun = time.monotonic()
            seed(instance, args.database_url, args.feeds, port)
            note("registry", f"{args.feeds:,} feeds followed in "
                             f"{time.monotonic() - begun:.1f} s")
            common = ["--instance", str(instance), "--workers", str(args.workers)]
            if args.database_url:
                common += ["--database-url", args.database_url]
            threads = args.workers * args.processes
            for name, offset in (("first", 0.0), ("next", args.interval + 1)):
                since = datetime.now(UTC) + timedelta(seconds=offset)
                _requests(port)  # from zero
                reports = _children(["sweep", *common, "--offset", str(offset)],
                                     args.processes)
                served = _requests(port)
                result = _sum_outcomes(reports)
                note(f"{name} sweep", f"{result['seconds']:.1f} s ({result['cpu_s']:.1f} s "
                                      f"CPU), peak RSS {result['peak_rss_mb']:.0f} MB "
                                      f"(after start-up {result['rss_before_mb']:.0f} MB); "
                                      f"{_outcomes(result)}")
                if args.processes > 1:
                    note(f"{name} sweep, {args.processes} processes",
                         f"{result['wall_s']:.1f} s from starting the first to the end of "
                         "the last; each: " + "; ".join(
                             f"{r['seconds']:.1f} s, {r['cpu_s']:.1f} s CPU, peak RSS "
                             f"{r['peak_rss_mb']:.0f} MB, {sum(r['outcomes'].values()):,} "
                             "feeds" for r in reports))
                doubled = sum(1 for n in served.values() if n > 1)
                note(f"{name} sweep, fetched twice",
                     f"{doubled} feeds by the server's count ({sum(served.values()):,} "
                     f"answered GETs), {twice(instance, args.database_url, since)} by the "
                     "fetch log")
                if args.first_only:
                    break
                floor_time = floor(port, args.feeds, threads, conditional=name == "next")
                _requests(port)
                note(f"floor, {name}", f"{floor_time:.1f} s for {args.feeds:,} "
                                       f"{'conditional' if name == 'next' else 'plain'} "
                                       f"GETs, {threads} threads")
            size = database_size(instance, args.database_url)
            note("database size", f"{size['total'] / 1e6:,.0f} MB, of which the merged "
                                  f"items {size['federation_item'] / 1e6:,.0f} MB")
            if not args.no_agenda and not args.first_only:
                page = agenda(instance, args.database_url)
                for name in ("first", "far"):
                    p = page[name]
                    note(f"agenda, {name} page",
                         f"`{p['path']}` over {page['events']:,} events "
                         f"({page['items']:,} items): median {p['median_ms']:.0f} ms, "
                         f"max {p['max_ms']:.0f} ms, {p['gzip_bytes']:,} bytes gzip")
    finally:
        server.terminate()
        server.wait()
    print(f"\n{args.feeds:,} feeds of {args.items} items, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}, {args.processes} process(es) "
          f"of {args.workers} fetch threads, {os.cpu_count()} cores")
    print("| what | figure | load average (1, 5, 15 min) |")
    print("|---|---|---|")
    for what, figure, load in rows:
        print(f"| {what} | {figure} | {load} |")


def _outcomes(result: dict[str, Any]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(result["outcomes"].items()))


def main(argv: list[str] | None = None) -> None:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["plans"]:  # the agenda's and the merged feed's query plans
        from bench import federation_plans

        federation_plans.main(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m bench federation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step")
    serve_p = sub.add_parser("serve", help=argparse.SUPPRESS)
    sweep_p = sub.add_parser("sweep", help=argparse.SUPPRESS)
    for p in (parser, serve_p):
        p.add_argument("--feeds", type=int, default=1000)
        p.add_argument("--items", type=int, default=200)
    serve_p.add_argument("--port", type=int, required=True)
    for p in (parser, serve_p):
        p.add_argument("--bodies", type=Path, default=None,
                       help="a folder keeping the feeds' bodies for the next run (same port)")
    parser.add_argument("--port", type=int, default=0, help="the feed server's (0: any)")
    from lets_site.federation.feature import DEFAULTS

    for p in (parser, sweep_p):
        # The floor uses the same number of threads as the sweep.
        p.add_argument("--workers", type=int, default=int(DEFAULTS["FEDERATION_WORKERS"]))
        p.add_argument("--database-url", default=None)
    sweep_p.add_argument("--instance", type=Path, required=True)
    sweep_p.add_argument("--offset", type=float, default=0.0)
    parser.add_argument("--interval", type=float, default=1800.0,
                        help="FEDERATION_INTERVAL_SECONDS (the next sweep's clock moves by it)")
    parser.add_argument("--no-agenda", action="store_true")
    parser.add_argument("--first-only", action="store_true",
                        help="the first sweep alone (before/after comparisons of its CPU)")
    parser.add_argument("--processes", type=int, default=1,
                        help="sweep processes at once (PostgreSQL: they share the queue)")
    args = parser.parse_args(argv)
    if args.step == "serve":
        serve(args.port, args.feeds, args.items, args.bodies)
    elif args.step == "sweep":
        sweep(args.instance, args.database_url, args.offset, args.workers)
    else:
        run(args)


if __name__ == "__main__":
    main()
