"""The federation aggregator: follows other groups' feeds (docs/federation.md)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.database import utcnow
from lets_site.federation import (  # noqa: F401 - hub_views, script_views: their routes
    agenda,
    commands,
    hub_views,
    models,
    script_views,
    scripts,
    services,
)
from lets_site.federation.views import bp
from lets_site.settings import zone

# The aggregator's settings and their defaults (README, "Configuration"; any of them can
# be set in instance/config.py or as LETS_<NAME>).
DEFAULTS: dict[str, Any] = {
    # Fetch worker threads per `lets-site federation fetch`. They mostly wait on the
    # network (a dead feed holds one for the read timeout), so there are more of them than
    # cores; each holds at most one body (FEDERATION_MAX_BYTES). docs/federation.md.
    "FEDERATION_WORKERS": 32,
    "FEDERATION_PER_HOST": 2,  # requests to one host at once
    "FEDERATION_CONNECT_TIMEOUT": 5.0,  # seconds
    "FEDERATION_READ_TIMEOUT": 10.0,  # seconds without a byte
    "FEDERATION_DEADLINE": 30.0,  # seconds for a whole feed, redirects included
    "FEDERATION_MAX_BYTES": 2 * 1024 * 1024,  # body cap, counted after decompression
    "FEDERATION_FEED_MAX_BYTES": 1024 * 1024,  # the merged feed's body cap (1 MiB)
    "FEDERATION_MAX_REDIRECTS": 3,
    "FEDERATION_INTERVAL_SECONDS": 1800,  # between fetches of a healthy feed
    "FEDERATION_BACKOFF_SECONDS": 300,  # first wait after an error, doubled each time
    # First wait after a fetch that timed out (no answer within the read timeout or the
    # deadline), doubled each time: a dead site is not waited on at every sweep.
    "FEDERATION_TIMEOUT_BACKOFF_SECONDS": 3600,
    "FEDERATION_MAX_BACKOFF_SECONDS": 86400,  # the longest wait (24 h)
    "FEDERATION_ALLOW_HTTP": False,  # plain http feeds (LAN set-ups and tests)
    # Networks the fetcher may reach although they are private (e.g. ["127.0.0.0/8"]).
    "ALLOWED_PRIVATE_NETWORKS": [],
    # This site is the federation: link the hub pages (groups, search, agenda, merged
    # feed) in every page's footer. They answer at their URLs either way.
    "FEDERATION_HUB": False,
}


def _setup(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)


def _neighbours(_subject: Any, _viewer: Any) -> dict[str, Any] | None:
    """On the events page: the followed groups' next events, when the site follows any."""
    if not agenda.follows_groups():
        return None
    rows = agenda.neighbours(zone(), utcnow())
    return {"rows": rows} if rows else None


AUDIT_ACTIONS = {
    "federation.add": _l("Followed a group's feed"),
    "federation.remove": _l("Stopped following a group's feed"),
    "federation.paused": _l("Paused a followed feed"),
    "federation.active": _l("Resumed a followed feed"),
    "federation.accept": _l("Accepted a change held from a followed feed"),
    "federation.refuse": _l("Refused a change held from a followed feed"),
}


def _hub_links(_subject: Any, _viewer: Any) -> dict[str, Any] | None:
    return {"hub": True} if current_app.config.get("FEDERATION_HUB") else None


FEATURE = f.Feature(
    name="federation",
    blueprint=bp,
    menu=[f.MenuLink("federation.agenda", _l("Common agenda"), order=16,
                     when=agenda.follows_groups)],
    panels=[f.Panel(f.EVENTS, "federation/_neighbours.html", _neighbours, order=50),
            f.Panel(f.FOOTER, "federation/_hub_links.html", _hub_links, order=60)],
    admin=[f.AdminLink("federation.index", _l("Followed feeds"), order=80,
                       count=services.pending_count)],
    commands=commands.COMMANDS,
    audit_actions=AUDIT_ACTIONS,
    setup=_setup,
    # The contact scripts the followed groups share, for the partners' scripts page.
    linkables=[f.Linkable(f.SHARED_SCRIPTS, subject=scripts.find, coming=scripts.coming)],
    portable=f.Portable(
        tables=(models.Feed, models.Decision),
        left_out={"federation_item": "a cache of the other groups' feeds, fetched again",
                  "federation_fetch": "the log of fetches, a cache",
                  "federation_script_source": "where the followed groups' shared contact "
                                              "scripts are, fetched again",
                  "federation_script": "a cache of the followed groups' shared contact "
                                       "scripts, fetched again"},
    ),
)
