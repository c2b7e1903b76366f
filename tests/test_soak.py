"""A soak with faults: 16 connections of mixed reads and writes against gunicorn on
127.0.0.1 while a worker is killed with SIGKILL now and then; and a full disk.

Afterwards, for the soak: no 5xx (not even during a kill), no connection error outside a
kill, no write lost or doubled, the SQLite file passes ``PRAGMA integrity_check`` and
``lets-site ledger check`` passes.

How "during a kill" is told: each request's start and end are recorded, and each kill's
moment. A request that was in flight when a worker died (started before the kill, or at
most half a second after the signal, and not answered before it) may end in a connection
error: the worker's socket closes under it. Any other connection error fails the test.
gunicorn answers nothing itself for a dead worker (no proxy in between), so a 5xx could
only come from the app, and any 5xx fails the test.

How writes are counted: every payment carries the pay form's idempotency key and a
unique description, every listing a unique title. A payment whose answer was lost is sent
again with the same key until it is answered (a person pressing the button again): it must
be booked exactly once. A listing whose answer was lost is not sent again: it is there at
most once. Every answered write is there exactly once.

The duration is ``LETS_SOAK_SECONDS`` (20 s by default, what CI runs), the number of
kills ``LETS_SOAK_KILLS`` (3).
"""

from __future__ import annotations

import http.client
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lets_site.extensions import db
from lets_site.ledger.models import Account, LedgerSettings, Transfer
from lets_site.offers.models import Listing
from tests import factories
from tests.ledger.test_concurrency import CSRF_RE, KEY_RE, ROOT, Browser, _free_port, _server_env

pytestmark = [pytest.mark.soak, pytest.mark.slow]

CONNECTIONS = 16
SECONDS = float(os.environ.get("LETS_SOAK_SECONDS", "20"))
KILLS = int(os.environ.get("LETS_SOAK_KILLS", "3"))
READS = ("/", "/offers/", "/ledger/", "/members/", "/organisations/", "/offers/mine")
CONNECTION_ERRORS = (ConnectionError, http.client.HTTPException, TimeoutError, OSError)


@dataclass
class Server:
    base: str
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@pytest.fixture
def gunicorn(app: Flask, tmp_path: Path) -> Iterator[Server]:
    instance = tmp_path / "server-instance"
    instance.mkdir()
    env = _server_env(app, instance)
    port = _free_port()
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    # 2 workers x 8 threads: 16 requests at once, on a small machine's two cores.
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "8",
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "2", "--timeout", "60",
         "--log-level", "warning", "lets_site:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = Server(f"http://127.0.0.1:{port}", env, log_path, proc)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                Browser(server.base).get("/login")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start:\n{log_path.read_text(errors='replace')}")
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class Record:
    lock: threading.Lock = field(default_factory=threading.Lock)
    kills: list[float] = field(default_factory=list)
    # (start, end, what, error) of each request that failed to get an answer
    lost: list[tuple[float, float, str, str]] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    other_errors: list[str] = field(default_factory=list)
    requests: int = 0
    payments: dict[str, int] = field(default_factory=dict)  # description -> amount, booked
    refused: int = 0
    listings: set[str] = field(default_factory=set)  # titles answered with a redirect
    unsure_listings: set[str] = field(default_factory=set)  # titles whose answer was lost


# The moment of a kill is taken just before the signal is sent: a request that starts
# this soon after it may still have reached the worker that is about to die.
KILL_GRACE = 0.5


def in_kill(record: Record, start: float, end: float) -> bool:
    """The request was in flight when a worker was killed."""
    return any(start <= kill + KILL_GRACE and end >= kill for kill in record.kills)


