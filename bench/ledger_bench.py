"""Ledger benchmark.

1. Transfers per second through the web form path (GET /ledger/pay, POST the form, 303)
   with 16 concurrent logged-in clients against gunicorn on 127.0.0.1, on SQLite (WAL) and,
   with --pg, on PostgreSQL. Printed next to the floor: the same clients fetching a
   constant response (a static file) from the same server.
2. The statement of an account with 10,000 entries: median time to render its first page
   (in-process, test client), next to the floor (the /language page), and its size.

Usage:
  .venv/bin/python bench/ledger_bench.py [--pg postgresql://postgres@127.0.0.1:5432/DB]
      [--clients 16] [--per-client 40] [--workers 2] [--threads 8]
The PostgreSQL database given is emptied (all tables dropped) first.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.security import generate_password_hash  # noqa: E402

from lets_site import create_app  # noqa: E402
from lets_site.extensions import db  # noqa: E402

PASSWORD = "bench password 123"  # noqa: S105 - throw-away bench accounts
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="key"[^>]*value="([^"]+)"')
SECRET = "bench-secret-key-not-for-production"  # noqa: S105


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(CookieJar()),
            _NoRedirect())

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=60) as r:
            return r.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, data=urllib.parse.urlencode(data).encode(),
                                  timeout=60) as r:
                return r.status, ""
        except urllib.error.HTTPError as e:
            e.read()
            return e.code, e.headers.get("Location", "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str, instance: Path, clients: int) -> list[str]:
    """Fresh schema, `clients` members with passwords, wide limits. Returns the codes."""
    os.environ["LETS_INSTANCE"] = str(instance)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "SECURE_COOKIES": False})
    from lets_site.ledger.models import LedgerSettings
    from lets_site.members.models import Member, Role, Status

    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add(LedgerSettings(id=1, decimals=0, default_min=-10**9, default_max=10**9,
                                      balances_visible=False))
        password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        codes = []
        for n in range(1, clients + 1):
            member = Member(account_code=f"BE-{n:03d}", display_name=f"Bench {n}",
                            full_name=f"Bench Member {n}", email=f"bench{n}@example.org",
                            status=Status.ACTIVE, password_hash=password_hash)
            member.set_roles([Role.MEMBER])
            db.session.add(member)
            codes.append(member.account_code)
        db.session.commit()
        db.engine.dispose()
    return codes


def _serve(url: str, instance: Path, workers: int, threads: int) -> tuple[Any, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    env.update({"LETS_INSTANCE": str(instance), "LETS_DATABASE_URL": url,
                "LETS_SECRET_KEY": SECRET, "LETS_SECURE_COOKIES": "false"})
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "lets_site:create_app()"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            Browser(base).get("/login")
            return proc, base
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("server did not start") from None
            time.sleep(0.2)


def _run_clients(base: str, codes: list[str], per_client: int) -> tuple[float, float, int]:
    """Returns (transfers/s, floor requests/s, failures)."""
    browsers = []
    for code in codes:
        b = Browser(base)
        token = CSRF_RE.search(b.get("/login"))
        assert token
        status, _ = b.post("/login", {"csrf_token": token.group(1), "identifier": code,
                                      "password": PASSWORD})
        assert status == 303, status
        browsers.append(b)
    failures = []

    def pay(n: int, barrier: threading.Barrier) -> None:
        b = browsers[n]
        barrier.wait()
        for i in range(per_client):
            page = b.get("/ledger/pay")
            csrf, key = CSRF_RE.search(page), KEY_RE.search(page)
            assert csrf and key
            status, location = b.post("/ledger/pay", {
                "csrf_token": csrf.group(1), "key": key.group(1), "from_account": codes[n],
                "payee": codes[(n + 1 + i) % len(codes)] if (n + 1 + i) % len(codes) != n
                else codes[(n + 2) % len(codes)],
                "amount": "1", "description": f"bench {n}/{i}"})
            if status != 303 or "/ledger/transfers/" not in location:
                failures.append(status)

    def floor(n: int, barrier: threading.Barrier) -> None:
        b = browsers[n]
        barrier.wait()
        for _ in range(per_client * 2):
            b.get("/static/css/ledger.css")

    results = []
    for target in (pay, floor):
        barrier = threading.Barrier(len(codes) + 1)
        threads = [threading.Thread(target=target, args=(n, barrier)) for n in range(len(codes))]
        for t in threads:
            t.start()
        barrier.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        results.append(time.perf_counter() - began)
    transfers = len(codes) * per_client - len(failures)
    return transfers / results[0], len(codes) * per_client * 2 / results[1], len(failures)


def bench_throughput(url: str, label: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        codes = _prepare(url, instance, args.clients)
        proc, base = _serve(url, instance, args.workers, args.threads)
        try:
            tps, floor, failures = _run_clients(base, codes, args.per_client)
        finally:
            proc.terminate()
            proc.wait()
        check = subprocess.run(
            [sys.executable, "-m", "lets_site.cli", "ledger", "check"], cwd=ROOT,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("LETS_")},
                 "LETS_INSTANCE": str(instance), "LETS_DATABASE_URL": url},
            capture_output=True, text=True, check=False)
    print(f"{label}: {tps:7.1f} transfers/s (GET form + POST + 303) with {args.clients} "
          f"clients, {args.clients * args.per_client} transfers, {failures} failed; "
          f"floor {floor:7.1f} static GETs/s; ratio {floor / tps:.1f}x; "
          f"ledger check: {check.stdout.strip() or check.stderr.strip()}")


def bench_statement(url: str, label: str, entries: int = 10_000, runs: int = 40) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LETS_INSTANCE"] = tmp
        codes = _prepare(url, Path(tmp), 2)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "SECURE_COOKIES": False,
                          "TESTING": True, "WTF_CSRF_ENABLED": False})
        from lets_site.ledger.models import Account, Transfer
        from lets_site.members.models import Member

        with app.app_context():
            members = [db.session.query(Member).filter_by(account_code=c).one() for c in codes]
            accounts = [Account(code=m.account_code, kind="member", member_id=m.id, balance=0)
                        for m in members]
            db.session.add_all(accounts)
            db.session.flush()
            a, b = accounts
            start = datetime.now(UTC) - timedelta(days=entries // 20)
            rows, bal = [], 0
            for i in range(entries):
                amount = 1 + i % 7
                payer, payee = (a, b) if i % 3 else (b, a)
                bal += amount if payee is a else -amount
                rows.append({"uid": f"{i:016x}", "payer_id": payer.id, "payee_id": payee.id,
                             "amount": amount, "description": f"Klus nummer {i}",
                             "kind": "payment", "created_at": start + timedelta(minutes=72 * i),
                             "payer_balance_after": -bal if payer is b else bal,
                             "payee_balance_after": bal if payee is a else -bal,
                             "payer_min": None, "payee_max": None, "over_limit": False,
                             "reason": ""})
            db.session.execute(Transfer.__table__.insert(), rows)
            a.balance, b.balance = bal, -bal
            db.session.commit()
            db.engine.dispose()
        client = app.test_client()
        with client.session_transaction() as session:
            with app.app_context():
                session["_user_id"] = db.session.query(Member).filter_by(
                    account_code=codes[0]).one().session_token
            session["_fresh"] = True

        def timed(path: str) -> tuple[float, bytes]:
            times, body = [], b""
            for _ in range(runs):
                began = time.perf_counter()
                response = client.get(path)
                body = response.get_data()
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            return statistics.median(times), body

        page_ms, body = timed(f"/ledger/accounts/{codes[0]}")
        assert b"Klus nummer 9999" in body
        floor_ms, _ = timed("/language")
        with app.app_context():
            problems = __import__("lets_site.ledger.services", fromlist=["check"]).check()
            db.session.remove()
            db.engine.dispose()
    print(f"{label}: statement with {entries} entries, first page median {page_ms:.1f} ms "
          f"(floor /language {floor_ms:.1f} ms, ratio {page_ms / floor_ms:.1f}x); "
          f"{len(body)} bytes, {len(gzip.compress(body))} gzipped; "
          f"check: {'OK' if not problems else problems[:2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="PostgreSQL URL (its tables are dropped)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{tmp}/bench.sqlite3"
        bench_throughput(sqlite_url, "SQLite (WAL)", args)
        bench_statement(f"sqlite:///{tmp}/statement.sqlite3", "SQLite")
    if args.pg:
        bench_throughput(args.pg, "PostgreSQL", args)
        bench_statement(args.pg, "PostgreSQL")


if __name__ == "__main__":
    main()
