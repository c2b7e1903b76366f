"""In this folder the app carries the test-only sample feature, passed to create_app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import make_test_app
from tests.sample.feature import FEATURE


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    yield from make_test_app(request, tmp_path, monkeypatch, features=[FEATURE])
