"""Many members paying at once through a real server (gunicorn, several processes and
threads), on the same database the test reads: SQLite file or LETS_TEST_DATABASE_URL.

Afterwards: no limit is broken, every booked transfer is in the ledger exactly once
(replayed forms included), the balances sum to exactly zero and ``lets-site ledger
check`` passes."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.ledger import services
from lets_site.ledger.models import Account, LedgerSettings, PaymentRequest, Transfer
from tests import factories

# A real server in other processes reads and writes the test's database.
pytestmark = pytest.mark.real_commits

CLIENTS = 8
ATTEMPTS_PER_CLIENT = 30  # 240 payments in all
REPLAY_EVERY = 7  # every 7th form is sent twice
LIMIT = 40
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
KEY_RE = re.compile(r'name="key"[^>]*value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(app: Flask, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    env.update({
        "LETS_INSTANCE": str(instance),
        "LETS_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"].replace(
            "postgresql+psycopg://", "postgresql://"),
        "LETS_SECRET_KEY": app.config["SECRET_KEY"],
        "LETS_SECURE_COOKIES": "false",
        "LETS_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
        "NO_PROXY": "*",
    })
    return env


@pytest.fixture
def server(app: Flask, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    instance = tmp_path / "server-instance"
    instance.mkdir()
    env = _server_env(app, instance)
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "3", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2", "--log-level", "warning",
         "lets_site:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with _opener(CookieJar()).open(base + "/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "server.log").read_text(errors="replace")
                    pytest.fail(f"server did not start:\n{output}")
                time.sleep(0.2)
        yield base, env, tmp_path / "server.log"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(jar: CookieJar) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
    )


class Browser:
    """One member's browser: a cookie jar, CSRF tokens read from the pages."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = _opener(self.jar)
        # The test reads English refusals, whatever the group's default language.
        self.opener.addheaders = [("Accept-Language", "en")]

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.read().decode()

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=60) as r:
                return r.status, "", r.read().decode()
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            return e.code, e.headers.get("Location", ""), text

    def login(self, code: str) -> None:
        token = CSRF_RE.search(self.get("/login"))
        assert token
        status, location, _ = self.post("/login", {
            "csrf_token": token.group(1), "identifier": code, "password": factories.PASSWORD})
        assert status == 303, (status, location)


