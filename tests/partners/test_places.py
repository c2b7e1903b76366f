"""A partner page is a panel place: what another feature offers to ``features.PARTNER``
(events will offer a partner's events) shows on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lets_site import features as f
from tests.conftest import make_test_app
from tests.html import select_text
from tests.partners.helpers import make_partner

# A feature that exists only here and offers one panel to partner pages (it borrows the
# home page's partners partial to show the page's own partner).
OTHER = f.Feature(name="other", panels=[
    f.Panel(f.PARTNER, "partners/_home.html",
            lambda partner, _viewer: {"partners": [partner]}),
])


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    yield from make_test_app(request, tmp_path, monkeypatch, features=[OTHER])


def test_partner_page_shows_the_panels_offered_to_it(client: Any,
                                                     people: dict[str, Any]) -> None:
    partner = make_partner(people["admin"], "Borderland festival")
    page = client.get(f"/partners/{partner.slug}")
    assert "Borderland festival" in select_text(page, "#home-partners")
    # A member organisation without a partner record has no partner panels.
    assert "home-partners" not in client.get("/partners/hedera").get_data(as_text=True)
