"""In-process medians and profiles of the logged-in pages (issue 14).

    .venv/bin/python -m bench.inprocess                        # builds /tmp/... once
    .venv/bin/python -m bench.inprocess --instance DIR --rounds 200
    .venv/bin/python -m bench.inprocess --profile /offers/ --sort tottime

The same data as the runner (the demo plus ``--listings`` listings, built once into
``--instance`` and reused), the Flask test client, each request in its own app context
as under gunicorn. For each page and role it prints the median and p90 of ``--rounds``
requests after a warm-up, and the queries of one request. ``--profile PATH`` runs that
page (as the member) under cProfile instead and prints the top functions sorted by
cumulative time and by own time. Run it before and after a change, on the same instance.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.__main__ import CSRF_RE, DEMO_PASSWORD, _app, pick_paths, seed  # noqa: E402

PAGES = ["/language", "/offers/", "/ledger/", "{statement}", "/members/", "/", "{listing}"]


def client_for(instance: Path, email: str | None) -> Any:
    app = _app(instance, False)
    client = app.test_client()
    if email:
        token = CSRF_RE.search(client.get("/login").get_data(as_text=True))
        assert token, "no CSRF token on /login"
        response = client.post("/login", data={"csrf_token": token.group(1),
                                               "identifier": email,
                                               "password": DEMO_PASSWORD})
        assert response.status_code == 303, f"login failed: {response.status_code}"
    return app, client


def queries(app: Any, client: Any, path: str) -> int:
    from sqlalchemy import event

    from lets_site.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("")

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def timed(client: Any, path: str, rounds: int) -> tuple[float, float]:
    for _ in range(20):
        client.get(path)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.9)] * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", type=Path,
                        default=Path(tempfile.gettempdir()) / "lets-bench-inprocess")
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--profile", help="one page to run under cProfile (as the member)")
    parser.add_argument("--sort", default="cumulative,tottime")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--visitor", action="store_true", help="profile as a visitor")
    args = parser.parse_args(argv)
    if not (args.instance / "lets.sqlite3").exists():
        args.instance.mkdir(parents=True, exist_ok=True)
        seed(args.instance, args.listings)
    places = pick_paths(args.instance)
    if args.profile:
        app, client = client_for(args.instance, None if args.visitor else places["email"])
        path = args.profile.format(**places)
        for _ in range(30):
            client.get(path)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.rounds):
            client.get(path)
        profiler.disable()
        for key in args.sort.split(","):
            print(f"--- {path}, {args.rounds} requests, sorted by {key}")
            pstats.Stats(profiler).sort_stats(key).print_stats(args.top)
        return
    print("| page | visitor median / p90 ms | queries | member median / p90 ms | queries |")
    print("|---|---:|---:|---:|---:|")
    visitor = client_for(args.instance, None)
    member = client_for(args.instance, places["email"])
    for page in args.pages.split(","):
        path = page.format(**places)
        cells = [path]
        for who, (app, client) in (("visitor", visitor), ("member", member)):
            if who == "visitor" and path.startswith(("/ledger", "/members")):
                cells += ["", ""]
                continue
            median, p90 = timed(client, path, args.rounds)
            cells += [f"{median:.2f} / {p90:.2f}", str(queries(app, client, path))]
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