@pytest.mark.slow
def test_concurrent_payments_keep_the_ledger_whole(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:
    base, env, server_log = server
    db.session.add(LedgerSettings(id=1, decimals=0, default_min=-LIMIT, default_max=LIMIT,
                                  balances_visible=False))
    members = [factories.make_member() for _ in range(CLIENTS)]
    org = factories.make_organisation(intermediaries=[members[0]])
    codes = [m.account_code for m in members] + [org.account_code]
    db.session.commit()

    booked: dict[str, tuple[str, str, int]] = {}  # uid -> (payer, payee, amount)
    refused: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        try:
            run_client(n)
        except Exception as exc:  # a failed thread must fail the test
            with lock:
                errors.append(f"client {n}: {exc!r}")

    def run_client(n: int) -> None:
        rng = random.Random(n)
        browser = Browser(base)
        browser.login(codes[n])
        start.wait()
        for attempt in range(ATTEMPTS_PER_CLIENT):
            page = browser.get("/ledger/pay")
            csrf, key = CSRF_RE.search(page), KEY_RE.search(page)
            assert csrf and key
            payer = codes[n] if not (n == 0 and attempt % 2) else codes[-1]
            payee = rng.choice([c for c in codes if c not in (codes[n], payer)])
            # Mostly small amounts; every fifth one large enough to hit a limit soon.
            amount = rng.randint(25, 45) if attempt % 5 == 0 else rng.randint(1, 12)
            form = {"csrf_token": csrf.group(1), "key": key.group(1), "from_account": payer,
                    "payee": payee, "amount": str(amount), "description": f"c{n} a{attempt}"}
            sends = 2 if attempt % REPLAY_EVERY == 0 else 1
            locations = set()
            for _ in range(sends):
                status, location, text = browser.post("/ledger/pay", form)
                if status == 303 and "/ledger/transfers/" in location:
                    locations.add(location)
                elif status == 200 and "Refused:" in text:
                    with lock:
                        refused.append(f"{payer}->{payee} {amount}")
                    break
                else:
                    with lock:
                        errors.append(f"{status} {location} {text[:200]}")
            if len(locations) > 1:
                with lock:
                    errors.append(f"replay booked twice: {locations}")
            for location in locations:
                uid = location.rsplit("/", 1)[-1]
                with lock:
                    booked[uid] = (payer, payee, amount)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    began = time.monotonic()
    for t in threads:
        t.start()
    # The check reads one snapshot: it passes while payments are being booked.
    while len(booked) < 40 and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    during = subprocess.run(
        [sys.executable, "-m", "lets_site.cli", "ledger", "check"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - began
    assert not any(t.is_alive() for t in threads)
    assert not errors, (errors[:3], server_log.read_text(errors="replace")[-3000:])
    assert during.returncode == 0, during.stdout + during.stderr
    assert len(booked) + len(refused) == CLIENTS * ATTEMPTS_PER_CLIENT
    assert refused, "no payment was aimed past a limit"
    assert len(booked) >= 100

    db.session.expire_all()
    rows = db.session.execute(
        select(Transfer.uid, Transfer.payer_id, Transfer.payee_id, Transfer.amount)
    ).all()
    by_id = {a.id: a.code for a in db.session.scalars(select(Account))}
    in_db = {uid: (by_id[p], by_id[q], amount) for uid, p, q, amount in rows}
    # Nothing lost, nothing doubled, nothing extra.
    assert in_db == booked
    balances = dict(db.session.execute(select(Account.code, Account.balance)).all())
    assert sum(balances.values()) == 0
    assert db.session.scalar(select(func.sum(Account.balance))) == 0
    assert all(-LIMIT <= b <= LIMIT for b in balances.values()), balances
    for code, balance in balances.items():
        paid = sum(a for p, _q, a in booked.values() if p == code)
        got = sum(a for _p, q, a in booked.values() if q == code)
        assert balance == got - paid, code
    with app.test_request_context():
        assert services.check() == []

    result = subprocess.run(
        [sys.executable, "-m", "lets_site.cli", "ledger", "check"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ledger OK" in result.stdout
    print(f"{len(booked)} booked, {len(refused)} refused in {elapsed:.1f}s")


MASS_COPIES = 6
FINGERPRINT_RE = re.compile(r'name="fingerprint"[^>]*value="([^"]+)"')


@pytest.mark.slow
def test_mass_transfer_posted_several_times_at_once_books_once(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:
    """Copies of one "book all" form sent at the same moment (a double click, a retrying
    proxy, several tabs): one batch is booked, the copies answer like a replay."""
    base, env, server_log = server
    admin = factories.make_admin()
    members = [factories.make_member() for _ in range(12)]
    db.session.commit()
    holders = len(members) + 1  # the admin is an active member too

    first = Browser(base)
    first.login(admin.account_code or "")
    page = first.get("/admin/ledger/mass")
    csrf, key = CSRF_RE.search(page), KEY_RE.search(page)
    assert csrf and key
    form = {"csrf_token": csrf.group(1), "key": key.group(1), "kind": "contribution",
            "amount": "2", "description": "Bijdrage", "step": "preview"}
    status, _location, preview = first.post("/admin/ledger/mass", form)
    fingerprint = FINGERPRINT_RE.search(preview)
    assert status == 200 and fingerprint, preview[:500]
    form.update(step="book", fingerprint=fingerprint.group(1))

    # Each copy on its own connection, with the same session cookie (one admin's tabs).
    answers, errors = send_at_once(tabs(first, MASS_COPIES), "/admin/ledger/mass",
                                   [form] * MASS_COPIES)
    assert not errors, errors[:3]
    assert [(status, location) for status, location, _text in answers] == [
        (303, "/admin/ledger")] * MASS_COPIES, (
            [text[:300] for _s, _l, text in answers],
            server_log.read_text(errors="replace")[-3000:])

    db.session.rollback()  # a fresh snapshot: what the server committed
    payers = db.session.scalars(select(Transfer.payer_id)).all()
    assert len(payers) == holders  # not MASS_COPIES * holders
    assert len(set(payers)) == holders
    group = services.group_account()
    assert group is not None and group.balance == 2 * holders
    with app.test_request_context():
        assert services.check() == []
    result = subprocess.run(
        [sys.executable, "-m", "lets_site.cli", "ledger", "check"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def send_at_once(browsers: list[Browser], path: str,
                 forms: list[dict[str, str]]) -> tuple[list[tuple[int, str, str]], list[str]]:
    """POST ``forms[i]`` from ``browsers[i]``, all released at the same moment. Gives the
    (status, location, body) answers and the exceptions the threads met."""
    answers: list[tuple[int, str, str]] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(browsers))

    def send(browser: Browser, form: dict[str, str]) -> None:
        try:
            start.wait()
            answer = browser.post(path, form)
            with lock:
                answers.append(answer)
        except Exception as exc:  # a failed thread must fail the test
            with lock:
                errors.append(repr(exc))

    threads = [threading.Thread(target=send, args=pair) for pair in zip(browsers, forms,
                                                                         strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return answers, errors


def tabs(first: Browser, count: int) -> list[Browser]:
    """``count`` browsers on connections of their own, sharing ``first``'s session."""
    result = []
    for _ in range(count):
        browser = Browser(first.base)
        for cookie in first.jar:
            browser.jar.set_cookie(cookie)
        result.append(browser)
    return result


@pytest.mark.slow
def test_payment_request_sent_several_times_at_once_is_stored_once(
        app: Flask, server: tuple[str, dict[str, str], Path]) -> None:
    """A double-submitted request form: one request; every copy answers like a replay."""
    base, _env, server_log = server
    member, other = factories.make_member(), factories.make_member()
    payee, payer = member.account_code or "", other.account_code or ""
    db.session.commit()
    first = Browser(base)
    first.login(payee)
    page = first.get("/ledger/requests/new")
    csrf, key = CSRF_RE.search(page), KEY_RE.search(page)
    assert csrf and key
    form = {"csrf_token": csrf.group(1), "key": key.group(1), "to_account": payee,
            "payer": payer, "amount": "7", "description": "Bijles"}
    answers, errors = send_at_once(tabs(first, MASS_COPIES), "/ledger/requests/new",
                                   [form] * MASS_COPIES)
    assert not errors, errors[:3]
    assert [(status, location) for status, location, _text in answers] == [
        (303, "/ledger/requests")] * MASS_COPIES, (
            [text[:300] for _s, _l, text in answers],
            server_log.read_text(errors="replace")[-3000:])
    db.session.rollback()  # a fresh snapshot: what the server committed
    stored = db.session.execute(select(PaymentRequest.amount, PaymentRequest.description)).all()
    assert [tuple(row) for row in stored] == [(7, "Bijles")]
