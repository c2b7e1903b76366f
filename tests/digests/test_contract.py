"""The digest reads only the contract's items: a feature it has never heard of appears in
it, under the label the feature declares."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lets_site import features as f
from lets_site import wiring
from lets_site.digests import services
from lets_site.extensions import db
from tests.conftest import make_test_app
from tests.digests.conftest import Collector, text_of
from tests.sample.feature import CREATED
from tests.sample.feature import FEATURE as SAMPLE

LABELLED = f.Feature(name="labelled", items=lambda viewer, limit: [
    f.Item(id="urn:labelled:1", kind="poem", title="Een gedicht", url="https://x.example/1",
           visibility=f.PUBLIC, created=CREATED, updated=CREATED)][:limit],
    item_kinds={"poem": "Poems"})


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    yield from make_test_app(request, tmp_path, monkeypatch, features=[SAMPLE, LABELLED])


def test_a_new_features_items_reach_the_digest_without_code_here(
        app: Any, smtp: Collector, make_member: Any) -> None:
    reader = make_member(email="r@example.org", locale="en")
    after = datetime(2100, 1, 2, tzinfo=UTC)
    assert services.queue_digest(reader, after) is not None
    db.session.commit()
    (message,) = smtp.messages
    body = text_of(message)
    # Its label where the feature declares one, its kind where it does not.
    assert "== Poems (1) ==" in body and "Een gedicht" in body
    assert "== sample (2) ==" in body
    assert "Sample members item" in body and "Sample public item" in body


def test_every_kind_the_site_publishes_has_a_label(app: Any) -> None:
    labels = f.item_kind_labels()
    site = {label for feature in wiring.features() for label in feature.item_kinds}
    assert {"offer", "want", "event", "book", "partner", "collaboration", "organisation",
            "news"} <= site
    assert all(str(labels[kind]) for kind in site)


def _personal(viewer: Any, limit: int) -> list[f.Item]:
    if viewer is None:
        return []
    made = datetime.now(UTC) - timedelta(hours=1)
    return [f.Item(id=f"urn:personal:{viewer.id}", kind="letter",
                   title=f"Letter for {viewer.email}", url="https://x.example/letter",
                   visibility=f.MEMBERS_ONLY, created=made, updated=made)][:limit]


PERSONAL = f.Feature(name="personal", items=_personal, personal_items=True)


@pytest.mark.parametrize("personal", [True, False])
def test_personal_items_are_read_for_each_member(
        request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        personal: bool) -> None:
    feature = PERSONAL if personal else f.Feature(name="personal", items=_personal)
    for app in make_test_app(request, tmp_path, monkeypatch, features=[feature]):
        from tests.factories import make_member
        ann = make_member(email="ann@example.org")
        bob = make_member(email="bob@example.org")
        cache = services.ItemsCache()
        titles = {m.email: [i.title for i in cache.new_items(m, datetime(2000, 1, 1,
                                                                          tzinfo=UTC))]
                  for m in (ann, bob)}
        if personal:  # each their own letter
            assert titles == {"ann@example.org": ["Letter for ann@example.org"],
                              "bob@example.org": ["Letter for bob@example.org"]}
        else:  # undeclared: one read serves every member with the same roles
            assert titles["bob@example.org"] == ["Letter for ann@example.org"]
        assert app is not None
