"""The common agenda's and the merged feed's queries on many merged events: their plans
and in-process timings (not a test). ``python -m bench federation plans``.

    .venv/bin/python -m bench federation plans                       # SQLite
    .venv/bin/python -m bench federation plans --database-url postgresql://.../db?options=-csearch_path%3Dplans

A fresh instance (SQLite in a temporary folder, or the given database, which must be
empty: a PostgreSQL schema of its own is the easy way) gets every migration, then
``--events`` upcoming events and ``--past`` ended ones over ``--groups`` groups (40 by
default; 10,000 for the hub pages at many groups), plus ``--listings`` offers (so the
merged feed has to cut). Each page is requested once to record its SQL,
whose plan is printed (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE, BUFFERS)``
on PostgreSQL); then each page's in-process time, median of 10 (the test client, page
cache off), with the body's size and its gzip size (level 6, as a server would send it).

    .venv/bin/python -m bench federation plans --groups 10000 --events 200000 --past 0 \
        --no-plans --pages /agenda/,/agenda/?page=40,/groups/,/search/?q=fiets
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throw-away instance
GROUPS = 40
PAGES = ("/agenda/", "/agenda/?page=500", "/agenda/?kind=film", "/agenda.ics",
         "/federation/feed.json")


def _app(instance: Path, database_url: str | None) -> Any:
    os.environ["LETS_INSTANCE"] = str(instance)
    from lets_site import create_app

    return create_app({"SECRET_KEY": SECRET, "SECURE_COOKIES": False,
                       "DATABASE_URL": database_url, "MAIL_SEND_MODE": "cron",
                       "PAGE_CACHE_SECONDS": 0})


REGIONS = ("West-Vlaanderen", "Oost-Vlaanderen", "Antwerpen", "Limburg", "Vlaams-Brabant",
           "Brussel", "Hainaut", "Namur", "Liège", "Luxembourg", "Brabant wallon")


def fill(events: int, past: int, listings: int, groups: int = GROUPS) -> None:
    """``groups`` followed feeds (inserted in bulk, as a sweep leaves them) and their events
    (one in three of each kind, one in 17 cancelled), as merged by a sweep."""
    from sqlalchemy import insert, select

    from lets_site.database import utcnow
    from lets_site.extensions import db
    from lets_site.federation.models import Feed, FeedItem

    now = utcnow()
    width = max(2, len(str(groups - 1)))
    regions = REGIONS[:2] if groups <= GROUPS else REGIONS
    feed_rows = []
    for n in range(groups):
        slug = f"group-{n:0{width}d}"
        info = {"slug": slug, "name": f"LETS Groep {slug}", "url": f"https://{slug}.example/",
                "region": regions[n % len(regions)]}
        feed_rows.append({"slug": slug, "feed_url": f"https://g{n}.example/feed.json",
                          "status": "active", "health": "ok", "reason": "",
                          "group_name": info["name"], "group_info": json.dumps(info),
                          "errors": 0, "next_fetch_at": now, "last_fetch_at": now,
                          "last_success_at": now, "created_at": now})
    for start in range(0, len(feed_rows), 5000):
        db.session.execute(insert(Feed.__table__), feed_rows[start:start + 5000])
    feeds = list(db.session.scalars(select(Feed).order_by(Feed.id)))
    count = len(feeds)
    rows: list[dict[str, Any]] = []
    for n in range(events + past):
        feed = feeds[n % count]
        # The past ones ended before now; the upcoming ones spread over the coming years.
        start = now - timedelta(days=1 + (n - events) * 0.1) if n >= events else \
            now + timedelta(hours=1 + n * 0.4)
        local = start.astimezone().isoformat()
        rows.append({
            "feed_id": feed.id, "item_id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "type": "event", "revision": 1, "deleted": False,
            "url": f"https://g{feed.id}.example/events/{n}",
            "title": f"Ruilmarkt en repaircafé in het buurthuis, editie {n}",
            "content_text": "Met soep en koffie.", "merged_at": now,
            "date_modified": now - timedelta(minutes=n), "start_at": start,
            "end_at": start + timedelta(hours=2), "kind": ("market", "film", "workshop")[n % 3],
            "data": json.dumps({"status": "cancelled" if n % 17 == 0 else "scheduled",
                                "timezone": "Europe/Brussels", "all_day": False,
                                "start": local, "end": (start + timedelta(hours=2))
                                .astimezone().isoformat(), "kind": "market"}),
        })
    for n in range(listings):
        feed = feeds[n % count]
        rows.append({
            "feed_id": feed.id, "item_id": f"urn:uuid:00000000-0000-4000-9000-{n:012d}",
            "type": "offer", "revision": 1, "deleted": False,
            "url": f"https://g{feed.id}.example/offers/{n}",
            "title": f"Fietsherstelling en kleine klusjes {n}", "content_text": "Graag.",
            "merged_at": now, "date_modified": now - timedelta(minutes=n),
            "data": json.dumps({"category": "repairs", "mode": "in_person"}),
        })
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(FeedItem.__table__), rows[start:start + 5000])
    db.session.commit()


def _plan(connection: Any, dialect: str, statement: str, parameters: Any) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(prefix + statement, parameters)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if dialect == "sqlite":
        return [f"{'  ' * (parent != 0)}{detail}" for _id, parent, _n, detail in rows]
    return [row[0] for row in rows]


def run(args: argparse.Namespace) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import event

    from lets_site.extensions import db

    with tempfile.TemporaryDirectory(prefix="lets-federation-plans-") as folder:
        app = _app(Path(folder), args.database_url)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            begun = time.perf_counter()
            fill(args.events, args.past, args.listings, args.groups)
            print(f"filled {args.groups:,} groups, {args.events:,} upcoming and "
                  f"{args.past:,} past events, {args.listings:,} offers in "
                  f"{time.perf_counter() - begun:.1f} s",
                  file=sys.stderr)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE federation_item")
                    conn.exec_driver_sql("ANALYZE federation_feed")
                    conn.commit()
            dialect = db.engine.dialect.name
            db.session.remove()
        client = app.test_client()
        pages = tuple(args.pages.split(",")) if args.pages else PAGES
        for path in pages if not args.no_plans else ():
            seen: list[tuple[str, Any]] = []

            def record(_conn: Any, _cursor: Any, statement: str, parameters: Any,
                       *_rest: Any, seen: list[tuple[str, Any]] = seen) -> None:
                if "federation_item" in statement and statement.lstrip().startswith("SELECT"):
                    seen.append((statement, parameters))

            with app.app_context():
                event.listen(db.engine, "before_cursor_execute", record)
                try:
                    assert client.get(path).status_code == 200, path
                finally:
                    event.remove(db.engine, "before_cursor_execute", record)
                print(f"\n## {path}: {len(seen)} queries on federation_item")
                with db.engine.connect() as conn:
                    for statement, parameters in seen:
                        print("\n    " + " ".join(statement.split())[:400])
                        for line in _plan(conn, dialect, statement, parameters):
                            print("      " + line)
        print(f"\n## in-process, median of {args.repeat} "
              f"(load {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
        for path in (*pages, "/language"):
            client.get(path)
            times = []
            size = packed = 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                size = len(response.get_data())
            packed = len(gzip.compress(response.get_data(), 6))
            etag = response.headers.get("ETag")
            line = f"{path}: median {statistics.median(times):.1f} ms, " \
                   f"max {max(times):.1f} ms, {size:,} bytes, " \
                   f"{packed:,} gzip"
            if etag and path.endswith((".json", ".ics")):
                again = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    answer = client.get(path, headers={"If-None-Match": etag})
                    again.append((time.perf_counter() - started) * 1000)
                line += f"; {answer.status_code} with If-None-Match: median " \
                        f"{statistics.median(again):.1f} ms"
            print(line)
        print(f"(load {' '.join(f'{x:.2f}' for x in os.getloadavg())})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench federation plans",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--groups", type=int, default=GROUPS,
                        help="followed groups (default %(default)s)")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--past", type=int, default=2000)
    parser.add_argument("--listings", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--pages", default="",
                        help="comma-separated paths (default: all of them)")
    parser.add_argument("--no-plans", action="store_true", help="timings only")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
