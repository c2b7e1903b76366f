"""The envelope of a LETS feed (JSON Feed 1.1 with the ``_lets`` extension, docs/feed.md),
written by the group's own feed (``lets_site/feed/``) and by the federation's merged feed
(``lets_site/federation/``): the version, the site's title and addresses, the ``_lets``
header and the group block. The items are each feed's own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lets_site import features
from lets_site.mail import external_url
from lets_site.settings import get_settings
from lets_site.slugs import slugify

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
PROFILE = "1.0"


def as_utc(value: datetime) -> datetime:
    """A stored time in UTC (a naive one is UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_text(value: datetime) -> str:
    """A time as the feed writes it: RFC 3339 in UTC, to the second."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def unit_code() -> str:
    site = get_settings()
    return slugify(site.text("unit_singular", site.default_language)) or "unit"


def group_block() -> dict[str, Any]:
    """This site's group block. No member count: it would change the body without a change
    of Last-Modified (readers that send only If-Modified-Since would miss it). The features'
    optional fields (``features.GroupField``: the shared contact scripts) come last."""
    site = get_settings()
    home = external_url("site.home")
    extra, _changed = features.group_fields()
    return {
        "slug": site.slug,
        "name": site.group_name,
        "url": home,
        "timezone": site.timezone,
        "area": {"locality": site.locality, "region": site.region, "country": site.country},
        "unit": {"code": unit_code(),
                 "name": site.text("unit_plural", site.default_language)},
        "contact_url": home,
        **extra,
    }


def envelope(feed_endpoint: str, modified: datetime, tombstone_days: int,
             items: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole feed around ``items``: this site's title, language and addresses (from
    BASE_URL), the ``_lets`` header stamped ``modified``, and the group block."""
    site = get_settings()
    language = f"{site.default_language}-{site.country}" if site.country else \
        site.default_language
    return {
        "version": JSON_FEED_VERSION,
        "title": site.group_name,
        "home_page_url": external_url("site.home"),
        "feed_url": external_url(feed_endpoint),
        "language": language,
        "_lets": {
            "about": external_url("feed.spec"),
            "profile": PROFILE,
            "generated_at": utc_text(modified),
            "complete": True,
            "tombstone_days": tombstone_days,
            "group": group_block(),
        },
        "items": items,
    }
