"""In this folder the app carries the test-only sample feature, passed to create_app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale

from lets_site import create_app
from lets_site.extensions import db
from tests.conftest import app_config
from tests.sample.feature import FEATURE


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("LETS_INSTANCE", str(tmp_path / "instance"))
    app = create_app(app_config(tmp_path), features=[FEATURE])
    with app.app_context(), force_locale("en"):
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
