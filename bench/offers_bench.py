"""Offers and wants benchmark (not a test): listing page throughput against the floor,
search latency against a LIKE scan, and page weights.

    .venv/bin/python bench/offers_bench.py                  # 10,000 and 100,000 listings
    .venv/bin/python bench/offers_bench.py --sizes 2000 --duration 3

For each size it builds a fresh SQLite instance in a temporary folder (the demo, then
generated listings inserted in bulk, so the full-text triggers fire as in real use), starts
gunicorn on 127.0.0.1 with the app plus one extra route registered only here
(``/__bench/floor``, a constant response through the same app and middleware), and loads
both URLs with 16 concurrent connections (``wrk`` if installed, else Python threads) for a
fixed time. Search is timed in-process through the same service call the page makes, once
with the full-text index and once with a LIKE scan over the same column, same data, same
run. Figures are ratios to the floor; absolute numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONNECTIONS = 16
FLOOR_PATH = "/__bench/floor"
LAYOUT_PATH = "/join/thanks"
# None: a SQLite file in a temporary instance folder. --database-url: an (emptied!) database.
DATABASE_URL: str | None = None
# Words from the listing texts: each in about 3% of the listings.
COMMON_SEARCHES = ["soep", "fietsherstelling", "cafe", "gitaarles beginners", "ladder uitlenen",
                   "vervoer auto"]
RARE_SEARCH_COUNT = 6  # generated words, each in about 0.15% of the listings


def searches(size: int) -> list[str]:
    vocabulary = _words(random.Random(size), 2000)
    rare = vocabulary[::300][:RARE_SEARCH_COUNT]
    return COMMON_SEARCHES + rare


def make_app() -> Any:
    """The gunicorn app factory: the real app plus the floor route."""
    from lets_site import create_app

    app = create_app({"SECURE_COOKIES": False})

    @app.get(FLOOR_PATH)
    def floor() -> tuple[str, int, dict[str, str]]:
        return "ok", 200, {"Content-Type": "text/plain"}

    return app


# --- Data ---------------------------------------------------------------------------------


def _words(rng: random.Random, n: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ro", "su", "ta", "vi", "de", "ba", "po", "ze", "gu",
                 "fe", "ri", "wa"]
    return ["".join(rng.choice(syllables) for _ in range(3)) for _ in range(n)]


def build(instance: Path, size: int) -> None:
    os.environ["LETS_INSTANCE"] = str(instance)
    from sqlalchemy import insert

    from lets_site import create_app
    from lets_site.database import utcnow, write_transaction
    from lets_site.demo import build_demo
    from lets_site.extensions import db
    from lets_site.members.models import Member, Status
    from lets_site.offers.demo import MEMBER_LISTINGS
    from lets_site.offers.models import Category, Listing
    from lets_site.offers.services import search_text_for

    app = create_app({"SECURE_COOKIES": False, "DATABASE_URL": DATABASE_URL})
    rng = random.Random(size)
    vocabulary = _words(rng, 2000)
    with app.app_context():
        if DATABASE_URL:  # start from an empty database
            db.drop_all()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        build_demo()
        with write_transaction():
            members = [m.id for m in db.session.query(Member).filter(
                Member.status == Status.ACTIVE)]
            categories = {c.slug: c for c in db.session.query(Category)}
            now = utcnow()
            existing = db.session.query(Listing).count()
            batch: list[dict[str, Any]] = []
            from datetime import timedelta

            for n in range(size - existing):
                kind, title, description, slug, price, basis = MEMBER_LISTINGS[
                    n % len(MEMBER_LISTINGS)]
                extra = " ".join(rng.sample(vocabulary, 3))
                title = f"{title} {extra.split()[0]}"
                description = f"{description} {extra}"
                created = now - timedelta(minutes=rng.randint(0, 500_000))
                member = rng.choice(members)
                roll = rng.random()
                batch.append({
                    "kind": kind, "title": title, "description": description,
                    "category_id": categories[slug].id, "price_amount": price,
                    "price_basis": basis, "visibility": "public" if roll < 0.4 else "members",
                    "state": "draft" if roll > 0.97 else "published",
                    "valid_until": created + timedelta(days=365 if roll < 0.9 else 30),
                    "owner_member_id": member, "contact_member_id": member,
                    "search_text": search_text_for(title, description, categories[slug]),
                    "created_at": created, "updated_at": created, "revision": 1,
                })
                if len(batch) == 5000:
                    db.session.execute(insert(Listing), batch)
                    batch = []
            if batch:
                db.session.execute(insert(Listing), batch)
            db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()


# --- Search timing (in-process) -------------------------------------------------------------


def time_search(instance: Path, size: int, repeats: int) -> dict[str, Any]:
    os.environ["LETS_INSTANCE"] = str(instance)
    from lets_site import create_app
    from lets_site.extensions import db
    from lets_site.offers import search, services
    from lets_site.offers.services import Filters

    app = create_app({"SECURE_COOKIES": False, "DATABASE_URL": DATABASE_URL})

    words = searches(size)

    def run(sort: str) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {"common": [], "rare": []}
        for _ in range(repeats):
            for q in words:
                db.session.expunge_all()
                start = time.perf_counter()
                services.browse(None, Filters(q=q, sort=sort))
                kind = "common" if q in COMMON_SEARCHES else "rare"
                times[kind].append((time.perf_counter() - start) * 1000)
        return times

    with app.test_request_context("/offers/"):
        fts = run("")  # ranked, as the page does by default
        original = search.apply

        def like(stmt: Any, query: str, dialect: str, ranked: bool = True) -> Any:
            return search.like_scan(stmt, query)

        search.apply = like  # type: ignore[assignment]
        try:
            # LIKE cannot rank: newest matches first, stopping at a page.
            like_times = run("newest")
        finally:
            search.apply = original  # type: ignore[assignment]
        matches = {q: len(services.browse(None, Filters(q=q)).items) for q in words}
        db.engine.dispose()
    result: dict[str, Any] = {"matches": matches}
    for name, times in (("fts", fts), ("like", like_times)):
        every = times["common"] + times["rare"]
        result[f"{name}_median"] = statistics.median(every)
        result[f"{name}_p90"] = _p90(every)
        result[f"{name}_common"] = statistics.median(times["common"])
        result[f"{name}_rare"] = statistics.median(times["rare"])
    return result


def _p90(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.9)]


# --- Server and load --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(instance: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, LETS_INSTANCE=str(instance), PYTHONPATH=str(ROOT))
    env.pop("LETS_DATABASE_URL", None)
    if DATABASE_URL:
        env["LETS_DATABASE_URL"] = DATABASE_URL
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-k", "gthread", "--threads", "8", "-b",
         f"127.0.0.1:{port}", "--log-level", "warning", "bench.offers_bench:make_app()"],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def load(port: int, path: str, seconds: float) -> float:
    """Requests per second with CONNECTIONS concurrent keep-alive connections."""
    if shutil.which("wrk"):
        out = subprocess.run(
            ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{int(seconds)}s",
             f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, check=True,
        ).stdout
        match = re.search(r"Requests/sec:\s+([\d.]+)", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if non2xx:
            raise SystemExit(f"{path}: {non2xx.group(1)} error responses")
        return float(match.group(1)) if match else 0.0
    return _thread_load(port, path, seconds)


def _thread_load(port: int, path: str, seconds: float) -> float:
    deadline = time.monotonic() + seconds
    counts = [0] * CONNECTIONS

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path}: status {response.status}")
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def fetch(port: int, path: str, encoding: str, headers: dict[str, str] | None = None) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Accept-Encoding": encoding, **(headers or {})})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"{path}: status {response.status}")
    return body


def http_search_median(port: int, size: int, repeats: int) -> float:
    times = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(repeats):
        for q in searches(size):
            start = time.perf_counter()
            conn.request("GET", f"/offers/?q={q.replace(' ', '+')}",
                         headers={"HX-Request": "true", "HX-Target": "listings"})
            conn.getresponse().read()
            times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return statistics.median(times)


def weights(port: int) -> dict[str, int]:
    page = fetch(port, "/offers/", "gzip")
    html = page.decode() if not page.startswith(b"\x1f\x8b") else gzip.decompress(page).decode()
    css = re.search(r'href="(/static/css/site\.css[^"]*)"', html)
    js = re.search(r'src="(/static/vendor/htmx[^"]*)"', html)
    result = {}
    for enc in ("gzip", "br"):
        result[f"page_{enc}"] = len(fetch(port, "/offers/", enc))
        result[f"css_{enc}"] = len(fetch(port, css.group(1), enc)) if css else 0
        result[f"js_{enc}"] = len(fetch(port, js.group(1), enc)) if js else 0
        result[f"more_{enc}"] = len(fetch(port, "/offers/?page=2", enc,
                                          {"HX-Request": "true", "HX-Target": "more"}))
        result[f"search_{enc}"] = len(fetch(port, "/offers/?q=soep", enc,
                                            {"HX-Request": "true", "HX-Target": "listings"}))
    return result


# --- Main ---------------------------------------------------------------------------------------


def run_size(size: int, duration: float, repeats: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"offers-bench-{size}-"))
    try:
        started = time.monotonic()
        build(folder, size)
        built = time.monotonic() - started
        search_times = time_search(folder, size, repeats)
        port = free_port()
        server = start_server(folder, port)
        try:
            fetch(port, "/offers/", "identity")  # warm up both workers' caches
            fetch(port, FLOOR_PATH, "identity")
            floor = load(port, FLOOR_PATH, duration)
            page = load(port, "/offers/", duration)
            # Context: a page with no data at all in the same layout (base.html).
            layout = load(port, LAYOUT_PATH, duration)
            floor_again = load(port, FLOOR_PATH, duration)
            search_page = load(port, "/offers/?q=soep", duration)
            http_median = http_search_median(port, size, max(2, repeats // 2))
            sizes = weights(port)
        finally:
            server.terminate()
            server.wait(timeout=20)
        floor_mean = (floor + floor_again) / 2
        return {"size": size, "built_s": built, "floor": floor_mean, "floor_runs": (floor,
                floor_again), "page": page, "search_page": search_page, "layout": layout,
                "http_search_median": http_median, **search_times, **sizes}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print("| Listings | Floor req/s | /offers/ req/s | ratio (goal >= 50%) "
          f"| static page {LAYOUT_PATH} req/s (ratio) "
          "| /offers/?q=soep req/s | Search median (FTS) | Search median (LIKE) "
          "| LIKE / FTS (goal >= 10) | Search over HTTP, median |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['size']:,} | {r['floor']:.0f} | {r['page']:.0f} | "
              f"{100 * r['page'] / r['floor']:.0f}% | {r['layout']:.0f} "
              f"({100 * r['layout'] / r['floor']:.0f}%) | {r['search_page']:.0f} | "
              f"{r['fts_median']:.1f} ms | {r['like_median']:.1f} ms | "
              f"{r['like_median'] / r['fts_median']:.0f}x | {r['http_search_median']:.1f} ms |")
    print()
    print("| Listings | /offers/ HTML (gzip / br) | CSS (gzip / br) | first view HTML+CSS "
          "(goal <= 14 KB) | + htmx JS | htmx 'more' page of 20 (goal <= 4 KB) "
          "| htmx search result |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        first_gz = r["page_gzip"] + r["css_gzip"]
        first_br = r["page_br"] + r["css_br"]
        print(f"| {r['size']:,} | {r['page_gzip']:,} / {r['page_br']:,} B | "
              f"{r['css_gzip']:,} / {r['css_br']:,} B | {first_gz:,} / {first_br:,} B | "
              f"{r['js_gzip']:,} / {r['js_br']:,} B | {r['more_gzip']:,} / {r['more_br']:,} B | "
              f"{r['search_gzip']:,} / {r['search_br']:,} B |")
    print()
    for r in results:
        print(f"{r['size']:,} listings: built in {r['built_s']:.0f} s; floor runs "
              f"{r['floor_runs'][0]:.0f} and {r['floor_runs'][1]:.0f} req/s.")
        print(f"  search medians, common words: FTS {r['fts_common']:.1f} ms, LIKE "
              f"{r['like_common']:.1f} ms; rare words: FTS {r['fts_rare']:.1f} ms, LIKE "
              f"{r['like_rare']:.1f} ms; p90 FTS {r['fts_p90']:.1f} ms, LIKE "
              f"{r['like_p90']:.1f} ms")
        print(f"  results on the first page per search: {r['matches']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--duration", type=float, default=5.0,
                        help="seconds per load measurement")
    parser.add_argument("--database-url", default=None,
                        help="run against this PostgreSQL database instead of SQLite; "
                        "EVERYTHING IN IT IS DROPPED")
    parser.add_argument("--repeats", type=int, default=5,
                        help="rounds over the search words")
    args = parser.parse_args()
    global DATABASE_URL
    DATABASE_URL = args.database_url
    results = []
    for size in args.sizes:
        print(f"building and measuring {size:,} listings ...", flush=True)
        results.append(run_size(size, args.duration, args.repeats))
    print_table(results)


if __name__ == "__main__":
    main()
