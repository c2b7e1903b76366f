"""``lets-site federation ...``: the registry on the command line and the fetch sweep."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from lets_site.database import write_transaction
from lets_site.domain import DomainError
from lets_site.extensions import db
from lets_site.federation import services, sweep

federation = AppGroup("federation", help="Follow other groups' feeds (the aggregator).")


@federation.command("add")
@click.argument("slug")
@click.argument("feed_url")
@click.option("--key", default=None, help="The group's Ed25519 public key (base64).")
def add(slug: str, feed_url: str, key: str | None) -> None:
    """Follow the feed at FEED_URL of the group SLUG (fetched at the next sweep)."""
    with write_transaction():
        try:
            services.add_feed(None, slug, feed_url, key)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
        db.session.commit()
    click.echo(f"Following {slug}: {feed_url}")


@federation.command("remove")
@click.argument("slug")
def remove(slug: str) -> None:
    """Stop following SLUG and forget its items."""
    with write_transaction():
        try:
            services.remove_feed(None, slug)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
        db.session.commit()
    click.echo(f"No longer following {slug}.")


@federation.command("list")
def list_feeds() -> None:
    """The followed feeds: slug, status, health, items, next fetch, URL."""
    counts = services.item_counts()
    for feed in services.feeds():
        click.echo("\t".join((
            feed.slug, feed.status, feed.health, str(counts.get(feed.id, 0)),
            feed.next_fetch_at.isoformat(timespec="seconds"), feed.feed_url,
            feed.reason[:80])))


@federation.command("fetch")
@click.option("--workers", type=int, default=None,
              help="Worker threads (default: FEDERATION_WORKERS).")
def fetch_due(workers: int | None) -> None:
    """Fetch every feed that is due (run it from cron or a systemd timer)."""
    report = sweep.run(current_app._get_current_object(),  # type: ignore[attr-defined]
                       workers=workers)
    summary = ", ".join(f"{key} {n}" for key, n in sorted(report.outcomes.items()))
    click.echo(f"Fetched {report.fetched} feeds in {report.seconds:.1f} s"
               + (f": {summary}" if summary else "."))


COMMANDS = (federation,)
