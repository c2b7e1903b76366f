"""Migration 0020_hub fills the folded search text of items merged before it."""

from __future__ import annotations

from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from lets_site.extensions import db

pytestmark = pytest.mark.real_commits


def _empty() -> None:
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_upgrade_fills_the_search_text_of_merged_items(app: Any) -> None:
    directory = app.extensions["migrate"].directory
    _empty()
    try:
        upgrade(directory=directory, revision="0018_federation")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO federation_feed (id, slug, feed_url, status, health, reason, "
                "group_name, group_info, errors, next_fetch_at, created_at) VALUES (1, "
                "'ieper', 'https://ieper.example/feed.json', 'active', 'ok', '', '', '{}', "
                "0, '2026-12-01 10:00:00', '2026-12-01 10:00:00')"))
            conn.execute(text(
                "INSERT INTO federation_item (feed_id, item_id, type, revision, deleted, url, "
                "title, content_text, data, merged_at) VALUES (1, 'urn:uuid:1', 'book', 1, "
                ":no, 'https://ieper.example/books/1', 'Één boek', 'Über Café', "
                "'{\"book_authors\": \"Gérard Rève\"}', '2026-12-01 10:00:00')"),
                {"no": False})
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            folded = conn.execute(text("SELECT search_text FROM federation_item")).scalar()
        assert folded == "een boek uber cafe gerard reve"
    finally:
        _empty()
