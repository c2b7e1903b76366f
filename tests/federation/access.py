from __future__ import annotations

from typing import Any

from tests.access import ADMINS_ONLY, Table, everyone


def _values(_people: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import select

    from lets_site.extensions import db
    from lets_site.federation import services
    from lets_site.federation.models import Feed, SharedScript

    # Asked once per role in some walks: the feed is made once.
    if db.session.scalar(select(Feed.id).where(Feed.slug == "route-table")) is None:
        feed = services.add_feed(None, "route-table", "https://route-table.example/feed.json")
        db.session.add(SharedScript(feed_id=feed.id, language="nl", title="Kennismaking",
                                    title_key="kennismaking", subject="Hallo",
                                    body="Beste {contact_name}"))
        db.session.commit()
    script_id = db.session.scalar(
        select(SharedScript.id).join(Feed, Feed.id == SharedScript.feed_id)
        .where(Feed.slug == "route-table"))
    return {"feed": "route-table", "shared_script": script_id}


TABLE = Table(
    routes={
        "/agenda/": everyone(200),
        "/agenda.ics": everyone(200),
        "/admin/federation": ADMINS_ONLY,
        "/admin/federation/{feed}": ADMINS_ONLY,
        # The hub pages answer when at least one group is followed; a {feed} in the path
        # makes the walk follow the table's group first (the query is harmless).
        "/groups/?from={feed}": everyone(200),
        "/groups/{feed}": everyone(200),
        "/groups/{feed}/scripts/{shared_script}": everyone(200),
        "/search/?group={feed}": everyone(200),
        "/federation/feed.json?from={feed}": everyone(200),
    },
    post_only={
        "/admin/federation/<slug>/pause",
        "/admin/federation/<slug>/resume",
        "/admin/federation/<slug>/remove",
        "/admin/federation/decisions/<int:decision_id>/accept",
        "/admin/federation/decisions/<int:decision_id>/refuse",
    },
    rules={"/admin/federation/<slug>": "/admin/federation/{feed}",
           "/groups/": "/groups/?from={feed}",
           "/groups/<slug>": "/groups/{feed}",
           "/groups/<slug>/scripts/<int:script_id>": "/groups/{feed}/scripts/{shared_script}",
           "/search/": "/search/?group={feed}",
           "/federation/feed.json": "/federation/feed.json?from={feed}"},
    values=_values,
)
