"""The demo's content: pages in Dutch with French for some, three news items, and the
statutes as a valid PDF the demo wrote itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from lets_site.content import files
from lets_site.content.demo import statutes_pdf
from lets_site.content.models import ContentEditor, Document, NewsItem, Page
from lets_site.extensions import db


def test_statutes_pdf_is_well_formed() -> None:
    pdf = statutes_pdf("Statuten (vzw)")
    assert files.sniff(pdf) == "pdf" and pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    entries = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset):].startswith(b"%d 0 obj" % number)
    stream = re.search(rb"/Length (\d+) >>\nstream\n(.*?)\nendstream", pdf, re.S)
    assert int(stream.group(1)) == len(stream.group(2))
    assert b"Statuten \\(vzw\\)" in pdf


def test_demo_has_pages_news_and_the_statutes(tmp_path: Path, monkeypatch: Any) -> None:
    from lets_site import create_app
    from lets_site.demo import build_demo

    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3"})
    with app.app_context():
        build_demo()
        slugs = set(db.session.scalars(select(Page.slug)))
        assert {"how-lets-works", "house-rules", "how-to-join", "faq"} <= slugs
        rules = db.session.scalar(select(Page).where(Page.slug == "house-rules"))
        assert rules.text_in("fr") is not None and "reglement" in rules.title("nl").lower()
        assert db.session.query(NewsItem).count() == 3
        statutes = db.session.scalar(select(Document))
        assert statutes.visibility == "members"
        assert files.path_of(statutes.stored_name).read_bytes().startswith(b"%PDF-")
        assert db.session.query(ContentEditor).count() == 1
        client = app.test_client()
        assert "/p/house-rules" in client.get("/join").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
