"""The site's own feed on the demo's data (every item type): valid against the schema,
and not one member's e-mail, phone or full name in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lets_site import create_app
from lets_site.demo import build_demo
from lets_site.extensions import db
from lets_site.members.models import Member

pytestmark = [pytest.mark.real_commits, pytest.mark.slow]

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" /
                     "feed.schema.json").read_text())


def test_demo_feed_is_valid_and_private(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/demo.sqlite3",
                      "BASE_URL": "https://ieper.lets.example", "SECRET_KEY": "x" * 32,
                      "TRUSTED_HOSTS": ["127.0.0.1"]})
    with app.app_context():
        build_demo()
        members = list(db.session.query(Member))
        secrets = [s for m in members for s in (m.email, m.phone) if s]
        secrets += [m.full_name for m in members
                    if m.full_name and m.full_name != m.display_name]
        body = app.test_client().get("/feed.json", headers={"Host": "127.0.0.1"})
        assert body.status_code == 200
        text = body.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    feed = json.loads(text)
    jsonschema.Draft202012Validator(SCHEMA).validate(feed)
    assert {i["_lets"]["type"] for i in feed["items"]} == {"offer", "want", "event", "book",
                                                           "partner"}
    assert len(text.encode()) <= 1024 * 1024
    leaked = [s for s in secrets if s in text]
    assert not leaked, leaked[:5]
    assert all(i["url"].startswith("https://ieper.lets.example/") for i in feed["items"])