@pytest.mark.real_commits  # a real server in other processes commits and reads
def test_soak_with_killed_workers(app: Flask, gunicorn: Server) -> None:
    db.session.add(LedgerSettings(id=1, decimals=0, default_min=-100_000,
                                  default_max=100_000, balances_visible=False))
    members = [factories.make_member(display_name=f"Soak {n:02d}")
               for n in range(CONNECTIONS)]
    codes = [m.account_code for m in members]
    db.session.commit()
    record = Record()
    stop = time.monotonic() + SECONDS

    def timed(what: str, call: Any) -> Any:
        """The call's result, or None when the connection failed (recorded)."""
        start = time.monotonic()
        try:
            result = call()
        except urllib.error.HTTPError as error:
            result = error
        except CONNECTION_ERRORS as error:
            with record.lock:
                record.lost.append((start, time.monotonic(), what, repr(error)))
            return None
        # Browser.get raises HTTPError for a 4xx/5xx, Browser.post returns its status.
        status = result[0] if isinstance(result, tuple) else getattr(result, "code", 200)
        with record.lock:
            record.requests += 1
            if status >= 500:
                record.server_errors.append(f"{status} on {what} at {start:.2f}")
        return result

    def pay(browser: Browser, n: int, i: int, rng: random.Random) -> None:
        page = timed("GET /ledger/pay", lambda: browser.get("/ledger/pay"))
        if not isinstance(page, str):
            return
        csrf, key = CSRF_RE.search(page), KEY_RE.search(page)
        assert csrf and key
        description = f"soak c{n} w{i}"
        amount = rng.randint(1, 9)
        form = {"csrf_token": csrf.group(1), "key": key.group(1), "from_account": codes[n],
                "payee": rng.choice([c for c in codes if c != codes[n]]),
                "amount": str(amount), "description": description}
        for _attempt in range(20):  # the same form again while the answer is lost
            if time.monotonic() > hard_stop:
                break
            answer = timed("POST /ledger/pay", lambda: browser.post("/ledger/pay", form))
            if answer is None:
                time.sleep(0.2)
                continue
            status, location, text = answer
            with record.lock:
                if status == 303 and "/ledger/transfers/" in location:
                    record.payments[description] = amount
                elif status == 200 and "Refused:" in text:
                    record.refused += 1
                elif status < 500:
                    record.other_errors.append(f"pay: {status} {location} {text[:200]}")
            return
        with record.lock:
            record.other_errors.append(f"pay {description}: no answer after 20 attempts")

    def list_item(browser: Browser, n: int, i: int) -> None:
        page = timed("GET /offers/new", lambda: browser.get("/offers/new"))
        if not isinstance(page, str):
            return
        csrf = CSRF_RE.search(page)
        assert csrf
        title = f"Soak listing c{n} w{i}"
        form = {"csrf_token": csrf.group(1), "kind": "offer", "title": title,
                "description": "Made by the soak test.", "price": "2",
                "price_basis": "hour", "visibility": "members", "publish": "Publish"}
        answer = timed("POST /offers/new", lambda: browser.post("/offers/new", form))
        with record.lock:
            if answer is None:
                record.unsure_listings.add(title)
                return
            status, location, text = answer
            if status == 303 and "/offers/" in location:
                record.listings.add(title)
            elif status < 500:
                record.other_errors.append(f"listing: {status} {location} {text[:200]}")

    def client(n: int) -> None:
        rng = random.Random(n)
        browser = Browser(gunicorn.base)
        for _ in range(20):
            try:
                browser.login(codes[n])
                break
            except (AssertionError, *CONNECTION_ERRORS):
                time.sleep(0.2)
        i = 0
        while time.monotonic() < stop:
            i += 1
            roll = rng.random()
            try:
                if roll < 0.2:
                    pay(browser, n, i, rng)
                elif roll < 0.3:
                    list_item(browser, n, i)
                else:
                    path = rng.choice(READS)
                    timed(f"GET {path}", lambda path=path: browser.get(path))
            except Exception as error:  # a failed thread must fail the test
                with record.lock:
                    record.other_errors.append(f"client {n}: {error!r}")
                return

    # However the server behaves, the run ends: clients stop retrying at hard_stop, and
    # the threads are waited for until one shared deadline, not one each.
    hard_stop = stop + 60
    threads = [threading.Thread(target=client, args=(n,), daemon=True)
               for n in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    killed: list[int] = []
    for k in range(KILLS):  # evenly spread over the run
        time.sleep(SECONDS / (KILLS + 1))
        workers = gunicorn.workers()
        assert workers, "gunicorn has no worker"
        victim = random.Random(k).choice(workers)
        with record.lock:
            record.kills.append(time.monotonic())
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
    for thread in threads:
        thread.join(timeout=max(0.0, hard_stop + 70 - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads)

    log = gunicorn.log.read_text(errors="replace")[-3000:]
    # The kills happened, and gunicorn replaced the killed workers.
    assert len(killed) == KILLS
    assert not set(killed) & set(gunicorn.workers())
    assert len(gunicorn.workers()) == 2
    assert not record.server_errors, (record.server_errors[:5], log)
    assert not record.other_errors, (record.other_errors[:5], log)
    outside = [item for item in record.lost if not in_kill(record, item[0], item[1])]
    assert not outside, (outside[:5], record.kills)
    assert record.requests > 100 and record.payments and record.listings

    # Nothing lost, nothing doubled.
    db.session.expire_all()
    booked = dict(db.session.execute(
        select(Transfer.description, func.count()).where(Transfer.description.like("soak %"))
        .group_by(Transfer.description)).all())
    assert set(booked) == set(record.payments), (set(booked) ^ set(record.payments))
    assert set(booked.values()) == {1}
    amounts = dict(db.session.execute(
        select(Transfer.description, Transfer.amount)
        .where(Transfer.description.like("soak %"))).all())
    assert amounts == record.payments
    titles = dict(db.session.execute(
        select(Listing.title, func.count()).where(Listing.title.like("Soak listing %"))
        .group_by(Listing.title)).all())
    assert record.listings <= set(titles)
    assert set(titles) <= record.listings | record.unsure_listings
    assert set(titles.values()) == {1}
    assert db.session.scalar(select(func.sum(Account.balance))) == 0

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    check = subprocess.run([sys.executable, "-m", "lets_site.cli", "ledger", "check"],
                           cwd=ROOT, env=gunicorn.env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    print(f"soak: {record.requests} answered requests, {len(record.payments)} payments, "
          f"{record.refused} refused, {len(record.listings)} listings, {KILLS} kills, "
          f"{len(record.lost)} requests cut by a kill, {SECONDS:.0f} s")


# --- A full disk ---------------------------------------------------------------------------

DISK_KB = 2048


def write_until_the_disk_is_full(folder: str) -> dict[str, Any]:
    """Run inside the private mount namespace, with ``folder`` a tiny tmpfs: the app's
    instance folder and SQLite file live there. Publishes listings with long descriptions
    through the app until a write fails; returns what the member saw and the database's
    state, as JSON on stdout."""
    from lets_site import create_app
    from tests.conftest import Client, app_config

    root = Path(folder)
    os.environ["LETS_INSTANCE"] = str(root / "instance")
    config = app_config(root)
    config.update(PROPAGATE_EXCEPTIONS=False)  # a real server's error page, not a raise
    app = create_app(config)
    with app.app_context():
        db.create_all()
        code = factories.make_member(display_name="Vera Vol").account_code
        db.session.commit()
        db.session.remove()
    app.test_client_class = Client
    client = app.test_client()
    assert client.post_form("/login", {"identifier": code,
                                       "password": factories.PASSWORD}).status_code == 303
    words = " ".join(f"woord{n}" for n in range(1200))[:7900]
    published, failure = 0, None
    for n in range(2000):
        response = client.post_form("/offers/new", {
            "kind": "offer", "title": f"Vol {n}", "description": f"{n} {words}",
            "price": "1", "price_basis": "hour", "visibility": "members",
            "publish": "Publish"})
        if response.status_code != 303:
            failure = response
            break
        published += 1
    after = client.get("/offers/mine")
    with sqlite3.connect(root / "test.sqlite3") as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchall()
        stored = connection.execute("SELECT count(*) FROM listing").fetchone()[0]
    return {
        "published": published,
        "status": failure.status_code if failure else None,
        "page": failure.get_data(as_text=True) if failure else "",
        "after_status": after.status_code,
        "integrity": [list(row) for row in integrity],
        "stored": stored,
    }


def test_full_disk_gives_a_clear_error_and_no_corruption(tmp_path: Path) -> None:
    """A tiny tmpfs, mounted in a private mount namespace (``unshare -rm``), stands in for
    a full disk under the SQLite database; PostgreSQL's own disk is not the app's to fill."""
    import json
    import shutil

    if os.environ.get("LETS_TEST_DATABASE_URL"):
        pytest.skip("the full disk is tried on SQLite, whose file can live on a tiny disk")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, check=False)
    assert shutil.which("unshare") and probe.returncode == 0, "needs unshare -rm (util-linux)"
    small = tmp_path / "small"
    small.mkdir()
    code = ("import json, sys; from tests.test_soak import write_until_the_disk_is_full; "
            "print(json.dumps(write_until_the_disk_is_full(sys.argv[1])))")
    script = (f'mount -t tmpfs -o size={DISK_KB}k tmpfs "$1" && shift && '
              f'exec "$@"')
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    result = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", str(small),
         sys.executable, "-W", "ignore", "-c", code, str(small)],
        capture_output=True, text=True, cwd=ROOT, env=environment, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["published"] > 5, seen["published"]  # the disk filled up along the way
    assert seen["status"] == 507, (seen["status"], seen["page"][:500])
    page = seen["page"]
    assert "disk" in page and "full" in page, page[:2000]
    assert "Traceback" not in page and "OperationalError" not in page
    assert seen["after_status"] == 200  # reading still works
    assert seen["integrity"] == [["ok"]]
    assert seen["stored"] == seen["published"]  # every "published" is there, nothing more
