"""Book search benchmark (not a test): the search a page makes, in-process, over many
books, next to the offers search on the same machine in the same run.

    .venv/bin/python bench/books_bench.py                 # 20,000 books, SQLite
    .venv/bin/python bench/books_bench.py --sizes 2000 --database-url postgresql://...

For each size it builds a fresh instance (the demo, then generated books inserted in bulk,
each title with two generated words and most with a valid ISBN), then times
``books.services.browse`` (first page of 20, anonymous visitor and member) for title
words, authors, a note's word, an ISBN typed with hyphens or part of one, a generated rare
word, a word with a language filter and no query (ranked full-text search, since
``0014_book_swaps``), and the
same call of offers (``offers.services.browse``, full-text search) over the demo's
listings, same process, for the time class.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = 15


def _words(rng: random.Random, n: int) -> list[str]:
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(3)))
    return sorted(words)


def run(size: int, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LETS_INSTANCE"] = tmp
        from sqlalchemy import insert, select

        from lets_site import create_app
        from lets_site.books import services
        from lets_site.books.demo import NOTES, TITLES, valid_isbn
        from lets_site.books.models import Book
        from lets_site.database import utcnow, write_transaction
        from lets_site.demo import build_demo
        from lets_site.extensions import db
        from lets_site.members.models import Member, Status
        from lets_site.offers import services as offers
        from lets_site.search import normalise_text

        app = create_app({"SECURE_COOKIES": False, "DATABASE_URL": database_url})
        rng = random.Random(size)
        vocabulary = _words(rng, 2000)
        with app.app_context():
            if database_url:
                db.drop_all()
                with db.engine.begin() as connection:
                    connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            build_demo()
            with write_transaction():
                members = [m.id for m in db.session.query(Member).filter(
                    Member.status == Status.ACTIVE)]
                now = utcnow()
                batch: list[dict[str, Any]] = []
                isbn_sample = ""
                from datetime import timedelta

                for n in range(size - db.session.query(Book).count()):
                    title, authors, language, genre = TITLES[n % len(TITLES)]
                    title = f"{title} {' '.join(rng.sample(vocabulary, 2))}"
                    number = valid_isbn(rng, language) if n % 5 else None
                    if n == size // 2 and number:
                        isbn_sample = number
                    created = now - timedelta(minutes=rng.randint(0, 500_000))
                    note = NOTES[n % len(NOTES)]
                    batch.append({
                        "uuid": f"{n:08d}-0000-4000-8000-000000000000", "title": title,
                        "authors": authors, "isbn": number, "language": language,
                        "genre": genre, "condition": "good", "note": note,
                        "mode": ("give", "lend", "swap")[n % 3], "price": None,
                        "visibility": "public" if n % 5 < 2 else "members",
                        "state": "available" if n % 20 else "shelved",
                        "owner_member_id": rng.choice(members),
                        "search_text": normalise_text("\n".join([title, number or ""])),
                        "search_authors": normalise_text(authors),
                        "search_note": normalise_text(note),
                        "created_at": created, "updated_at": created,
                    })
                    if len(batch) == 5000:
                        db.session.execute(insert(Book), batch)
                        batch = []
                if batch:
                    db.session.execute(insert(Book), batch)
                db.session.commit()
            if not isbn_sample:
                isbn_sample = db.session.scalar(select(Book.isbn).where(
                    Book.isbn.is_not(None)).limit(1)) or ""
            hyphenated = f"{isbn_sample[:3]}-{isbn_sample[3:5]}-{isbn_sample[5:9]}-" \
                         f"{isbn_sample[9:12]}-{isbn_sample[12]}"
            member = db.session.get(Member, members[0])
            queries = {
                "title word (avonden)": "avonden",
                "author (claus)": "claus",
                "accented (belgie)": "belgie",
                "rare generated word": vocabulary[1000],
                "ISBN with hyphens": hyphenated,
                "start of an ISBN (978-90-...)": hyphenated[:9],
                "middle of an ISBN": hyphenated[4:13],
                "a word of the note (vergeeld)": "vergeeld",
                "title word and language filter": "avonden",
                "no query (newest)": "",
            }
            results: dict[str, Any] = {"size": db.session.query(Book).count()}
            with app.test_request_context():
                for label, q in queries.items():
                    for viewer_label, viewer in (("visitor", None), ("member", member)):
                        times = []
                        for _ in range(ROUNDS):
                            start = time.perf_counter()
                            page = services.browse(viewer, services.Filters(
                                q=q, language="nl" if "filter" in label else ""))
                            times.append((time.perf_counter() - start) * 1000)
                            db.session.rollback()
                        results[f"{label}, {viewer_label}"] = (
                            statistics.median(times), len(page.items))
                for q in ("soep", "fiets"):
                    times = []
                    for _ in range(ROUNDS):
                        start = time.perf_counter()
                        offers.browse(None, offers.Filters(q=q))
                        times.append((time.perf_counter() - start) * 1000)
                        db.session.rollback()
                    results[f"offers search '{q}' (demo listings), visitor"] = (
                        statistics.median(times), None)
            return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    for size in args.sizes:
        results = run(size, args.database_url)
        print(f"books: {results.pop('size')}")
        for label, (ms, found) in results.items():
            print(f"  {label:45s} median {ms:6.1f} ms" + (f"  ({found} on page 1)"
                                                          if found is not None else ""))


if __name__ == "__main__":
    main()
