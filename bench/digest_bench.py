"""Digest benchmark (not a test): the weekly digest for many members with many new items,
built and handed to a real SMTP server on 127.0.0.1.

    .venv/bin/python bench/digest_bench.py                       # 300 members, 200 items
    .venv/bin/python bench/digest_bench.py --members 300 --items 200 \
        --database-url postgresql://postgres@127.0.0.1:55432/lets_d

It makes a fresh database with the members (a third each in Dutch, French and English,
all with an e-mail address), new offers and wants (70%), events (15%) and books (15%)
made this week through the features' own services, then times:

1. ``lets-site digest send``'s work (``digests.commands.send_all``, one transaction per
   member, outbox mode "cron": nothing is sent yet): building every digest from the
   contract's items as that member may see them;
2. handing the queued mail to an aiosmtpd server on 127.0.0.1 (``mail.send_due``);
3. the floor: the same number of plain mails of the same size handed to the same server.

The goal (issue 13) is under a minute for 1 and 2 together.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(members: int, items: int, database_url: str | None) -> dict[str, Any]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    class Counter(Sink):
        def __init__(self) -> None:
            self.count = 0
            self.size = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.count += 1
            self.size += len(envelope.content)
            return "250 OK"

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LETS_INSTANCE"] = tmp
        from sqlalchemy import func, select
        from werkzeug.security import generate_password_hash

        from lets_site import create_app
        from lets_site.books import services as books
        from lets_site.database import utcnow, write_transaction
        from lets_site.digests import commands
        from lets_site.events import services as events
        from lets_site.events.services import EventData
        from lets_site.extensions import db
        from lets_site.mail import Mail, OutboxMail, send_after_commit, send_due
        from lets_site.members.models import Member, Role, Status
        from lets_site.offers.models import Listing, ListingVisibility, State

        handler = Counter()
        port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        url = database_url or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"SECURE_COOKIES": False, "DATABASE_URL": url,
                          "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                          "MAIL_SEND_MODE": "cron", "BASE_URL": "https://lets.example",
                          "MAIL_DEFAULT_SENDER": "lets@lets.example"})
        try:
            with app.app_context():
                db.drop_all()
                db.create_all()
                hashed = generate_password_hash("bench only", method="pbkdf2:sha256:1000")
                with write_transaction():
                    people = []
                    for n in range(members):
                        member = Member(account_code=f"BE-{n:04d}", display_name=f"Lid {n}",
                                        full_name=f"Lid Nummer {n}",
                                        email=f"lid{n}@example.org",
                                        locale=("nl", "fr", "en")[n % 3],
                                        status=Status.ACTIVE, password_hash=hashed,
                                        joined_on=date(2024, 1, 1))
                        member.set_roles([Role.MEMBER, Role.ORGANISER] if n < 5
                                         else [Role.MEMBER])
                        people.append(member)
                    db.session.add_all(people)
                    db.session.commit()
                    now = utcnow()
                    n_events = items * 15 // 100
                    n_books = items * 15 // 100
                    n_listings = items - n_events - n_books
                    for i in range(n_listings):
                        owner = people[i % members]
                        db.session.add(Listing(
                            kind="offer" if i % 3 else "want",
                            title=f"Aanbod nummer {i} met een wat langere titel",
                            description="Een beschrijving.", state=State.PUBLISHED,
                            visibility=(ListingVisibility.PUBLIC if i % 2
                                        else ListingVisibility.MEMBERS),
                            valid_until=now + timedelta(days=60), price_basis="agree",
                            owner_member_id=owner.id, contact_member_id=owner.id,
                            created_at=now - timedelta(minutes=i + 1),
                            updated_at=now - timedelta(minutes=i + 1)))
                    for i in range(n_events):
                        events.create_event(people[i % 5], EventData(
                            title=f"Activiteit {i}",
                            start_date=date.today() + timedelta(days=3 + i % 20),
                            start_time=clock(19, 30)))
                    for i in range(n_books):
                        books.create_book(people[i % members],
                                          books.BookData(title=f"Boek {i}", authors="Auteur"))
                    db.session.commit()

                started = time.perf_counter()
                report = commands.send_all()
                built = time.perf_counter() - started
                queued = db.session.scalar(select(func.count()).select_from(OutboxMail))
                sample = db.session.scalars(select(OutboxMail).limit(1)).first()
                body_size = len(sample.body) + len(sample.html or "") if sample else 0
                db.session.rollback()

                started = time.perf_counter()
                while send_due(app).sent:
                    pass
                handed = time.perf_counter() - started
                digests_arrived = handler.count

                # The floor: plain mails of the same size to the same server.
                with write_transaction():
                    for n in range(queued or 0):
                        send_after_commit(Mail(to=f"lid{n}@example.org", subject="Floor",
                                               body="x" * body_size))
                    db.session.commit()
                started = time.perf_counter()
                while send_due(app).sent:
                    pass
                floor = time.perf_counter() - started
        finally:
            controller.stop()
    return {"members": members, "items": items, "queued": report["queued"],
            "arrived": digests_arrived, "build_s": built, "send_s": handed,
            "total_s": built + handed, "floor_s": floor, "body_bytes": body_size,
            "database": "PostgreSQL" if database_url else "SQLite"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    result = run(args.members, args.items, args.database_url)
    print(f"{result['database']}: {result['members']} members, {result['items']} new items, "
          f"{result['queued']} digests queued, {result['arrived']} arrived "
          f"({result['body_bytes']:,} characters of text + HTML each)")
    print(f"  build (digest send) {result['build_s']:.1f} s, hand to SMTP "
          f"{result['send_s']:.1f} s, total {result['total_s']:.1f} s (goal < 60 s); "
          f"floor: as many plain mails of that size {result['floor_s']:.1f} s")


if __name__ == "__main__":
    main()
