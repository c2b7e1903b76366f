"""Factories for offers and wants."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from lets_site.database import utcnow
from lets_site.extensions import db
from lets_site.offers import services
from lets_site.offers.models import Category, Listing, ListingVisibility, State


def make_category(name: str = "Huis en tuin", parent: Category | None = None,
                  **names: str) -> Category:
    slug = services._category_slug(name)
    category = Category(slug=slug, name_nl=name, name_fr=names.get("fr", name),
                        name_en=names.get("en", name), parent_id=parent.id if parent else None)
    db.session.add(category)
    db.session.commit()
    return category


def make_listing(owner: Any, title: str = "Fietsherstelling", **overrides: Any) -> Listing:
    """A published listing by a member, or by an organisation (owner=org, contact=...)."""
    from lets_site.organisations.models import Organisation

    category = overrides.pop("category", None)
    contact = overrides.pop("contact", None)
    values: dict[str, Any] = {
        "kind": "offer",
        "title": title,
        "description": overrides.pop("description", "Ik help je graag."),
        "state": State.PUBLISHED,
        "visibility": ListingVisibility.MEMBERS,
        "valid_until": utcnow() + timedelta(days=30),
        "price_basis": "hour",
        "price_amount": 100,
    }
    if isinstance(owner, Organisation):
        values["owner_org_id"] = owner.id
        values["contact_member_id"] = (contact or owner.intermediaries[0].member).id
    else:
        values["owner_member_id"] = owner.id
        values["contact_member_id"] = owner.id
    values.update(overrides)
    listing = Listing(**values)
    listing.category_id = category.id if category else None
    listing.search_text = services.search_text_for(listing.title, listing.description,
                                                   category)
    db.session.add(listing)
    db.session.commit()
    return listing


@pytest.fixture
def listing_factory(app: Flask) -> Callable[..., Listing]:
    return make_listing


@pytest.fixture
def category_factory(app: Flask) -> Callable[..., Category]:
    return make_category


@pytest.fixture
def request_ctx(app: Flask) -> Any:
    """Services format translated messages, which needs a request (for the locale)."""
    with app.test_request_context("/"):
        yield
