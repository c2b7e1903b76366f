"""The benchmark runner: the site's main pages under load, each next to its floor.

    .venv/bin/python -m bench                          # 10,000 listings, 5 s per page
    .venv/bin/python -m bench --listings 2000 --duration 2 --pages /,/offers/
    .venv/bin/python -m bench --page-cache on          # what visitors get with the cache
    .venv/bin/python -m bench federation               # 1,000 feeds swept (its own --help)

It builds a fresh SQLite instance in a temporary folder (the demo, then ``--listings``
listings in bulk, as ``bench/offers_bench.py`` does), then:

1. counts the queries of one request to each page, in-process (test client), as a visitor
   and as a logged-in member;
2. starts the site under gunicorn on 127.0.0.1 (``--workers`` sync workers, as on a small
   host) and times the start: from starting the process to the first answered request;
3. loads each page for ``--duration`` seconds with ``--connections`` keep-alive connections
   (``wrk`` when it is installed, else Python threads), as a visitor and as a member (the
   member's session cookie on every request), and the pay form (GET the form, POST it,
   follow nothing) with demo members paying each other in a ring;
4. loads the floor the same way: ``bench/floor.py``, a bare Flask application returning a
   constant page of the same size, under the same gunicorn settings;
5. reads the memory (RSS) of each site worker after the load.

It prints one table (Markdown, for docs/performance.md): requests/s, p50 and p99 latency,
queries per request, and the share of the floor. Figures depend on the machine; shares
of the floor compare across machines.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throw-away instance
DEMO_PASSWORD = "demo-lets-ieper"  # noqa: S105 - the demo's documented password
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="key"[^>]*value="([^"]+)"')


@dataclass
class Result:
    who: str
    page: str
    size: int = 0
    rps: float = 0.0
    p50: float = 0.0
    p99: float = 0.0
    queries: int | None = None
    floor_rps: float = 0.0
    errors: int = 0
    notes: list[str] = field(default_factory=list)


# --- Data and the in-process query counts -----------------------------------------------------


def _app(instance: Path, page_cache: bool) -> Any:
    os.environ["LETS_INSTANCE"] = str(instance)
    from lets_site import create_app

    return create_app({"SECURE_COOKIES": False, "SECRET_KEY": SECRET,
                       "PAGE_CACHE_SECONDS": 60 if page_cache else 0})


def seed(instance: Path, listings: int) -> None:
    from bench import offers_bench

    offers_bench.build(instance, listings)


def pick_paths(instance: Path) -> dict[str, str]:
    """The concrete URLs: a public listing, the member's statement, the member's login."""
    from sqlalchemy import select

    from lets_site.extensions import db
    from lets_site.members.models import Member, Status
    from lets_site.offers.models import Listing

    app = _app(instance, False)
    with app.app_context():
        listing = db.session.scalar(
            select(Listing.id).where(Listing.visibility == "public",
                                     Listing.state == "published").order_by(Listing.id))
        members = list(db.session.scalars(
            select(Member).where(Member.status == Status.ACTIVE,
                                 Member.password_hash.is_not(None)).order_by(Member.id)))
        # The first demo member who is not an admin: an ordinary member's pages.
        member = next(m for m in members if not m.is_admin)
        ring = [m.account_code for m in members if not m.is_admin][:8]
        db.engine.dispose()
    return {"listing": f"/offers/{listing}", "email": member.email or "",
            "statement": f"/ledger/accounts/{member.account_code}",
            "ring": ",".join(ring)}


def count_queries(instance: Path, paths: list[str], email: str | None,
                  page_cache: bool) -> dict[str, int]:
    from sqlalchemy import event

    from lets_site.extensions import db

    app = _app(instance, page_cache)
    counts: dict[str, int] = {}
    with app.app_context():
        engine = db.engine
    # Each request in its own app context, as under gunicorn (nothing kept between them).
    client = app.test_client()
    if email:
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True))
        assert token, "no CSRF token on /login"
        response = client.post("/login", data={"csrf_token": token.group(1),
                                               "identifier": email,
                                               "password": DEMO_PASSWORD})
        assert response.status_code == 303, f"login failed: {response.status_code}"
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    for path in paths:
        client.get(path)
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            client.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts[path] = len(statements)
    engine.dispose()
    return counts


# --- Servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(target: str, instance: Path, workers: int, page_cache: bool,
          probe: str) -> tuple[subprocess.Popen[bytes], int, float]:
    """gunicorn with ``workers`` sync workers on 127.0.0.1; returns the process, the port
    and the seconds from starting it to the first answered ``probe`` request."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    env.update({"LETS_INSTANCE": str(instance), "LETS_SECRET_KEY": SECRET,
                "LETS_SECURE_COOKIES": "false",
                "LETS_PAGE_CACHE_SECONDS": "60" if page_cache else "0",
                "PYTHONPATH": str(ROOT)})
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", target],
        cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", probe)
            if conn.getresponse().status == 200:
                conn.close()
                return process, port, time.perf_counter() - started
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise SystemExit(f"{target} did not start")
        time.sleep(0.02)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def worker_rss_mb(process: subprocess.Popen[bytes]) -> list[float]:
    """Resident memory of gunicorn's workers (Linux /proc)."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    result = []
    try:
        pids = children.read_text().split()
    except OSError:
        return result
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            result.append(int(match.group(1)) / 1024)
    return result


# --- Clients -------------------------------------------------------------------------------


class Session:
    """A keep-alive client with its own cookies (enough for the site's session cookie)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.location: str | None = None  # the last answer's redirect, as a path

    def request(self, method: str, path: str,
                form: dict[str, str] | None = None) -> tuple[int, bytes]:
        headers = {"Accept-Language": "nl"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        location = response.headers.get("Location")
        self.location = urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl() \
            if location else None
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def login(self, email: str) -> None:
        status, page = self.request("GET", "/login")
        token = CSRF_RE.search(page.decode())
        assert token, "no CSRF token on /login"
        status, _ = self.request("POST", "/login", {"csrf_token": token.group(1),
                                                    "identifier": email,
                                                    "password": DEMO_PASSWORD})
        if status != 303:
            raise SystemExit(f"login as {email} failed: {status}")
        # Follow the redirect as a browser does: the page it shows takes the welcome
        # message out of the session, so the cookie the load sends is a settled session's
        # (with the message still in it, every request would show it again and sign a new
        # cookie).
        status, _ = self.request("GET", self.location or "/")
        if status != 200:
            raise SystemExit(f"the page after logging in as {email}: {status}")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def load(port: int, path: str, seconds: float, connections: int,
         cookie: str = "") -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, error responses) for GET ``path``."""
    if shutil.which("wrk"):
        return _wrk(port, path, seconds, connections, cookie)
    return _threads(port, path, seconds, connections, cookie)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(port: int, path: str, seconds: float, connections: int,
         cookie: str) -> tuple[float, float, float, int]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
               "-H", "Accept-Language: nl"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (float(rps.group(1)) if rps else 0.0,
            _ms(*p50.groups()) if p50 else 0.0, _ms(*p99.groups()) if p99 else 0.0,
            int(errors.group(1)) if errors else 0)


def _threads(port: int, path: str, seconds: float, connections: int,
             cookie: str) -> tuple[float, float, float, int]:
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    headers = {"Accept-Language": "nl", **({"Cookie": cookie} if cookie else {})}

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            began = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies[i].append((time.perf_counter() - began) * 1000)
            if response.status != 200:
                errors[i] += 1
        conn.close()

    return _summary(latencies, _run(worker, connections), sum(errors))


def _run(worker: Any, count: int) -> float:
    """Run ``worker(i)`` for i in range(count) on threads; the seconds they took."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - began


def _summary(latencies: list[list[float]], seconds: float,
             errors: int) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, errors) from each thread's latencies."""
    every = sorted(x for part in latencies for x in part)
    if not every:
        return 0.0, 0.0, 0.0, errors
    return (len(every) / seconds, statistics.median(every),
            every[min(len(every) - 1, int(len(every) * 0.99))], errors)


