"""The feed feature: /feed.json and /feed.atom, the public items of every feature."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from lets_site import features as f
from lets_site.feed import commands, models, services
from lets_site.feed.views import bp

FEATURE = f.Feature(
    name="feed",
    blueprint=bp,
    admin=[f.AdminLink("feed.admin", _l("Group feed"), order=80)],
    commands=commands.COMMANDS,
    setup=services.setup,
    portable=f.Portable(tables=(models.FeedEntry,)),
)
