"""/feed.json, /feed.atom, the spec they point to, and the admins' page about the feed.

The feeds are GETs that may write the id table (services.current_entries); everything else
is reading. Conditional GET: a strong ETag (SHA-256 of the body) and Last-Modified (the
last change), 304 on If-None-Match / If-Modified-Since."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import select

from lets_site.extensions import db
from lets_site.feed import services, signing
from lets_site.feed.models import FeedEntry
from lets_site.mail import external_url
from lets_site.web.security import admin_required

bp = Blueprint("feed", __name__)

CACHE_CONTROL = "public, max-age=900"
SPEC = Path(__file__).resolve().parent.parent.parent / "docs" / "feed.md"


def _conditional(body: bytes, mimetype: str, snapshot: services.Snapshot) -> Response:
    response = Response(body, content_type=f"{mimetype}; charset=utf-8")
    response.set_etag(hashlib.sha256(body).hexdigest(), weak=False)
    response.last_modified = snapshot.modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.add("Accept-Encoding")
    return response.make_conditional(request)


@bp.route("/feed.json")
def json_feed() -> Response:
    snapshot = services.build()
    return _conditional(snapshot.body, services.MEDIA_TYPE, snapshot)


@bp.route("/feed.atom")
def atom_feed() -> Response:
    snapshot = services.build()
    return _conditional(services.atom(snapshot), "application/atom+xml", snapshot)


@bp.route("/feed/spec")
def spec() -> Response:
    """docs/feed.md, the format's description (the feed's ``_lets.about``)."""
    if not SPEC.exists():
        abort(404)
    response = Response(SPEC.read_bytes(), content_type="text/markdown; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/admin/feed")
@admin_required
def admin() -> str:
    key = signing.load_private_key()
    entries = list(db.session.scalars(select(FeedEntry)))
    return render_template(
        "feed/admin.html",
        json_url=external_url("feed.json_feed"), atom_url=external_url("feed.atom_feed"),
        public_key=signing.public_key_text(key) if key is not None else None,
        key_id=signing.key_id(key) if key is not None else None,
        key_path=str(signing.key_path()),
        counts=sorted(services.all_kinds(entries).items()),
        tombstone_days=services.tombstone_days(),
        max_bytes=int(current_app.config["FEED_MAX_BYTES"]),
    )