def load_pay(port: int, ring: list[str], emails: dict[str, str], seconds: float
             ) -> tuple[float, float, float, int]:
    """Payments per second through the form (GET /ledger/pay, POST, 303), one client per
    member of the ring, each paying the next one unit: balances stay where they were."""
    sessions = []
    for code in ring:
        session = Session(port)
        session.login(emails[code])
        sessions.append(session)
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in sessions]
    failures = [0] * len(sessions)

    def worker(i: int) -> None:
        session = sessions[i]
        payee = ring[(i + 1) % len(ring)]
        n = 0
        while time.monotonic() < deadline:
            began = time.perf_counter()
            _, page = session.request("GET", "/ledger/pay")
            text = page.decode()
            csrf, key = CSRF_RE.search(text), KEY_RE.search(text)
            if not (csrf and key):
                failures[i] += 1
                continue
            status, _ = session.request("POST", "/ledger/pay", {
                "csrf_token": csrf.group(1), "key": key.group(1), "from_account": ring[i],
                "payee": payee, "amount": "1", "description": f"bench {i}/{n}"})
            n += 1
            latencies[i].append((time.perf_counter() - began) * 1000)
            if status != 303:
                failures[i] += 1

    return _summary(latencies, _run(worker, len(sessions)), sum(failures))


