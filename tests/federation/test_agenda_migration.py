"""Migration 0021_agenda fills the end and kind of the events merged before it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from lets_site.extensions import db
from tests.test_migrations import _empty

pytestmark = pytest.mark.real_commits


def test_0021_fills_end_and_kind_of_merged_events(app: Any) -> None:
    _empty(app)
    directory = app.extensions["migrate"].directory
    upgrade(directory=directory, revision="0018_federation")
    timed = {"timezone": "Europe/Brussels", "start": "2027-05-01T10:00:00+02:00",
             "end": "2027-05-01T12:30:00+02:00", "kind": "market", "status": "scheduled"}
    all_day = {"timezone": "America/New_York", "all_day": True, "start_date": "2027-05-01",
               "end_date": "2027-05-02", "status": "scheduled"}
    no_end = {"timezone": "Europe/Brussels", "start": "2027-05-03T10:00:00+02:00"}
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO federation_feed (id, slug, feed_url, status, health, reason, "
            "group_name, group_info, errors, next_fetch_at, created_at) VALUES (1, 'ieper', "
            "'https://ieper.example/feed.json', 'active', 'ok', '', '', '{}', 0, "
            ":now, :now)"), {"now": datetime(2026, 12, 1)})
        for n, (kind, data, start) in enumerate([
                ("event", timed, datetime(2027, 5, 1, 8, 0)),
                ("event", all_day, datetime(2027, 5, 1, 4, 0)),
                ("event", no_end, datetime(2027, 5, 3, 8, 0)),
                ("offer", {"category": "garden"}, None)], start=1):
            conn.execute(text(
                "INSERT INTO federation_item (id, feed_id, item_id, type, revision, deleted, "
                "url, title, content_text, data, start_at, merged_at) VALUES (:id, 1, :item, "
                ":type, 1, :false, 'https://ieper.example/x', 't', '', :data, :start, :now)"),
                {"id": n, "item": f"urn:uuid:{n}", "type": kind, "false": False,
                 "data": json.dumps(data), "start": start, "now": datetime(2026, 12, 1)})
    upgrade(directory=directory)
    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, end_at, kind FROM federation_item ORDER BY id")).all()

    def utc(value: Any) -> Any:
        if value is None:
            return None
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    assert [(r[0], utc(r[1]), r[2]) for r in rows] == [
        (1, datetime(2027, 5, 1, 10, 30, tzinfo=UTC), "market"),
        # The midnight after the last day, in New York.
        (2, datetime(2027, 5, 3, 4, 0, tzinfo=UTC), None),
        (3, datetime(2027, 5, 3, 8, 0, tzinfo=UTC), None),
        (4, None, None),
    ]
    _empty(app)