# --- The run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[list[Result], dict[str, Any]]:
    page_cache = args.page_cache == "on"
    with tempfile.TemporaryDirectory(prefix="lets-bench-") as tmp:
        instance = Path(tmp)
        began = time.perf_counter()
        seed(instance, args.listings)
        facts: dict[str, Any] = {"seed_s": time.perf_counter() - began,
                                 "listings": args.listings, "load": [os.getloadavg()[0]]}
        chosen = pick_paths(instance)
        email = chosen["email"]
        wanted = args.pages.split(",") if args.pages else None
        anonymous = ["/", "/offers/", chosen["listing"], "/language"]
        member = ["/", "/offers/", chosen["listing"], "/ledger/", chosen["statement"],
                  "/members/", "/language"]
        if wanted is not None:
            anonymous = [p for p in anonymous if p in wanted]
            member = [p for p in member if p in wanted]
        queries = {"visitor": count_queries(instance, anonymous, None, page_cache),
                   "member": count_queries(instance, member, email, False)}
        site, port, facts["start_s"] = serve("lets_site:create_app()", instance,
                                             args.workers, page_cache, "/language")
        floor, floor_port, _ = serve("bench.floor:create_app()", instance, args.workers,
                                     False, "/100")
        results: list[Result] = []
        try:
            visitor = Session(port)
            logged_in = Session(port)
            logged_in.login(email)
            for who, paths, session in (("visitor", anonymous, visitor),
                                        ("member", member, logged_in)):
                cookie = session.cookie_header()
                for path in paths:
                    status, body = session.request("GET", path)
                    if status != 200:
                        raise SystemExit(f"{who} {path}: status {status}")
                    result = Result(who, path, len(body), queries=queries[who].get(path))
                    result.rps, result.p50, result.p99, result.errors = load(
                        port, path, args.duration, args.connections, cookie)
                    result.floor_rps = load(floor_port, f"/{len(body)}", args.duration,
                                            args.connections)[0]
                    results.append(result)
                    print(f"  {who:8} {path:28} {result.rps:8.1f}/s", file=sys.stderr)
            if wanted is None or "pay" in wanted:
                ring = chosen["ring"].split(",")
                emails = _emails(instance, ring)
                pay = Result("member", "pay (GET form + POST)")
                pay.rps, pay.p50, pay.p99, pay.errors = load_pay(port, ring, emails,
                                                                 args.duration)
                status, body = logged_in.request("GET", "/ledger/pay")
                pay.size = len(body)
                pay.floor_rps = load(floor_port, f"/{len(body)}", args.duration,
                                     len(ring))[0] / 2  # two requests per payment
                pay.notes.append(f"{len(ring)} clients")
                results.append(pay)
            facts["rss_mb"] = worker_rss_mb(site)
            facts["load"].append(os.getloadavg()[0])
        finally:
            stop(site)
            stop(floor)
    facts["client"] = "wrk" if shutil.which("wrk") else "Python threads"
    return results, facts


def _emails(instance: Path, codes: list[str]) -> dict[str, str]:
    from sqlalchemy import select

    from lets_site.extensions import db
    from lets_site.members.models import Member

    app = _app(instance, False)
    with app.app_context():
        rows = db.session.execute(select(Member.account_code, Member.email)
                                  .where(Member.account_code.in_(codes))).all()
        db.engine.dispose()
    return {code: email or "" for code, email in rows}


def print_table(results: list[Result], facts: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"\n{facts['listings']:,} listings, SQLite, gunicorn {args.workers} sync workers, "
          f"{args.connections} connections, {args.duration:g} s per page, "
          f"client: {facts['client']}, page cache {args.page_cache} for visitors.\n")
    print("| who | page | bytes | requests/s | p50 ms | p99 ms | queries | floor/s | "
          "share of the floor |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        share = 100 * r.rps / r.floor_rps if r.floor_rps else 0.0
        queries = "" if r.queries is None else str(r.queries)
        extra = f" ({', '.join(r.notes)})" if r.notes else ""
        errors = f", {r.errors} errors" if r.errors else ""
        print(f"| {r.who} | `{r.page}`{extra} | {r.size:,} | {r.rps:,.0f}{errors} | "
              f"{r.p50:.1f} | {r.p99:.1f} | {queries} | {r.floor_rps:,.0f} | {share:.1f}% |")
    rss = facts.get("rss_mb") or []
    print(f"\nStart to first answered request: {facts['start_s']:.2f} s. "
          f"Memory per worker after the load: "
          f"{', '.join(f'{x:.0f} MB' for x in rss) or 'not measured'}. "
          f"Seeding took {facts['seed_s']:.0f} s. Load average (1 min) before and after "
          f"the load: {' and '.join(f'{x:.1f}' for x in facts.get('load', []))} "
          f"on {os.cpu_count()} cores.")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["federation"]:  # the federation's sweep: bench/federation_bench.py
        from bench import federation_bench

        return federation_bench.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-cache", choices=("on", "off"), default="off")
    parser.add_argument("--pages", default="",
                        help="comma-separated paths to run (and 'pay'); all by default")
    args = parser.parse_args(argv)
    results, facts = run(args)
    print_table(results, facts, args)


if __name__ == "__main__":
    main()
